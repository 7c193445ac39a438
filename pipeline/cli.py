"""``socobs``: the command line of the observatory.

Every user-facing failure prints one paragraph (what was expected, what was received, how to
fix it) and exits with code 2; no traceback for a user's mistake.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from kernels.errors import KernelInputError
from pipeline.errors import PipelineError

app = typer.Typer(
    name="socobs",
    help="soc-observatory: soil organic carbon and soil health observatory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stac_app = typer.Typer(help="Serve STAC catalogs.", no_args_is_help=True)
regions_app = typer.Typer(help="The region hierarchy: list, build, add sets.", no_args_is_help=True)
rothc_app = typer.Typer(help="The RothC v2.0.0 soil carbon model.", no_args_is_help=True)
cube_app = typer.Typer(help="The cube store: history and export.", no_args_is_help=True)
app.add_typer(cube_app, name="cube")
app.add_typer(stac_app, name="stac")
app.add_typer(regions_app, name="regions")
app.add_typer(rothc_app, name="rothc")
export_app = typer.Typer(help="Export published products.", no_args_is_help=True)
app.add_typer(export_app, name="export")

console = Console()
err_console = Console(stderr=True)
DEFAULT_REGISTRY = Path("var/regions")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("{task.fields[label]}"), console=err_console,
    )  # fmt: skip


def _parse_years(value: str) -> tuple[int, int]:
    try:
        a, _, b = value.partition("-")
        return int(a), int(b or a)
    except ValueError:
        raise PipelineError(f"--years: expected START-END (e.g. 2015-2024), got {value!r}.") from None


def _parse_bbox(value: str | None) -> tuple[float, float, float, float]:
    if value is None:
        return (-180.0, -90.0, 180.0, 90.0)
    try:
        w, s, e, n = (float(v) for v in value.split(","))
    except ValueError:
        raise PipelineError(
            f"--bbox: expected four numbers west,south,east,north (e.g. 33,-5,42,5), got {value!r}."
        ) from None
    return (w, s, e, n)


@app.command("demo-catalog")
def demo_catalog(
    directory: Annotated[Path, typer.Argument(help="New or empty directory for the catalog.")],
    resolution: Annotated[float, typer.Option(help="Grid resolution in degrees.")] = 0.5,
    years: Annotated[str, typer.Option(help="Epochs as START-END.")] = "2015-2024",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same catalog).")] = 41000,
    bbox: Annotated[str | None, typer.Option(help="west,south,east,north (default: global).")] = None,
    monthly: Annotated[bool, typer.Option(help="Write monthly NDVI and climate items.")] = True,
) -> None:
    """Write the synthetic demo STAC catalog (COGs + STAC JSON) into DIRECTORY."""
    from pipeline.demo_catalog import DemoSpec, make_demo_catalog

    y0, y1 = _parse_years(years)
    spec = DemoSpec(resolution, y0, y1, seed, _parse_bbox(bbox), monthly)
    t0 = time.perf_counter()
    with _progress() as prog:
        task = prog.add_task("demo catalog", total=None, label="")

        def report(done: int, total: int, label: str) -> None:
            prog.update(task, completed=done, total=total, label=label)

        path = make_demo_catalog(directory, spec, report)
    console.print(f"[green]wrote[/] {path} in {time.perf_counter() - t0:.1f} s (SYNTHETIC data)")


@stac_app.command("serve")
def stac_serve(
    directory: Annotated[Path, typer.Argument(help="A STAC catalog directory (with catalog.json).")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Serve a catalog as a STAC API (rustac) until interrupted."""
    from pipeline.stac_server import start_server

    server = start_server(directory, host=host, port=port or None)
    console.print(
        f"[green]serving[/] STAC API at {server.url} (collections: {', '.join(server.collections)})"
    )
    console.print(f"  try: curl -s -X POST {server.url}/search -H 'content-type: application/json' "
                  "-d '{\"collections\":[\"demo-soilgrids\"],\"limit\":2}'")  # fmt: skip
    console.print("  Ctrl-C stops it.")
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop and server.process.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    if server.process.returncode not in (0, -2, 130, None) and not stop:
        raise PipelineError(f"rustac serve stopped unexpectedly (exit {server.process.returncode}).")


