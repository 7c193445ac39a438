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


@app.command("index")
def stac_index(
    sources: Annotated[
        list[str],
        typer.Argument(help="Rasters (COG, GeoTIFF, VRT): files, folders (searched recursively) or URLs."),
    ],
    out: Annotated[Path, typer.Option("--out", help="The new catalog folder (new or empty).")],
    collection: Annotated[
        str, typer.Option(help="The collection id (also the items' id prefix).")
    ] = "rasters",
    title: Annotated[str | None, typer.Option(help="The collection's title.")] = None,
    license: Annotated[str, typer.Option(help="The data's licence (SPDX id, or 'other').")] = "other",
    when: Annotated[
        str | None,
        typer.Option(
            "--datetime",
            help="The date of every raster: a year (2016) or a day (2016-06-30). Default: read "
            "from each file name (a year, or a YYYYMMDD_YYYYMMDD range).",
        ),
    ] = None,
) -> None:
    """Index rasters into a static STAC catalog (projection and raster extensions) that
    `socobs stac serve` serves: one asset per raster, one item per date and grid."""
    from pipeline.ingest.stac_index import build_index

    path, items = build_index(sources, out, collection, title=title, license=license, when=when)
    assets = sum(len(i.assets) for i in items)
    console.print(
        f"indexed {assets} rasters into {len(items)} items of collection {collection!r}: {path}\n"
        f"  serve it: socobs stac serve {path.parent}",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
