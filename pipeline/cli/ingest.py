"""``socobs ingest``, ``update`` and ``watch``: STAC items into the cube store, one commit each."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from pipeline.cli._app import Stages, app, console, interval, load_job_for, progress, writable_store
from pipeline.cli.options import JobArg, Scheduler, Stac, StoreOverride, Var
from pipeline.cli.settings import WorkPaths, work_paths

WithIndicators = Annotated[
    bool,
    typer.Option(
        "--indicators/--no-indicators",
        help="Then compute the new epochs' indicators and the new months' monthly signals.",
    ),
]


def _max_cells(paths: WorkPaths) -> int:
    """The grid-size bound: SOCOBS_MAX_CELLS, else pipeline.config.MAX_GRID_CELLS."""
    from pipeline.config import MAX_GRID_CELLS

    return paths.max_cells or MAX_GRID_CELLS


@app.command("ingest")
def ingest(
    job_file: JobArg,
    stac: Stac = None,
    scheduler: Scheduler = None,
    store: StoreOverride = None,
    var: Var = None,
) -> None:
    """Ingest a job's sources into its cube store (one commit; all or nothing)."""
    from pipeline.ingest.job import run_ingest

    paths = work_paths(var)
    job = load_job_for(job_file, var, scheduler=scheduler, store=store)
    writable_store(job.store)
    t0 = time.perf_counter()
    with progress() as prog:
        res = run_ingest(job, stac_url=stac, report=Stages(prog), max_cells=_max_cells(paths))
    span = f"{res.epochs[0]}-{res.epochs[-1]}" if res.epochs else "-"
    took = time.perf_counter() - t0
    console.print(
        f"[green]committed[/] {res.snapshot_id} to {job.store}: {len(res.variables)} variables, "
        f"epochs {span}, {took:.1f} s"
    )


@app.command("update")
def update(
    job_file: JobArg,
    stac: Stac = None,
    scheduler: Scheduler = None,
    store: StoreOverride = None,
    with_indicators: WithIndicators = True,
    var: Var = None,
) -> None:
    """Ingest only items newer than the cube (new epochs appended), then their indicators; no
    commit when nothing is new."""
    from pipeline.ingest.job import run_update

    paths = work_paths(var)
    job = load_job_for(job_file, var, scheduler=scheduler, store=store)
    writable_store(job.store)
    with progress() as prog:
        res = run_update(job, stac_url=stac, report=Stages(prog), max_cells=_max_cells(paths))
    if res.committed:
        what = f"new epochs {res.epochs}" if res.epochs else f"new months of {', '.join(res.variables)}"
        console.print(f"[green]committed[/] {res.snapshot_id}: {what}")
    else:
        console.print(f"nothing new; the cube stays at {res.snapshot_id}")
    if with_indicators:
        indicators_after(job, paths, res)


def indicators_after(job: Any, paths: WorkPaths, update: Any = None) -> None:
    """The indicators of whatever is new (nothing when they are current), then the monthly
    signals of the new months. An update that appended months but no epoch leaves the yearly
    indicators alone (they would only be recomputed to the same values)."""
    from pipeline.cli.indicators import monthly_after, sdg_spec
    from pipeline.indicators.job import run_indicators
    from pipeline.indicators.sdg import spec_changed
    from pipeline.store import BRANCH, INDICATORS, open_group, open_repo

    sdg = sdg_spec(job, f"job {job.name!r}")  # its periods checked against the updated cube
    months_only = update is not None and update.committed and not update.epochs
    has_yearly = open_group(open_repo(job.store).readonly_session(branch=BRANCH), INDICATORS, required=False)
    if months_only and has_yearly is not None and not spec_changed(job.store, sdg):
        console.print("no new epoch: the yearly indicators stay as they are")
    else:
        res = run_indicators(
            job.store,
            chunks=(job.chunks.y, job.chunks.x),
            registry=paths.registry,
            cache_dir=paths.cache,
            sdg=sdg,
        )
        if res.mode != "up-to-date":
            console.print(
                f"[green]committed[/] {res.snapshot_id}: indicators ({res.mode}) for epochs {res.computed_epochs}"
            )
    monthly_after(job, paths.registry, paths.cache)


@app.command("watch")
def watch(
    job_file: JobArg,
    every: Annotated[str, typer.Option(help="Interval: 30s, 10m, 1h.")] = "10m",
    stac: Stac = None,
    scheduler: Scheduler = None,
    store: StoreOverride = None,
    with_indicators: WithIndicators = True,
    times: Annotated[int, typer.Option(min=0, help="Stop after this many rounds (0: never).")] = 0,
    var: Var = None,
) -> None:
    """Run `update` (then the new epochs' indicators) every interval until interrupted."""
    from pipeline.ingest.job import run_update

    seconds = interval(every)
    paths = work_paths(var)
    job = load_job_for(job_file, var, scheduler=scheduler, store=store)
    writable_store(job.store)
    n = 0
    while True:
        res = run_update(job, stac_url=stac, max_cells=_max_cells(paths))
        stamp = time.strftime("%H:%M:%S")
        what = (
            f"committed {res.snapshot_id}: epochs {res.epochs}, variables {res.variables}"
            if res.committed
            else f"nothing new ({res.snapshot_id})"
        )
        console.print(f"{stamp} {what}")
        if res.committed and with_indicators:
            indicators_after(job, paths, res)
        n += 1
        if times and n >= times:
            return
        time.sleep(seconds)