@regions_app.command("list")
def regions_list(
    level: Annotated[str | None, typer.Option(help="Only this level.")] = None,
    registry: Annotated[Path, typer.Option(help="Directory of registered region sets.")] = DEFAULT_REGISTRY,
) -> None:
    """List the known regions (shipped and registered)."""
    from pipeline.regions import load_regions

    df = load_regions(registry)
    if level:
        df = df[df["level"] == level]
    table = Table("region_id", "name", "level", "parent_id")
    for r in df.itertuples():
        table.add_row(str(r.region_id), str(r.name), str(r.level), str(r.parent_id or ""))
    console.print(table)
    console.print(f"{len(df)} regions")


@regions_app.command("build")
def regions_build(
    out: Annotated[Path | None, typer.Option(help="Output GeoParquet (default: the shipped file).")] = None,
) -> None:
    """Rebuild the shipped hierarchy from Natural Earth (the recipe of catalogs/regions)."""
    from pipeline.regions import shipped_regions_path
    from pipeline.regions_build import build_regions, write_regions

    path = write_regions(build_regions(), out or shipped_regions_path())
    console.print(f"[green]wrote[/] {path}")


@regions_app.command("add")
def regions_add(
    file: Annotated[Path, typer.Argument(help="GeoPackage, GeoJSON, shapefile or GeoParquet.")],
    id_field: Annotated[str, typer.Option("--id-field", help="Field with unique region ids.")],
    name_field: Annotated[str, typer.Option("--name-field", help="Field with region names.")],
    parent_field: Annotated[
        str | None, typer.Option("--parent-field", help="Field with each region's parent id.")
    ] = None,
    level: Annotated[str, typer.Option(help="subnational or custom.")] = "subnational",
    set_name: Annotated[
        str | None, typer.Option("--set", help="Name of the set (default: file stem).")
    ] = None,
    registry: Annotated[Path, typer.Option(help="Directory of registered region sets.")] = DEFAULT_REGISTRY,
    make_valid: Annotated[
        bool, typer.Option("--make-valid", help="Repair invalid geometries instead of refusing.")
    ] = False,
    replace: Annotated[bool, typer.Option(help="Replace a set of the same name.")] = False,
) -> None:
    """Register a vector file as sub-national or custom regions (validated, all or nothing)."""
    from pipeline.regions import add_region_set

    res = add_region_set(
        file, registry=registry, set_name=set_name, level=level, id_field=id_field,
        name_field=name_field, parent_field=parent_field, make_valid=make_valid, replace=replace,
    )  # fmt: skip
    msg = f"[green]registered[/] {res.count} {level} regions as {res.path}"
    if res.reprojected_from:
        msg += f" (reprojected from {res.reprojected_from} to EPSG:4326)"
    if res.repaired:
        msg += f" ({res.repaired} geometries repaired)"
    console.print(msg)


@rothc_app.command("run")
def rothc_run(
    job_file: Annotated[Path, typer.Argument(help="The job file of the cube.")],
    store: Annotated[str | None, typer.Option(help="Store path or URI, overriding the job's.")] = None,
    years: Annotated[int, typer.Option(help="Length of the scenario runs.")] = 20,
) -> None:
    """RothC sequestration-potential maps (BAU, +5/+10/+20 % input) from the cube, one commit."""
    from pipeline.config import load_job
    from pipeline.rothc_job import run_rothc_job

    job = _job_with(load_job(job_file), None, store)
    t0 = time.perf_counter()
    res = run_rothc_job(job, years)
    console.print(f"[green]committed[/] {res.snapshot_id}: RothC scenarios for {res.pixels} pixels "
                  f"(epoch {res.epoch}) in {time.perf_counter() - t0:.1f} s")  # fmt: skip


@rothc_app.command("site")
def rothc_site(
    inputs: Annotated[list[Path], typer.Argument(help="RothC v2.0.0 input files (official layout).")],
    out: Annotated[Path, typer.Option(help="Output directory (one subdirectory per file if several).")],
    equilibrium: Annotated[
        str, typer.Option(help="official: stop as the official shell; exact: the fixed point.")
    ] = "official",
) -> None:
    """Run RothC on site files; write year_results.csv and month_results.csv (official columns)."""
    from pipeline.rothc_site import read_site, run_site, write_results

    if equilibrium not in ("official", "exact"):
        raise PipelineError(f"--equilibrium: expected 'official' or 'exact', got {equilibrium!r}.")
    t0 = time.perf_counter()
    for path in inputs:
        site = read_site(path)
        result = run_site(site, method=equilibrium)  # type: ignore[arg-type]
        target = out if len(inputs) == 1 else out / path.stem
        years, months = write_results(result, target)
        eq = result.year_rows[1]
        console.print(
            f"{path}: equilibrium SOC {eq[7]:.4f} t C/ha after {result.months_to_equilibrium:.0f} "
            f"months -> {years}, {months}"
        )
    console.print(f"{len(inputs)} site(s) in {time.perf_counter() - t0:.2f} s")


