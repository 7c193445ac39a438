"""``socobs demo``: the whole observatory from nothing, reusing whatever is already there.

Stages: demo catalog (generated once) -> STAC API (rustac, 127.0.0.1) -> ingestion into the
Icechunk store (skipped when the store already holds this job's cube) -> indicator maps,
overviews and region tables, then the monthly signals from the NDVI (only what is new) -> RothC scenarios (skipped when they were
computed from the current cube) -> the observatory API (a subprocess) -> keep serving.

Everything it writes lives under ``--var`` (the cube store is ``VAR/store`` whatever the job
file says); its children (rustac, the API) and their scratch folders go away on SIGTERM,
SIGHUP, SIGINT, or when the demo itself is killed (see :mod:`pipeline.processes`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from pipeline.config import JobSpec, PeriodSpec, load_job
from pipeline.demo.catalog import DemoSpec, make_demo_catalog, publish_month, publish_year
from pipeline.errors import PipelineError, ServerError
from pipeline.indicators.job import run_indicators
from pipeline.indicators.sdg_periods import from_job
from pipeline.ingest.job import run_ingest, run_update
from pipeline.ingest.stac_server import StacServer, start_server
from pipeline.monthly.job import MonthlyResult, has_ndvi, run_monthly
from pipeline.processes import Child, exit_status, signal_name, spawn_child, stop_on_signals
from pipeline.rothc.job import run_rothc_job
from pipeline.store import Kind, StoreError, data_snapshot, latest_commit, open_cube


@dataclass
class DemoState:
    server: StacServer
    store: str
    timings: list[tuple[str, float, str]] = field(default_factory=list)


def demo_job(job_file: Path, var: Path) -> JobSpec:
    """The demo's job: ``job_file`` with its store under ``var`` (``VAR/store``), so that
    ``--var`` holds the whole demo whatever the job file says and wherever the shell is."""
    return load_job(job_file).model_copy(update={"store": str(var / "store")})


def _current_cube(job: JobSpec) -> str | None:
    """The snapshot holding this job's cube, if the store is up to date with the job (the
    store's own path does not count: a moved --var is still up to date)."""
    try:
        cube = open_cube(job.store)
    except StoreError:
        return None
    stored = json.loads(cube.attrs.get("job", "{}"))
    stored.pop("store", None)
    same = stored == json.loads(job.model_dump_json(exclude={"store"}))
    return str(cube.attrs["snapshot_id"]) if same else None


def run_demo(var: Path, job_file: Path, port: int, say: Callable[[str], None]) -> DemoState:
    """Bring the demo up; returns the running server (the caller serves until interrupted)."""
    catalog = var / "demo-catalog"
    job = demo_job(job_file, var)
    timings: list[tuple[str, float, str]] = []

    def stage(name: str, fn: Callable[[], str]) -> None:
        t0 = time.perf_counter()
        what = fn()
        timings.append((name, time.perf_counter() - t0, what))
        say(f"{name:<10} {timings[-1][1]:6.1f} s  {what}")

    def catalog_stage() -> str:
        if (catalog / "catalog.json").exists():
            return f"reused {catalog}"
        make_demo_catalog(catalog)
        return f"generated {catalog} (synthetic data)"

    stage("catalog", catalog_stage)
    server_box: list[StacServer] = []

    def stac_stage() -> str:
        server_box.append(start_server(catalog, port=port))
        return f"serving {server_box[0].url}"

    stage("stac", stac_stage)
    server = server_box[0]
    try:

        def ingest_stage() -> str:
            if _current_cube(job):
                return f"reused cube {data_snapshot(job.store)} in {job.store}"
            return f"committed {run_ingest(job, stac_url=server.url).snapshot_id} to {job.store}"

        stage("ingest", ingest_stage)

        def indicators_stage() -> str:
            res = run_indicators(
                job.store,
                chunks=(job.chunks.y, job.chunks.x),
                registry=var / "regions",
                cache_dir=var / "cache",
                sdg=from_job(job.indicators.sdg15_3_1),  # the job file's periods, if it sets them
            )
            if res.mode == "up-to-date":
                what = f"reused indicators from {res.input_snapshot}"
            else:
                what = f"committed {res.snapshot_id} ({res.mode}, {len(res.computed_epochs)} epochs, {res.regions} regions)"
            mon = monthly_stage(job, var)
            if mon is None:
                return what
            if mon.mode == "up-to-date":
                return f"{what}; reused monthly signals"
            return f"{what}; monthly {mon.snapshot_id} ({mon.mode}, {len(mon.months)} months)"

        stage("indicators", indicators_stage)

        def rothc_stage() -> str:
            done = latest_commit(job.store, Kind.ROTHC, input_snapshot=data_snapshot(job.store))
            if done is not None:
                return f"reused scenarios {done}"
            res = run_rothc_job(job)
            return f"committed {res.snapshot_id} ({res.pixels} pixels)"

        stage("rothc", rothc_stage)
    except BaseException:
        server.stop()
        raise
    return DemoState(server, job.store, timings)


