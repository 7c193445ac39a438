"""``socobs demo`` (the whole observatory from nothing) and ``socobs demo-catalog``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import app, console, interval, parse_bbox, parse_years, progress
from pipeline.cli.options import Var
from pipeline.cli.settings import work_paths
from pipeline.errors import PipelineError

LIVE_UNITS = ("year", "month")  # pipeline.demo.runner.LiveUnit (kept here for a fast --help)


@app.command("demo-catalog")
def demo_catalog(
    directory: Annotated[
        Path,
        typer.Argument(metavar="DIRECTORY", file_okay=False, help="New or empty directory for the catalog."),
    ],
    resolution: Annotated[
        float, typer.Option(min=0.01, max=10.0, help="Grid resolution in degrees (0.01-10).")
    ] = 0.5,
    years: Annotated[str, typer.Option(help="Epochs as START-END.")] = "2015-2024",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same catalog).")] = 41000,
    bbox: Annotated[str | None, typer.Option(help="west,south,east,north (default: global).")] = None,
    monthly: Annotated[bool, typer.Option(help="Write monthly NDVI and climate items.")] = True,
) -> None:
    """Write the synthetic demo STAC catalog (COGs + STAC JSON) into DIRECTORY."""
    from pipeline.demo.catalog import DemoSpec, make_demo_catalog

    y0, y1 = parse_years(years)
    spec = DemoSpec(resolution, y0, y1, seed, parse_bbox(bbox), monthly)
    t0 = time.perf_counter()
    with progress() as prog:
        task = prog.add_task("demo catalog", total=None, label="")

        def report(done: int, total: int, label: str) -> None:
            prog.update(task, completed=done, total=total, label=label)

        path = make_demo_catalog(directory, spec, report)
    console.print(f"[green]wrote[/] {path} in {time.perf_counter() - t0:.1f} s (SYNTHETIC data)")


@app.command("demo")
def demo(
    var: Var = None,
    job_file: Annotated[
        Path | None,
        typer.Option("--job", dir_okay=False, help="The demo job (default: the packaged jobs/demo.yaml)."),
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="STAC API port on 127.0.0.1.")] = 8765,
    api_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Observatory API port on 127.0.0.1 (0: no API).")
    ] = 8000,
    serve: Annotated[bool, typer.Option(help="Keep serving after the pipeline ran.")] = True,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Publish a new synthetic year every --every and ingest it, as a near-real-time feed would.",
        ),
    ] = False,
    every: Annotated[str, typer.Option(help="Live mode interval: 30s, 5m ...")] = "60s",
    live_unit: Annotated[
        str,
        typer.Option(
            "--live-unit",
            metavar="year|month",
            help="What live mode publishes each round: a new synthetic year (every source), or a "
            "new month of NDVI (the monthly signals then update).",
        ),
    ] = "year",
) -> None:
    """The whole demo: catalog, STAC API, ingestion, indicators, RothC, then the API; reuses what is there."""
    import sys

    from pipeline.demo.runner import serve_demo
    from pipeline.paths import catalogs_dir

    if live_unit not in LIVE_UNITS:
        raise PipelineError(
            f"--live-unit: expected one of {', '.join(LIVE_UNITS)} (what --live publishes each round), "
            f"got {live_unit!r}. Pass --live-unit year or --live-unit month."
        )
    var = work_paths(var).var
    job_file = job_file or catalogs_dir() / "jobs" / "demo.yaml"

    def say(line: str) -> None:
        console.print(line, highlight=False, soft_wrap=True, markup=False)

    status = serve_demo(
        var,
        job_file,
        port=port,
        api_port=api_port,
        serve=serve,
        live_every=interval(every) if live else None,
        live_unit="month" if live_unit == "month" else "year",
        say=say,
    )
    if status:
        sys.exit(status)  # 128+N: signal N stopped it before it was serving
