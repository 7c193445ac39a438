"""``socobs demo`` (the whole observatory from nothing) and ``socobs demo-catalog``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import app, console, interval, parse_bbox, parse_years, progress
from pipeline.cli.options import Var
from pipeline.cli.settings import work_paths


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
    from pipeline.demo_catalog import DemoSpec, make_demo_catalog

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
) -> None:
    """The whole demo: catalog, STAC API, ingestion, indicators, RothC, then the API; reuses what is there."""
    from pipeline.demo import live_round, run_demo, start_api
    from pipeline.regions import catalogs_dir

    var = work_paths(var).var
    job_file = job_file or catalogs_dir() / "jobs" / "demo.yaml"

    seconds = interval(every) if live else 0

    t0 = time.perf_counter()

    def say(line: str) -> None:
        console.print(line, highlight=False, soft_wrap=True)

    state = run_demo(var, job_file, port, say)
    api = None
    try:
        if api_port:
            t1 = time.perf_counter()
            api = start_api(state.store, var / "regions", api_port)
            say(f"{'api':<10} {time.perf_counter() - t1:6.1f} s  serving {api.url}")
        console.print(f"[bold]ready in {time.perf_counter() - t0:.1f} s[/]")
        say(f"  STAC API   {state.server.url}/collections")
        if api is not None:
            say(f"  API docs   {api.url}/docs")
            say(f"  summary    {api.url}/v1/regions/KEN/summary")
            say(f"  series     {api.url}/v1/regions/europe/indicators/soc_stock?format=csv")
            say(
                f"  tile       {api.url}/v1/tiles/soc_stock/2/2/1.png  (TileJSON: "
                f"{api.url}/v1/tiles/soc_stock/tilejson.json)"
            )
            say(f"  status     {api.url}/v1/status")
        say(
            f"  cube       {state.store}  (python: from pipeline.store import open_cube; open_cube({state.store!r}))"
        )
        say(f"  history    socobs cube log {state.store}")
        if not serve:
            return
        console.print("serving; Ctrl-C stops" + (f"; publishing a new year every {every}" if live else ""))
        next_round = time.monotonic() + seconds
        while state.server.process.poll() is None and (api is None or api.process.poll() is None):
            time.sleep(0.5)
            if live and time.monotonic() >= next_round:
                r = live_round(state, job_file, var)
                say(
                    f"{'live':<10} {r.seconds:6.1f} s  published {r.year}; update {r.update_snapshot}, "
                    f"indicators {r.indicators_snapshot}, rothc {r.rothc_snapshot}"
                )
                next_round = time.monotonic() + seconds
    except KeyboardInterrupt:
        pass
    finally:
        if api is not None:
            api.stop()
        state.server.stop()