def monthly_stage(job: JobSpec, var: Path) -> MonthlyResult | None:
    """The monthly signals of the new months (None when the cube has no monthly NDVI)."""
    if not has_ndvi(job.store):
        return None
    return run_monthly(
        job.store, chunks=(job.chunks.y, job.chunks.x), registry=var / "regions", cache_dir=var / "cache"
    )


@dataclass
class ApiProcess:
    """The observatory API running as a child (under the watchdog of :mod:`pipeline.processes`)."""

    url: str
    child: Child

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The process to poll: it exits with the API's status."""
        return self.child.process

    def stop(self, timeout: float | None = None) -> None:
        self.child.stop(timeout)


def start_api(
    store: str, registry: Path, port: int, timeout: float = 180.0, var: Path | None = None
) -> ApiProcess:
    """Start the observatory API (``python -m observatory_api``) on 127.0.0.1 and wait until it
    serves. A subprocess, not an import: the pipeline never imports the API (layering). With
    ``var`` the API's working folder (``SOCOBS_VAR``: its registry database) is that one."""
    url = f"http://127.0.0.1:{port}"
    try:
        httpx.get(f"{url}/healthz", timeout=1)  # any answer at all: someone serves there
        raise PipelineError(
            f"port {port} is taken by another server ({url}). Stop it, or pass --api-port OTHER."
        )
    except httpx.HTTPError:
        pass
    cmd = [
        sys.executable,
        "-m",
        "observatory_api",
        "--port",
        str(port),
        "--store",
        store,
        "--registry",
        str(registry),
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "SOCOBS_VAR": str(var)} if var is not None else None
    api = ApiProcess(url, spawn_child(cmd, name="observatory API", env=env))
    try:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if not api.child.running():
                raise PipelineError(
                    f"the API exited with code {api.child.returncode} at start; see its messages above."
                )
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:  # snapshot loaded
                    return api
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise PipelineError(f"the API was not ready ({url}/readyz) within {timeout:.0f} s.")
    except BaseException:
        api.stop()
        raise


@dataclass(frozen=True)
class LiveRound:
    year: int
    update_snapshot: str | None
    indicators_snapshot: str | None
    rothc_snapshot: str | None  # None for a month: the scenarios follow epochs
    seconds: float
    month: str | None = None  # YYYY-MM published by a monthly round
    monthly_snapshot: str | None = None  # the monthly signals' commit


LiveUnit = Literal["year", "month"]


def _next_month(job: JobSpec) -> tuple[int, int]:
    """The month after the newest NDVI month of the cube (January after the newest epoch when
    the cube has no NDVI time axis)."""
    cube = open_cube(job.store)
    if "time" not in cube.coords:
        return int(cube["epoch"].values[-1]) + 1, 1
    last = cube["time"].values[-1].astype("datetime64[M]").astype(int)  # months since 1970-01
    nxt = int(last) + 1
    return 1970 + nxt // 12, nxt % 12 + 1


