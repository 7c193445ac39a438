"""``socobs cube``: the store's history, a plain Zarr export, and garbage collection."""

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


@app.command("gc")
def cube_gc(
    store: Store = None,
    keep: Annotated[
        int | None, typer.Option(min=1, help="Keep the newest N commits of main; expire older ones.")
    ] = None,
    older_than: Annotated[
        float | None, typer.Option(min=0, help="Expire commits older than this many days.")
    ] = None,
    grace: Annotated[
        float,
        typer.Option(
            min=0,
            help="Leave objects younger than this many minutes alone (a job writing now has "
            "chunks no commit references yet). 0 only when no job runs.",
        ),
    ] = 60,
    var: Var = None,
) -> None:
    """Expire old snapshots and delete unreferenced chunks (those of killed jobs included).

    Never expired: the tip, the newest ingest/update commit and the newest indicator commit.
    Expired snapshots can no longer be opened (`--snapshot`, `indicators --snapshot`)."""
    from datetime import timedelta

    from pipeline.store import check_writable, collect_garbage

    uri = store or work_paths(var).store
    check_writable(uri)
    res = collect_garbage(
        uri,
        keep=keep,
        older_than=None if older_than is None else timedelta(days=older_than),
        grace=timedelta(minutes=grace),
    )
    console.print(
        f"[green]gc[/] {uri}: expired {res.expired} snapshots, {res.kept} commits kept; "
        f"deleted {res.chunks_deleted} chunks ({res.bytes_deleted / 1e6:.1f} MB)",
        soft_wrap=True,
    )
