"""``socobs indicators``, ``socobs export indicators`` and ``socobs export map``: maps, region tables
and their exports; ``socobs indicators`` also brings the monthly signals up to date (``monthly_after``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.cli._app import (
    Stages,
    app,
    console,
    load_job_for,
    out_dir,
    parse_years,
    progress,
    writable_store,
)
from pipeline.cli.options import (
    Cache,
    ExportFormat,
    JobArg,
    Level,
    Registry,
    Snapshot,
    Store,
    StoreOverride,
    Stratum,
    Var,
)
from pipeline.cli.settings import work_paths
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
    output: Annotated[
        Path | None,
        typer.Option(
            file_okay=False, help="Directory for --snapshot's Zarr (default: VAR/indicators-SNAPSHOT.zarr)."
        ),
    ] = None,
    block: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Side of a square tile in cells (rounded up to a power of two, aligned to the "
            "chunks; default 512). Memory grows with the tile, not with the grid.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler (tcp://HOST:PORT) to run the blocks on; default: threads here."),
    ] = None,
    monthly_baseline: Annotated[
        str | None,
        typer.Option(
            "--monthly-baseline",
            metavar="START-END",
            help="Baseline years of the monthly NDVI climatology (default: the one stored, else "
            "the years the cube holds all 12 months of). A new baseline recomputes every month.",
        ),
    ] = None,
    registry: Registry = None,
    cache: Cache = None,
    var: Var = None,
) -> None:
    """Maps, overviews and region tables from the cube (only what new epochs change); one commit.
    Then the monthly signals from the NDVI (only the new months; a second commit)."""
    from pipeline.indicators.job import reproduce, run_indicators

    paths = work_paths(var)
    registry = registry or paths.registry
    cache = cache or paths.cache
    job = load_job_for(job_file, var, scheduler=scheduler, store=store)
    chunks = (job.chunks.y, job.chunks.x)
    if snapshot is not None:
        dest = out_dir(output or paths.var / f"indicators-{snapshot}.zarr", "--output")
        with progress() as prog:
            rep = reproduce(
                job.store,
                snapshot,
                dest,
                chunks=chunks,
                registry=registry,
                cache_dir=cache,
                report=Stages(prog),
                block=block,
                scheduler=job.scheduler,
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
    baseline = _baseline(monthly_baseline)
    writable_store(job.store)
    sdg = sdg_spec(job, str(job_file))
    with progress() as prog:
        res = run_indicators(
            job.store,
            chunks=chunks,
            registry=registry,
            cache_dir=cache,
            force_full=full,
            report=Stages(prog),
            block=block,
            scheduler=job.scheduler,
            sdg=sdg,
        )
    if res.mode == "up-to-date":
        console.print(f"up to date: the indicators already derive from {res.input_snapshot}")
    else:
        console.print(
            f"[green]committed[/] {res.snapshot_id} ({res.mode}): epochs {res.computed_epochs}, "
            f"{res.regions} regions, overviews x{res.overview_factors}, from {res.input_snapshot} "
            f"in {res.seconds:.1f} s"
        )
        for line in input_notes(job.store, str(res.snapshot_id)):
            console.print(line, highlight=False)
    # --block sizes the indicator tiles; the monthly signals read every month of a tile, so they
    # keep tiles of the cube's chunks (a 16-cell tile would re-read each chunk for every month)
    monthly_after(job, registry, cache, baseline=baseline, force_full=full)


def input_notes(store: str, snapshot: str) -> list[str]:
    """What the committed indicators rest on, as recorded in their attributes
    (``pipeline.indicators.inputs``): the stock's method and inputs, each assumption, and what
    could not be computed (maps sharing one reason are named together)."""
    import zarr

    from pipeline.store import INDICATORS, open_repo

    session = open_repo(store).readonly_session(snapshot_id=snapshot)
    attrs: dict[str, Any] = dict(zarr.open_group(session.store, path=INDICATORS, mode="r").attrs)
    if "stock_method" not in attrs:
        return []
    out = [f"stock: {attrs['stock_method']} (from {', '.join(attrs.get('stock_inputs', []))})"]
    out += [f"assumed: {a}" for a in attrs.get("assumptions", [])]
    by_reason: dict[str, list[str]] = {}
    for name, why in attrs.get("not_available", {}).items():
        by_reason.setdefault(why, []).append(name)
    out += [
        f"not available ({', '.join(names)}): {why.removeprefix('not available: ')}"
        for why, names in by_reason.items()
    ]
    return out


def sdg_spec(job: Any, where: str) -> Any:
    """The job file's ``indicators.sdg15_3_1`` as an ``SdgSpec``, its periods checked against the
    cube's epochs before any work (a period that does not fit is refused, naming the field)."""
    from pipeline.indicators.sdg_periods import from_job, periods
    from pipeline.store import BRANCH, CUBE, open_group, open_repo

    spec = from_job(job.indicators.sdg15_3_1)
    if spec.skip or (spec.baseline is None and spec.reporting is None):
        return spec
    cube = open_group(open_repo(job.store).readonly_session(branch=BRANCH), CUBE, required=False)
    if cube is None or "epoch" not in cube.coords:
        return spec  # no cube yet: the indicator job says so in its own words
    try:
        periods([int(e) for e in cube["epoch"].values], spec)
    except PipelineError as exc:
        raise PipelineError(f"{where}: indicators.sdg15_3_1: {exc}") from None
    return spec


