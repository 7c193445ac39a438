"""``socobs stac serve``: a catalog directory as a STAC API (rustac) until interrupted."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import console
from pipeline.cli.options import Port
from pipeline.errors import PipelineError

app = typer.Typer(help="Serve STAC catalogs.", no_args_is_help=True)


@app.command("serve")
def stac_serve(
    directory: Annotated[Path, typer.Argument(help="A STAC catalog directory (with catalog.json).")],
    port: Port = 8765,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Serve a catalog as a STAC API (rustac) until interrupted."""
    from pipeline.stac_server import start_server

    server = start_server(directory, host=host, port=port or None)
    console.print(
        f"[green]serving[/] STAC API at {server.url} (collections: {', '.join(server.collections)})"
    )
    console.print(f"  try: curl -s -X POST {server.url}/search -H 'content-type: application/json' "
                  "-d '{\"collections\":[\"demo-soilgrids\"],\"limit\":2}'")  # fmt: skip
    console.print("  Ctrl-C stops it.")
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop and server.process.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    if server.process.returncode not in (0, -2, 130, None) and not stop:
        raise PipelineError(f"rustac serve stopped unexpectedly (exit {server.process.returncode}).")
