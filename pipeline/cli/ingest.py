"""``socobs ingest``, ``update`` and ``watch``: STAC items into the cube store, one commit each."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from pipeline.cli._app import Stages, app, console, interval, job_with, progress
from pipeline.cli.options import JobArg, Scheduler, Stac, StoreOverride
from pipeline.cli.settings import cli_settings

WithIndicators = Annotated[
    bool, typer.Option("--indicators/--no-indicators", help="Then compute the new epochs' indicators.")
]


@app.command("ingest")
def ingest(
    job_file: JobArg,
    stac: Stac = None,
    scheduler: Scheduler = None,
    store: StoreOverride = None,
) -> None:
    """Ingest a job's sources into its cube store (one commit; all or nothing)."""
    from pipeline.config import load_job
    from pipeline.ingest import run_ingest

    job = job_with(load_job(job_file), scheduler, store)
    t0 = time.perf_counter()
    with progress() as prog:
        res = run_ingest(job, stac_url=stac, report=Stages(prog))
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
) -> None:
    """Ingest only items newer than the cube (new epochs appended), then their indicators; no
    commit when nothing is new."""
    from pipeline.config import load_job
    from pipeline.ingest import run_update

    job = job_with(load_job(job_file), scheduler, store)
    with progress() as prog:
        res = run_update(job, stac_url=stac, report=Stages(prog))
    if res.committed:
        console.print(f"[green]committed[/] {res.snapshot_id}: new epochs {res.epochs}")
    else:
        console.print(f"nothing new; the cube stays at {res.snapshot_id}")
    if with_indicators:
        indicators_after(job)


def indicators_after(job: Any) -> None:
    """The indicators of whatever is new (nothing when they are current)."""
    from pipeline.indicators import run_indicators

    settings = cli_settings()
    res = run_indicators(
        job.store,
        chunks=(job.chunks.y, job.chunks.x),
        registry=settings.registry,
        cache_dir=settings.cache,
    )
    if res.mode != "up-to-date":
        console.print(
            f"[green]committed[/] {res.snapshot_id}: indicators ({res.mode}) for epochs {res.computed_epochs}"
        )


@app.command("watch")
def watch(
    job_file: JobArg,
    every: Annotated[str, typer.Option(help="Interval: 30s, 10m, 1h.")] = "10m",
    stac: Stac = None,
    scheduler: Scheduler = None,
    store: StoreOverride = None,
    with_indicators: WithIndicators = True,
    times: Annotated[int, typer.Option(help="Stop after this many rounds (0: never).")] = 0,
) -> None:
    """Run `update` (then the new epochs' indicators) every interval until interrupted."""
    from pipeline.config import load_job
    from pipeline.ingest import run_update

    seconds = interval(every)
    job = job_with(load_job(job_file), scheduler, store)
    n = 0
    while True:
        res = run_update(job, stac_url=stac)
        stamp = time.strftime("%H:%M:%S")
        what = (
            f"committed {res.snapshot_id}: epochs {res.epochs}"
            if res.committed
            else f"nothing new ({res.snapshot_id})"
        )
        console.print(f"{stamp} {what}")
        if res.committed and with_indicators:
            indicators_after(job)
        n += 1
        if times and n >= times:
            return
        time.sleep(seconds)