@app.command("zonal")
def zonal(
    raster: Annotated[
        Path | None, typer.Argument(help="A single-band raster (GeoTIFF/COG); or use --variable.")
    ] = None,
    regions: Annotated[
        str, typer.Option(help="country, region, global, subnational, custom, or a vector file.")
    ] = "country",
    stats: Annotated[
        str, typer.Option(help="Comma-separated: count,sum,mean,min,max,area_mean,area_sum.")
    ] = "count,mean,area_mean,area_sum",
    coverage: Annotated[
        str, typer.Option(help="exact (fractional border cells) or centre (cell centres).")
    ] = "exact",
    out: Annotated[Path, typer.Option(help="Output CSV.")] = Path("zonal.csv"),
    band: Annotated[int, typer.Option(help="Band to read.")] = 1,
    id_field: Annotated[str | None, typer.Option("--id-field", help="Id field of a vector file.")] = None,
    name_field: Annotated[
        str | None, typer.Option("--name-field", help="Name field of a vector file.")
    ] = None,
    registry: Annotated[Path, typer.Option(help="Directory of registered region sets.")] = DEFAULT_REGISTRY,
    cache: Annotated[Path, typer.Option(help="Coverage cache directory.")] = Path("var/cache/coverage"),
    variable: Annotated[
        str | None, typer.Option(help="A cube variable instead of a raster (e.g. soc).")
    ] = None,
    store: Annotated[str, typer.Option(help="The cube store for --variable.")] = "var/store",
    epoch: Annotated[int | None, typer.Option(help="Epoch (year) of --variable.")] = None,
    depth: Annotated[int | None, typer.Option(help="Depth interval index of --variable (0 = top).")] = None,
    month: Annotated[int | None, typer.Option(help="Month (1-12) of a climatology --variable.")] = None,
) -> None:
    """Zonal statistics of a raster per region, one CSV row per region (area_* use true cell areas, m2)."""
    from pipeline.zonal import read_cube_variable, read_raster, region_set, zonal_table

    t0 = time.perf_counter()
    if variable is not None:
        sel = {k: v for k, v in (("epoch", epoch), ("depth", depth), ("month", month)) if v is not None}
        values, grid = read_cube_variable(store, variable, sel)
    elif raster is not None:
        values, grid = read_raster(raster, band)
    else:
        raise PipelineError("socobs zonal: give a RASTER file or --variable NAME (with --store).")
    leaves, level = region_set(regions, registry, id_field=id_field, name_field=name_field)
    table = zonal_table(values, grid, leaves, level, [s.strip() for s in stats.split(",") if s.strip()],
                        coverage, cache, registry)  # type: ignore[arg-type]  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(out)
    console.print(f"[green]wrote[/] {out}: {len(table)} regions in {time.perf_counter() - t0:.2f} s")


class _Stages:
    """One rich progress bar per stage (search, write ...), driven by pipeline reports."""

    def __init__(self, prog: Progress) -> None:
        self.prog = prog
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, label: str, done: int, total: int) -> None:
        stage = label.split(" ", 1)[0]
        if stage not in self.tasks:
            self.tasks[stage] = self.prog.add_task(stage, total=total or None, label="")
        self.prog.update(self.tasks[stage], completed=done, total=total or None, label=label)


@app.command("ingest")
def ingest(
    job_file: Annotated[
        Path, typer.Argument(help="Job file (YAML); see catalogs/jobs/ and catalogs/schemas/job.schema.json.")
    ],
    stac: Annotated[str | None, typer.Option(help="STAC API URL, overriding the job and sources.")] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler (tcp://HOST:PORT); default a LocalCluster.")
    ] = None,
    store: Annotated[str | None, typer.Option(help="Store path or URI, overriding the job's.")] = None,
) -> None:
    """Ingest a job's sources into its cube store (one commit; all or nothing)."""
    from pipeline.config import load_job
    from pipeline.ingest import run_ingest

    job = _job_with(load_job(job_file), scheduler, store)
    t0 = time.perf_counter()
    with _progress() as prog:
        res = run_ingest(job, stac_url=stac, report=_Stages(prog))
    span = f"{res.epochs[0]}-{res.epochs[-1]}" if res.epochs else "-"
    took = time.perf_counter() - t0
    console.print(
        f"[green]committed[/] {res.snapshot_id} to {job.store}: {len(res.variables)} variables, epochs {span}, {took:.1f} s"
    )