def _baseline(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        return parse_years(value)
    except PipelineError:
        raise PipelineError(
            f"--monthly-baseline: expected START-END years (e.g. 2015-2024), got {value!r}."
        ) from None


def monthly_after(
    job: Any,
    registry: Path | None,
    cache: Path | None,
    *,
    baseline: tuple[int, int] | None = None,
    force_full: bool = False,
    block: int | None = None,
) -> None:
    """The monthly signals of whatever months are new (``pipeline.monthly``); a note, not an
    error, when the cube has no monthly NDVI or too short a record (unless a baseline was asked)."""
    from pipeline.monthly.job import MonthlyUnavailable, has_ndvi, run_monthly

    if not has_ndvi(job.store):
        if baseline is not None:
            raise PipelineError(
                "--monthly-baseline: the cube has no monthly NDVI to compute monthly signals from. "
                "Add a monthly NDVI source (e.g. demo-ndvi) to the job, or drop the option."
            )
        return
    try:
        with progress() as prog:
            res = run_monthly(
                job.store,
                chunks=(job.chunks.y, job.chunks.x),
                registry=registry,
                cache_dir=cache,
                baseline=baseline,
                force_full=force_full,
                block=block,
                report=Stages(prog),
            )
    except MonthlyUnavailable as exc:
        if baseline is not None:
            raise
        console.print(f"monthly signals skipped: {exc}")
        return
    if res.mode == "up-to-date":
        console.print(f"up to date: the monthly signals already derive from {res.input_snapshot}")
        return
    span = f"{res.months[0]}..{res.months[-1]}" if len(res.months) > 1 else res.months[0]
    console.print(
        f"[green]committed[/] {res.snapshot_id}: monthly signals ({res.mode}) for {span}, baseline "
        f"{res.baseline[0]}-{res.baseline[1]}, {res.regions} regions, in {res.seconds:.1f} s"
    )


@export_app.command("indicators")
def export_indicators(
    dest: Annotated[
        Path, typer.Argument(metavar="DEST", help="Output file (.csv, .parquet, .geojson or .json for STAC).")
    ],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="Output format.")] = ExportFormat.csv,
    store: Store = None,
    snapshot: Snapshot = None,
    epoch: Annotated[int | None, typer.Option(help="Only this epoch (geojson: default the latest).")] = None,
    stratum: Annotated[Stratum | None, typer.Option(help="Only this land-cover stratum.")] = None,
    level: Annotated[Level | None, typer.Option(help="Only this level of the region hierarchy.")] = None,
    registry: Registry = None,
    var: Var = None,
) -> None:
    """Export the region tables (with provenance per row) or the products' STAC collection."""
    from pipeline.indicators.export import export_tables

    if dest.is_dir():
        raise PipelineError(f"DEST: expected an output file, got the directory {dest}. Pass a file path.")
    paths = work_paths(var)
    path = export_tables(
        store or paths.store,
        dest,
        fmt.value,
        snapshot=snapshot,
        epoch=epoch,
        stratum=None if stratum is None else stratum.value,
        level=None if level is None else level.value,
        registry=registry or paths.registry,
    )
    console.print(f"[green]wrote[/] {path}")


@export_app.command("map")
def export_map_cmd(
    indicator: Annotated[
        str, typer.Argument(metavar="INDICATOR", help="Map name in the indicators group, e.g. soc_stock.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output GeoTIFF (Cloud-Optimized), e.g. X.tif.")],
    epoch: Annotated[int | None, typer.Option(help="Epoch (year) of the map (default: the latest).")] = None,
    store: Store = None,
    snapshot: Snapshot = None,
    var: Var = None,
) -> None:
    """Export one indicator map of one epoch as a Cloud-Optimized GeoTIFF (CRS, nodata, overviews)."""
    from pipeline.indicators.geotiff import export_map

    path = export_map(store or work_paths(var).store, indicator, out, epoch=epoch, snapshot=snapshot)
    console.print(f"[green]wrote[/] {path}")