def live_round(
    state: DemoState, job_file: Path, var: Path, spec: DemoSpec | None = None, unit: LiveUnit = "year"
) -> LiveRound:
    """One cycle of live mode: publish the next year (``unit="year"``) or the next month of
    NDVI (``unit="month"``) to the demo catalog, restart the STAC API over it, ingest what is
    new (``socobs update``), then update what it changes: for a year the indicators, the monthly
    signals and the RothC maps; for a month the monthly signals only (no epoch is new). The
    API, which polls the store, shows the new epoch or month by itself."""
    t0 = time.perf_counter()
    job = demo_job(job_file, var)
    catalog = var / "demo-catalog"
    if unit == "month":
        year, month = _next_month(job)
        publish_month(catalog, spec or DemoSpec(), year, month)
        label = f"{year}-{month:02d}"
    else:
        year, label = int(open_cube(job.store)["epoch"].values[-1]) + 1, ""
        publish_year(catalog, spec or DemoSpec(), year)
    state.server.stop()
    state.server = start_server(catalog, port=state.server.port)
    grown = job.model_copy(
        update={"period": PeriodSpec(start=job.period.start, end=max(year, job.period.end))}
    )
    upd = run_update(grown, stac_url=state.server.url)
    if not upd.committed:
        raise PipelineError(f"live mode: the update found nothing new after publishing {label or year}.")
    if unit == "month":
        mon = monthly_stage(job, var)
        snap = mon.snapshot_id if mon is not None else None
        return LiveRound(year, upd.snapshot_id, None, None, time.perf_counter() - t0, label, snap)
    ind = run_indicators(
        job.store,
        chunks=(job.chunks.y, job.chunks.x),
        registry=var / "regions",
        cache_dir=var / "cache",
        sdg=from_job(job.indicators.sdg15_3_1),
    )
    mon = monthly_stage(job, var)  # before RothC: the round's last commit stays the scenarios'
    rothc = run_rothc_job(job)  # the scenario maps follow the newest epoch
    return LiveRound(
        year,
        upd.snapshot_id,
        ind.snapshot_id,
        rothc.snapshot_id,
        time.perf_counter() - t0,
        monthly_snapshot=mon.snapshot_id if mon is not None else None,
    )


def serve_demo(
    var: Path,
    job_file: Path,
    *,
    port: int,
    api_port: int,
    serve: bool = True,
    live_every: float | None = None,
    live_unit: LiveUnit = "year",
    say: Callable[[str], None] = print,
) -> int:
    """``socobs demo``: bring the demo up (:func:`run_demo`, then the API unless ``api_port`` is
    0), print where to look, and serve until SIGTERM, SIGHUP or SIGINT; in live mode publish and
    ingest a new year (``live_unit="month"``: a new month of NDVI) every ``live_every`` seconds. On the way out, whatever the reason, every
    child is stopped and every scratch folder removed.

    Returns the exit status: 0 when it ran to the end or was stopped while serving, 128+N when
    signal N interrupted it before it was serving (what it finished is reused next time).
    Raises :class:`ServerError` if a server stops by itself while serving."""
    import dask.config

    t0 = time.perf_counter()
    serving = False
    # On leaving: the STAC server and the API are stopped. Dask's scratch space (the ingestion's
    # cluster) goes under --var, not into the system's temporary folder.
    with stop_on_signals(), dask.config.set({"temporary-directory": str(var / "cache" / "dask")}):
        try:
            state = run_demo(var, job_file, port, say)
            key = registry_stage(state, var, say)
            api = None
            if api_port:
                t1 = time.perf_counter()
                api = start_api(state.store, var / "regions", api_port, var=var)
                say(f"{'api':<10} {time.perf_counter() - t1:6.1f} s  serving {api.url}")
            _banner(state, api, time.perf_counter() - t0, say, key)
            if not serve:
                return 0
            say(
                "serving; Ctrl-C stops"
                + (f"; publishing a new {live_unit} every {live_every:g} s" if live_every else "")
            )
            serving = True
            _serve(state, api, job_file, var, live_every, say, live_unit)
        except KeyboardInterrupt as exc:  # processes.Interrupted included
            if serving:
                say(f"stopping ({signal_name(exc)})")
                return 0
            say(
                f"interrupted by {signal_name(exc)} before the demo was serving; its servers are "
                "stopped. Run it again: it reuses what is already done."
            )
            return exit_status(exc)
    return 0  # pragma: no cover - _serve only returns by raising