def _interval(every: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    if not every or every[-1] not in units or not every[:-1].isdigit():
        raise PipelineError(f"--every: expected a number and s, m or h (e.g. 10m), got {every!r}.")
    return int(every[:-1]) * units[every[-1]]


def _job_with(job: Any, scheduler: str | None, store: str | None) -> Any:
    upd = {k: v for k, v in (("scheduler", scheduler), ("store", store)) if v}
    return job.model_copy(update=upd) if upd else job


@app.command("update")
def update(
    job_file: Annotated[Path, typer.Argument(help="The job file the cube was ingested with.")],
    stac: Annotated[str | None, typer.Option(help="STAC API URL, overriding the job and sources.")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address.")] = None,
    store: Annotated[str | None, typer.Option(help="Store path or URI, overriding the job's.")] = None,
    with_indicators: Annotated[
        bool, typer.Option("--indicators/--no-indicators", help="Then compute the new epochs' indicators.")
    ] = True,
) -> None:
    """Ingest only items newer than the cube (new epochs appended), then their indicators; no
    commit when nothing is new."""
    from pipeline.config import load_job
    from pipeline.ingest import run_update

    job = _job_with(load_job(job_file), scheduler, store)
    with _progress() as prog:
        res = run_update(job, stac_url=stac, report=_Stages(prog))
    if res.committed:
        console.print(f"[green]committed[/] {res.snapshot_id}: new epochs {res.epochs}")
    else:
        console.print(f"nothing new; the cube stays at {res.snapshot_id}")
    if with_indicators:
        _indicators_after(job)


def _indicators_after(job: Any) -> None:
    """The indicators of whatever is new (nothing when they are current)."""
    from pipeline.indicators import run_indicators

    res = run_indicators(job.store, chunks=(job.chunks.y, job.chunks.x), registry=DEFAULT_REGISTRY,
                         cache_dir=Path("var/cache"))  # fmt: skip
    if res.mode != "up-to-date":
        console.print(f"[green]committed[/] {res.snapshot_id}: indicators ({res.mode}) for epochs "
                      f"{res.computed_epochs}")  # fmt: skip


@app.command("watch")
def watch(
    job_file: Annotated[Path, typer.Argument(help="The job file the cube was ingested with.")],
    every: Annotated[str, typer.Option(help="Interval: 30s, 10m, 1h.")] = "10m",
    stac: Annotated[str | None, typer.Option(help="STAC API URL.")] = None,
    times: Annotated[int, typer.Option(help="Stop after this many rounds (0: never).")] = 0,
) -> None:
    """Run `update` (then the new epochs' indicators) every interval until interrupted."""
    from pipeline.config import load_job
    from pipeline.ingest import run_update

    seconds = _interval(every)
    job = load_job(job_file)
    n = 0
    while True:
        res = run_update(job, stac_url=stac)
        stamp = time.strftime("%H:%M:%S")
        console.print(f"{stamp} " + (f"committed {res.snapshot_id}: epochs {res.epochs}" if res.committed
                                     else f"nothing new ({res.snapshot_id})"))  # fmt: skip
        if res.committed:
            _indicators_after(job)
        n += 1
        if times and n >= times:
            return
        time.sleep(seconds)


@app.command("indicators")
def indicators(
    job_file: Annotated[Path, typer.Argument(help="The job file of the cube.")],
    store: Annotated[str | None, typer.Option(help="Store path or URI, overriding the job's.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Recompute every epoch, not only new ones.")] = False,
    snapshot: Annotated[
        str | None,
        typer.Option(
            help="Recompute a past snapshot into --output (the store is not written) and "
            "compare it with what was committed from it."
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Directory for --snapshot's Zarr.")] = None,
    registry: Annotated[Path, typer.Option(help="Registered region sets.")] = DEFAULT_REGISTRY,
    cache: Annotated[Path, typer.Option(help="Coverage cache directory.")] = Path("var/cache"),
) -> None:
    """Maps, overviews and region tables from the cube (only what new epochs change); one commit."""
    from pipeline.config import load_job
    from pipeline.indicators import reproduce, run_indicators

    job = _job_with(load_job(job_file), None, store)
    chunks = (job.chunks.y, job.chunks.x)
    if snapshot is not None:
        dest = output or Path(f"var/indicators-{snapshot}.zarr")
        with _progress() as prog:
            rep = reproduce(job.store, snapshot, dest, chunks=chunks, registry=registry, cache_dir=cache,
                            report=_Stages(prog))  # fmt: skip
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
    with _progress() as prog:
        res = run_indicators(job.store, chunks=chunks, registry=registry, cache_dir=cache, force_full=full,
                             report=_Stages(prog))  # fmt: skip
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
    store: Annotated[str, typer.Option(help="Store path or URI.")] = "var/store",
    snapshot: Annotated[str | None, typer.Option(help="Snapshot id (default: latest).")] = None,
    epoch: Annotated[int | None, typer.Option(help="Only this epoch (geojson: default the latest).")] = None,
    stratum: Annotated[
        str | None, typer.Option(help="Only this stratum: all, cropland, grassland, tree_cover.")
    ] = None,
    level: Annotated[str | None, typer.Option(help="Only this level: global, region, country, ...")] = None,
    registry: Annotated[
        Path, typer.Option(help="Registered region sets (geojson geometries).")
    ] = DEFAULT_REGISTRY,
) -> None:
    """Export the region tables (with provenance per row) or the products' STAC collection."""
    from pipeline.indicator_export import export_tables

    path = export_tables(store, dest, fmt, snapshot=snapshot, epoch=epoch, stratum=stratum,  # type: ignore[arg-type]
                         level=level, registry=registry)  # fmt: skip
    console.print(f"[green]wrote[/] {path}")


@cube_app.command("log")
def cube_log_cmd(store: Annotated[str, typer.Argument(help="Store path or URI.")] = "var/store") -> None:
    """List the commits of the store, newest first."""
    from pipeline.store import cube_log

    table = Table("snapshot", "written", "message")
    for e in cube_log(store):
        table.add_row(e.snapshot_id, e.written_at.strftime("%Y-%m-%d %H:%M:%S"), e.message)
    console.print(table)


@cube_app.command("export")
def cube_export(
    dest: Annotated[Path, typer.Argument(help="New directory for the plain Zarr v3 copy.")],
    store: Annotated[str, typer.Option(help="Store path or URI.")] = "var/store",
    snapshot: Annotated[str | None, typer.Option(help="Snapshot id (default: latest).")] = None,
) -> None:
    """Write a plain Zarr v3 copy of a snapshot's cube for tools without Icechunk."""
    from pipeline.store import export_cube

    console.print(f"[green]exported[/] {export_cube(store, dest, snapshot)}")


@app.command("demo")
def demo(
    var: Annotated[Path, typer.Option(help="Working directory for catalog and store.")] = Path("var"),
    job_file: Annotated[Path, typer.Option("--job", help="The demo job.")] = Path("catalogs/jobs/demo.yaml"),
    port: Annotated[int, typer.Option(help="STAC API port on 127.0.0.1.")] = 8765,
    api_port: Annotated[int, typer.Option(help="Observatory API port on 127.0.0.1 (0: no API).")] = 8000,
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

    interval = _interval(every) if live else 0

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
            say(f"  tile       {api.url}/v1/tiles/soc_stock/2/2/1.png  (TileJSON: "
                f"{api.url}/v1/tiles/soc_stock/tilejson.json)")  # fmt: skip
            say(f"  status     {api.url}/v1/status")
        say(
            f"  cube       {state.store}  (python: from pipeline.store import open_cube; open_cube({state.store!r}))"
        )
        say(f"  history    socobs cube log {state.store}")
        if not serve:
            return
        console.print("serving; Ctrl-C stops" + (f"; publishing a new year every {every}" if live else ""))
        next_round = time.monotonic() + interval
        while state.server.process.poll() is None and (api is None or api.process.poll() is None):
            time.sleep(0.5)
            if live and time.monotonic() >= next_round:
                r = live_round(state, job_file, var)
                say(f"{'live':<10} {r.seconds:6.1f} s  published {r.year}; update {r.update_snapshot}, "
                    f"indicators {r.indicators_snapshot}, rothc {r.rothc_snapshot}")  # fmt: skip
                next_round = time.monotonic() + interval
    except KeyboardInterrupt:
        pass
    finally:
        if api is not None:
            api.stop()
        state.server.stop()


@app.command("schema")
def schema(
    out: Annotated[Path, typer.Option(help="Directory for the JSON Schemas.")] = Path("catalogs/schemas"),
) -> None:
    """Write the JSON Schemas of job files and source definitions."""
    from pipeline.config import write_schemas

    for p in write_schemas(out):
        console.print(f"[green]wrote[/] {p}")


def main() -> None:
    """Entry point: run the app, turning known errors into one clear paragraph and exit 2."""
    try:
        app(standalone_mode=False)
    except (PipelineError, KernelInputError) as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
