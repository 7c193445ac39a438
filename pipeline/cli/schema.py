"""``socobs schema``: the JSON Schemas of job files and source definitions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import app, console


@app.command("schema")
def schema(
    out: Annotated[Path, typer.Option(help="Directory for the JSON Schemas.")] = Path("catalogs/schemas"),
) -> None:
    """Write the JSON Schemas of job files and source definitions."""
    from pipeline.config import write_schemas

    for p in write_schemas(out):
        console.print(f"[green]wrote[/] {p}")