def registry_stage(state: DemoState, var: Path, say: Callable[[str], None]) -> str:
    """The synthetic demo registry (:mod:`pipeline.demo.registry`) and this start's editor key.
    The registry is the API's: ``SOCOBS_DATABASE_URL``, else ``VAR/registry.sqlite``. Projects
    not registered yet are registered in a background thread (each ex-ante assessment reads its
    cell of the cube: ~1 s), so the API does not wait; a second start finds them all there."""
    import threading

    from pipeline.demo.registry import demo_key, missing_projects, seed_registry
    from pipeline.registry.db import database_url, redact
    from pipeline.store import tip

    t0 = time.perf_counter()
    url = database_url(var)
    todo = missing_projects(url)
    key, revoked = demo_key(url)
    if todo:
        what = f"seeding {len(todo)} synthetic demo projects in the background (ex-ante each)"
        snapshot = tip(state.store)

        def seed() -> None:
            t1 = time.perf_counter()
            try:
                done = seed_registry(url, state.store, snapshot)
            except Exception as exc:  # the demo serves on; the next start finishes the rest
                say(f"{'registry':<10} seeding stopped: {str(exc)[:300]}")
                return
            say(
                f"{'registry':<10} {time.perf_counter() - t1:6.1f} s  seeded {done.projects} synthetic "
                f"demo projects ({done.assessed} assessed ex-ante; {done.total_projects} in all)"
            )

        threading.Thread(target=seed, name="demo-registry", daemon=True).start()
    else:
        what = "reused the synthetic demo registry"
    seconds = time.perf_counter() - t0
    state.timings.append(("registry", seconds, what))
    say(f"{'registry':<10} {seconds:6.1f} s  {what} in {redact(url)}")
    if revoked:
        say(f"{'':<10} {'':>6}    revoked the earlier demo editor key(s), id {', '.join(map(str, revoked))}")
    return key


def _banner(
    state: DemoState,
    api: ApiProcess | None,
    seconds: float,
    say: Callable[[str], None],
    key: str | None = None,
) -> None:
    say(f"ready in {seconds:.1f} s")
    say(f"  STAC API   {state.server.url}/collections")
    if api is not None:
        say(f"  dashboard  {api.url}/")
        say(f"  API docs   {api.url}/docs")
        say(f"  summary    {api.url}/v1/regions/KEN/summary")
        say(f"  series     {api.url}/v1/regions/europe/indicators/soc_stock?format=csv")
        say(
            f"  tile       {api.url}/v1/tiles/soc_stock/2/2/1.png  (TileJSON: "
            f"{api.url}/v1/tiles/soc_stock/tilejson.json)"
        )
        say(f"  status     {api.url}/v1/status")
        say(
            f"  projects   {api.url}/v1/projects  (a SYNTHETIC demo registry; map: {api.url}/#/map?projects=1)"
        )
    if key is not None:
        say(
            f"  editor key {key}  (new at each start, labelled demo; the previous demo keys are "
            "revoked). Try: curl -H 'Authorization: Bearer KEY' -H 'Content-Type: application/json' "
            "-d @project.geojson " + (f"{api.url}/v1/projects" if api is not None else "API/v1/projects")
        )
    say(
        f"  cube       {state.store}  (python: from pipeline.store import open_cube; open_cube({state.store!r}))"
    )
    say(f"  history    socobs cube log {state.store}")


def _serve(
    state: DemoState,
    api: ApiProcess | None,
    job_file: Path,
    var: Path,
    live_every: float | None,
    say: Callable[[str], None],
    live_unit: LiveUnit = "year",
) -> None:
    """Serve until a signal (raised as an exception) or until a server stops by itself."""
    next_round = time.monotonic() + (live_every or 0)
    while True:
        for name, child in (("STAC server", state.server.child), ("API", api.child if api else None)):
            if child is not None and not child.running():
                raise ServerError(
                    f"the {name} stopped by itself (exit {child.returncode}) while the demo was "
                    "serving; the other server is stopped too. See its messages above, then run "
                    "`socobs demo` again (it reuses what is done)."
                )
        time.sleep(0.5)
        if live_every and time.monotonic() >= next_round:
            r = live_round(state, job_file, var, unit=live_unit)
            if r.month is not None:
                say(
                    f"{'live':<10} {r.seconds:6.1f} s  published {r.month}; update {r.update_snapshot}, "
                    f"monthly {r.monthly_snapshot}"
                )
            else:
                say(
                    f"{'live':<10} {r.seconds:6.1f} s  published {r.year}; update {r.update_snapshot}, "
                    f"indicators {r.indicators_snapshot}, monthly {r.monthly_snapshot}, rothc {r.rothc_snapshot}"
                )
            next_round = time.monotonic() + live_every
