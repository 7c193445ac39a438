"""``socobs cube``: the store's history and a plain Zarr export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli._app import console
from pipeline.cli.options import Snapshot, Store, Var
from pipeline.cli.settings import work_paths

app = typer.Typer(help="The cube store: history and export.", no_args_is_help=True)


@app.command("log")
def cube_log_cmd(
    store: Annotated[
        str | None,
        typer.Argument(metavar="STORE", help="Store path or URI (default: VAR/store, or $SOCOBS_STORE)."),
    ] = None,
    var: Var = None,
) -> None:
    """List the commits of the store, newest first."""
    from pipeline.store import cube_log

    table = Table("snapshot", "written", "message")
    for e in cube_log(store or work_paths(var).store):
        table.add_row(e.snapshot_id, e.written_at.strftime("%Y-%m-%d %H:%M:%S"), e.message)
    console.print(table)


@app.command("export")
def cube_export(
    dest: Annotated[Path, typer.Argument(metavar="DEST", help="New directory for the plain Zarr v3 copy.")],
    store: Store = None,
    snapshot: Snapshot = None,
    var: Var = None,
) -> None:
    """Write a plain Zarr v3 copy of a snapshot's cube for tools without Icechunk."""
    from pipeline.store import export_cube

    console.print(f"[green]exported[/] {export_cube(store or work_paths(var).store, dest, snapshot)}")
