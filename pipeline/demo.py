"""``socobs demo``: the whole observatory from nothing, reusing whatever is already there.

Stages: demo catalog (generated once) -> STAC API (rustac, 127.0.0.1) -> ingestion into the
Icechunk store (skipped when the store already holds this job's cube) -> indicator maps,
overviews and region tables (only what is new) -> RothC scenarios (skipped when they were
computed from the current cube) -> the observatory API (a subprocess) -> keep serving.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pipeline.config import PeriodSpec, load_job
from pipeline.demo_catalog import DemoSpec, make_demo_catalog, publish_year
from pipeline.errors import PipelineError
from pipeline.indicators import data_snapshot, run_indicators
from pipeline.ingest import run_ingest, run_update
from pipeline.rothc_job import run_rothc_job
from pipeline.stac_server import StacServer, start_server
from pipeline.store import StoreError, cube_log, open_cube


@dataclass
class DemoState:
    server: StacServer
    store: str
    timings: list[tuple[str, float, str]] = field(default_factory=list)


def _current_cube(store: str, job_json: str) -> str | None:
    """The snapshot holding this job's cube, if the store is up to date with the job."""
    try:
        cube = open_cube(store)
    except StoreError:
        return None
    same = json.loads(cube.attrs.get("job", "{}")) == json.loads(job_json)
    return str(cube.attrs["snapshot_id"]) if same else None


def run_demo(var: Path, job_file: Path, port: int, say: Callable[[str], None]) -> DemoState:
    """Bring the demo up; returns the running server (the caller serves until interrupted)."""
    catalog = var / "demo-catalog"
    job = load_job(job_file)
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
            if _current_cube(job.store, job.model_dump_json()):
                return f"reused cube {data_snapshot(job.store)} in {job.store}"
            return f"committed {run_ingest(job, stac_url=server.url).snapshot_id} to {job.store}"

        stage("ingest", ingest_stage)

        def indicators_stage() -> str:
            res = run_indicators(job.store, chunks=(job.chunks.y, job.chunks.x), registry=var / "regions",
                                 cache_dir=var / "cache")  # fmt: skip
            if res.mode == "up-to-date":
                return f"reused indicators from {res.input_snapshot}"
            return f"committed {res.snapshot_id} ({res.mode}, {len(res.computed_epochs)} epochs, {res.regions} regions)"

        stage("indicators", indicators_stage)

        def rothc_stage() -> str:
            log = cube_log(job.store)  # newest first
            data = next(e for e in log if e.metadata.get("kind") in ("ingest", "update"))
            for e in log:
                if e is data:
                    break
                if e.metadata.get("kind") == "rothc" and e.metadata.get("input_snapshot") == data.snapshot_id:
                    return f"reused scenarios {e.snapshot_id}"
            res = run_rothc_job(job)
            return f"committed {res.snapshot_id} ({res.pixels} pixels)"

        stage("rothc", rothc_stage)
    except BaseException:
        server.stop()
        raise
    return DemoState(server, job.store, timings)


@dataclass
class ApiProcess:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_api(store: str, registry: Path, port: int, timeout: float = 60.0) -> ApiProcess:
    """Start the observatory API (``python -m observatory_api``) on 127.0.0.1 and wait until it
    serves. A subprocess, not an import: the pipeline never imports the API (layering)."""
    url = f"http://127.0.0.1:{port}"
    try:
        if httpx.get(f"{url}/healthz", timeout=1).status_code in (200, 503):
            raise PipelineError(
                f"port {port} is taken by another server ({url}). Stop it, or pass --api-port OTHER."
            )
    except httpx.HTTPError:
        pass
    proc = subprocess.Popen([sys.executable, "-m", "observatory_api", "--port", str(port), "--store", store,
                             "--registry", str(registry), "--log-level", "warning"])  # fmt: skip
    api = ApiProcess(url, proc)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise PipelineError(
                f"the API exited with code {proc.returncode} at start; see its messages above."
            )
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return api
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    api.stop()
    raise PipelineError(f"the API did not answer {url}/healthz within {timeout:.0f} s.")


@dataclass(frozen=True)
class LiveRound:
    year: int
    update_snapshot: str | None
    indicators_snapshot: str | None
    rothc_snapshot: str
    seconds: float


def live_round(state: DemoState, job_file: Path, var: Path, spec: DemoSpec | None = None) -> LiveRound:
    """One cycle of live mode: publish the next year to the demo catalog, restart the STAC API
    over it, ingest what is new (``socobs update``), update the indicators and the RothC maps.
    The API, which polls the store, shows the new epoch by itself."""
    t0 = time.perf_counter()
    job = load_job(job_file)
    catalog = var / "demo-catalog"
    year = int(open_cube(job.store)["epoch"].values[-1]) + 1
    publish_year(catalog, spec or DemoSpec(), year)
    port = int(state.server.url.rsplit(":", 1)[1])
    state.server.stop()
    state.server = start_server(catalog, port=port)
    grown = job.model_copy(update={"period": PeriodSpec(start=job.period.start, end=year)})
    upd = run_update(grown, stac_url=state.server.url)
    if not upd.committed:
        raise PipelineError(f"live mode: the update found nothing new after publishing {year}.")
    ind = run_indicators(job.store, chunks=(job.chunks.y, job.chunks.x), registry=var / "regions",
                         cache_dir=var / "cache")  # fmt: skip
    rothc = run_rothc_job(job)  # the scenario maps follow the newest epoch
    return LiveRound(year, upd.snapshot_id, ind.snapshot_id, rothc.snapshot_id, time.perf_counter() - t0)
