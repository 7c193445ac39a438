"""``socobs indicators`` and ``socobs export indicators``: maps, region tables and their exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import Stages, app, console, job_with, progress
from pipeline.cli.options import Cache, JobArg, Registry, Snapshot, Store, StoreOverride
from pipeline.cli.settings import cli_settings
from pipeline.errors import PipelineError

export_app = typer.Typer(help="Export published products.", no_args_is_help=True)


@app.command("indicators")
def indicators(
    job_file: JobArg,
    store: StoreOverride = None,
    full: Annotated[bool, typer.Option("--full", help="Recompute every epoch, not only new ones.")] = False,
    snapshot: Annotated[
        str | None,
        typer.Option(
            help="Recompute a past snapshot into --output (the store is not written) and "
            "compare it with what was committed from it."
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Directory for --snapshot's Zarr.")] = None,
    registry: Registry = None,
    cache: Cache = None,
) -> None:
    """Maps, overviews and region tables from the cube (only what new epochs change); one commit."""
    from pipeline.config import load_job
    from pipeline.indicators import reproduce, run_indicators

    settings = cli_settings()
    registry = registry or settings.registry
    cache = cache or settings.cache
    job = job_with(load_job(job_file), None, store)
    chunks = (job.chunks.y, job.chunks.x)
    if snapshot is not None:
        dest = output or Path(f"var/indicators-{snapshot}.zarr")
        with progress() as prog:
            rep = reproduce(
                job.store,
                snapshot,
                dest,
                chunks=chunks,
                registry=registry,
                cache_dir=cache,
                report=Stages(prog),
            )
        console.print(f"[green]wrote[/] {rep.path} from data snapshot {rep.input_snapshot}")
        if rep.compared_with is None:
            console.print("no indicator commit was made from that snapshot; nothing to compare")
        elif rep.differences:
            raise PipelineError(
                f"the recomputation differs from commit {rep.compared_with} in {rep.differences}: "
                "the software or the region sets changed since. Compare with `socobs cube log`."
            )
        else:
            console.print(f"[green]identical[/] bit for bit to indicator commit {rep.compared_with}")
        return
    with progress() as prog:
        res = run_indicators(
            job.store, chunks=chunks, registry=registry, cache_dir=cache, force_full=full, report=Stages(prog)
        )
    if res.mode == "up-to-date":
        console.print(f"up to date: the indicators already derive from {res.input_snapshot}")
        return
    console.print(
        f"[green]committed[/] {res.snapshot_id} ({res.mode}): epochs {res.computed_epochs}, "
        f"{res.regions} regions, overviews x{res.overview_factors}, from {res.input_snapshot} "
        f"in {res.seconds:.1f} s"
    )


@export_app.command("indicators")
def export_indicators(
    dest: Annotated[Path, typer.Argument(help="Output file (.csv, .parquet, .geojson or .json for STAC).")],
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet, geojson or stac.")] = "csv",
    store: Store = None,
    snapshot: Snapshot = None,
    epoch: Annotated[int | None, typer.Option(help="Only this epoch (geojson: default the latest).")] = None,
    stratum: Annotated[
        str | None, typer.Option(help="Only this stratum: all, cropland, grassland, tree_cover.")
    ] = None,
    level: Annotated[str | None, typer.Option(help="Only this level: global, region, country, ...")] = None,
    registry: Registry = None,
) -> None:
    """Export the region tables (with provenance per row) or the products' STAC collection."""
    from pipeline.indicator_export import export_tables

    settings = cli_settings()
    path = export_tables(
        store or settings.store,
        dest,
        fmt,  # type: ignore[arg-type]
        snapshot=snapshot,
        epoch=epoch,
        stratum=stratum,
        level=level,
        registry=registry or settings.registry,
    )
    console.print(f"[green]wrote[/] {path}")
