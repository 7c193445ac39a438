"""``socobs stac serve``: a catalog directory as a STAC API (rustac) until interrupted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import console
from pipeline.cli.options import Port

app = typer.Typer(help="Serve STAC catalogs.", no_args_is_help=True)


@app.command("serve")
def stac_serve(
    directory: Annotated[Path, typer.Argument(help="A STAC catalog directory (with catalog.json).")],
    port: Port = 8765,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Serve a catalog as a STAC API (rustac) until interrupted."""
    import sys

    from pipeline.ingest.stac_server import serve_until_signalled

    def say(line: str) -> None:
        console.print(line, highlight=False, soft_wrap=True, markup=False)

    status = serve_until_signalled(directory, host=host, port=port or None, say=say)
    if status:
        sys.exit(status)  # 128+N: signal N stopped it before it was serving
