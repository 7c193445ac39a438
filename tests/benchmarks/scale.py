"""Scale benchmark: the demo chain (ingest -> indicators -> RothC) over Africa at growing
resolutions, each stage in its own process, with its wall time and the peak RSS of its whole
process tree (sampled every 50 ms with psutil: children and dask workers included); and one
indicator run on a ``dask scheduler`` + two ``dask worker`` processes, whose tables must equal
the local run's bit for bit.

Africa 3 epochs (2015-2017), soil, land cover and the monthly climate (the demo catalog also
writes monthly NDVI, which the chain does not ingest). 0.05 deg is 2.0 M cells, 0.02 deg 12.8 M, 0.01 deg 51 M.
The catalog is the demo's at 0.1 deg with its soil and land-cover rasters refined to the benchmark's
resolution window by window (``scale_catalog.py``: the demo generator holds whole grids), the monthly
climate kept at 0.1 deg as real climate products are coarser than soil maps.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from pipeline.config import ChunkSpec, GridSpec, JobSpec, PeriodSpec, RegionSpec
from pipeline.demo.catalog import DemoSpec, make_demo_catalog
from pipeline.ingest.stac_server import free_port, serve_catalog
from tests.benchmarks.scale_catalog import refine_catalog

AFRICA = (-18.0, -35.0, 52.0, 38.0)
YEARS = (2015, 2017)
SOURCES = ["demo-soilgrids", "demo-worldcover", "demo-climate"]
BASE_RES = 0.1  # the demo catalog's own resolution; the benchmark's are BASE_RES / integer


def refine_factor(res: float) -> int:
    factor = round(BASE_RES / res)
    if factor < 1 or abs(BASE_RES / factor - res) > 1e-9:
        raise ValueError(f"resolution: expected {BASE_RES} / an integer (0.05, 0.02, 0.01...), got {res}")
    return factor


def job_for(store: Path, res: float) -> JobSpec:
    return JobSpec(
        name="scale",
        region=RegionSpec(bbox=AFRICA),
        sources=SOURCES,
        grid=GridSpec(resolution=res),
        period=PeriodSpec(start=YEARS[0], end=YEARS[1]),
        store=str(store),
        chunks=ChunkSpec(y=512, x=512),
    )


def _tree_rss(proc: psutil.Process, extra: list[psutil.Process]) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True), *extra]:
        with contextlib.suppress(psutil.Error):  # a process that just ended
            total += p.memory_info().rss
    return total


def run_stage(code: str, extra: list[psutil.Process] | None = None) -> tuple[float, float, str]:
    """Run ``code`` in a child Python under the project's watchdog (it dies with this process):
    (wall s, peak tree RSS MiB, its last stdout line)."""
    from pipeline.processes import spawn_child, stop_children

    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = spawn_child([sys.executable, "-c", code], name="stage", stdout=out, stderr=err)
        try:
            proc = psutil.Process(child.pid)
            peak = 0
            while child.running():
                peak = max(peak, _tree_rss(proc, extra or []))
                time.sleep(0.05)
        finally:
            stop_children([child])
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    if child.returncode != 0:
        raise RuntimeError(errors[-3000:])
    return wall, peak / 2**20, (text.strip().splitlines() or [""])[-1]


def _code(body: str) -> str:
    return f"import sys\nsys.path.insert(0, {str(Path.cwd())!r})\nfrom pathlib import Path\n{body}\n"


def _ingest(store: Path, res: float, url: str) -> str:
    return _code(
        "from tests.benchmarks.scale import job_for\nfrom pipeline.ingest.job import run_ingest\n"
        f"run_ingest(job_for(Path({str(store)!r}), {res!r}), stac_url={url!r})"
    )


def _indicators(store: Path, work: Path, scheduler: str | None = None) -> str:
    return _code(
        "from pipeline.indicators.job import run_indicators\n"
        f"r = run_indicators({str(store)!r}, registry=Path({str(work / 'registry')!r}), "
        f"cache_dir=Path({str(work / 'cache')!r}), force_full=True, scheduler={scheduler!r})\n"
        "print(r.snapshot_id)"
    )


def _rothc(store: Path, res: float) -> str:
    return _code(
        "from tests.benchmarks.scale import job_for\nfrom pipeline.rothc.job import run_rothc_job\n"
        f"print(run_rothc_job(job_for(Path({str(store)!r}), {res!r})).pixels)"
    )


def _tables_equal(store: str, a: str, b: str) -> bool:
    import xarray as xr

    from pipeline.store import open_repo

    repo = open_repo(store)
    x, y = (
        xr.open_zarr(repo.readonly_session(snapshot_id=s).store, group="tables", consolidated=False).load()
        for s in (a, b)
    )
    names = [n for n in x.data_vars if n != "input_snapshot"]
    return all(np.array_equal(x[n].values, y[n].values, equal_nan=x[n].dtype.kind == "f") for n in names)


AFRICA_POINTS = ((-1.29, 36.82), (9.06, 7.49), (-26.2, 28.05), (30.04, 31.24), (14.72, -17.47))


def _cold_points(store: Path, work: Path) -> list[float]:
    """ms of the first ``/v1/point`` at each of five cities (five different chunks) on a freshly
    started API process: nothing of these cells is cached."""
    import httpx

    from tests.benchmarks.api import ApiProcess, BenchStore

    bs = BenchStore(str(store), work / "registry", Path(), Path(), None)
    out = []
    with ApiProcess(bs) as api, httpx.Client(base_url=api.base, timeout=60) as c:
        for lat, lon in AFRICA_POINTS:
            t0 = time.perf_counter()
            r = c.get("/v1/point", params={"lat": lat, "lon": lon})
            out.append((time.perf_counter() - t0) * 1e3)
            if r.status_code != 200:
                raise RuntimeError(f"/v1/point {lat},{lon}: {r.status_code} {r.text[:300]}")
    return out


def _distributed(store: Path, work: Path, local_snapshot: str) -> dict[str, float]:
    port = free_port()
    dask_bin = str(Path(sys.executable).parent / "dask")
    sched = subprocess.Popen(
        [dask_bin, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[subprocess.Popen[bytes]] = []
    try:
        addr = f"tcp://127.0.0.1:{port}"
        for _ in range(2):
            workers.append(
                subprocess.Popen(
                    [dask_bin, "worker", addr, "--nthreads", "1", "--no-dashboard"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        with Client(addr, timeout=60) as c:
            c.wait_for_workers(2, timeout=120)
        extra = [psutil.Process(p.pid) for p in (sched, *workers)]
        wall, rss, snap = run_stage(_indicators(store, work, addr), extra)
        return {
            "wall_s": wall,
            "rss_mib": rss,
            "tables_identical": float(_tables_equal(str(store), snap, local_snapshot)),
        }
    finally:
        for p in (*workers, sched):
            p.terminate()
            p.wait(30)


def bench_scale(
    resolutions: tuple[float, ...] = (0.05, 0.02, 0.01), distributed: bool = True, rothc: bool = True
) -> dict[str, dict[str, float]]:
    """Per resolution: cells and, per stage, wall time, cost per million cells and peak RSS
    (``rothc=False``: ingest and indicators only; the RothC figures are then 0)."""
    out: dict[str, dict[str, float]] = {}
    for res in resolutions:
        work = Path(tempfile.mkdtemp(prefix=f"socobs-scale-{res}-"))
        try:
            spec = DemoSpec(resolution=BASE_RES, start_year=YEARS[0], end_year=YEARS[1], bbox=AFRICA)
            make_demo_catalog(work / "base", spec)
            t0 = time.perf_counter()
            refine_catalog(work / "base", work / "catalog", refine_factor(res))
            store = work / "store"
            row: dict[str, float] = {"catalog_s": time.perf_counter() - t0}
            with serve_catalog(work / "catalog") as srv:
                row["ingest_s"], row["ingest_rss_mib"], _ = run_stage(_ingest(store, res, srv.url))
            row["indicators_s"], row["indicators_rss_mib"], snap = run_stage(_indicators(store, work))
            cold = _cold_points(store, work)
            row["cold_point_median_ms"], row["cold_point_max_ms"] = float(np.median(cold)), max(cold)
            row["rothc_s"], row["rothc_rss_mib"] = run_stage(_rothc(store, res))[:2] if rothc else (0.0, 0.0)
            from pipeline.grid import Grid
            from pipeline.store import open_cube

            ny, nx = Grid.of(open_cube(str(store))).shape
            row["cells"] = float(ny * nx)
            for stage in ("ingest", "indicators", "rothc"):
                row[f"{stage}_s_per_mcell"] = row[f"{stage}_s"] / (row["cells"] / 1e6)
            row["chain_s"] = row["ingest_s"] + row["indicators_s"] + row["rothc_s"]
            row["chain_s_per_mcell"] = row["chain_s"] / (row["cells"] / 1e6)
            row["peak_rss_mib"] = max(row["ingest_rss_mib"], row["indicators_rss_mib"], row["rothc_rss_mib"])
            if distributed and res == resolutions[0]:
                for k, v in _distributed(store, work, snap).items():
                    row[f"distributed_{k}"] = v
            out[str(res)] = row
            print(json.dumps({str(res): row}), flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return out


def goal_rows(r: dict[str, dict[str, float]]) -> list[tuple[str, str, str, bool]]:
    """The table lines of ``python -m tests.benchmarks``: figures per resolution and the goals."""
    keys = sorted(r, key=float, reverse=True)  # coarse to fine
    rows: list[tuple[str, str, str, bool]] = []
    for k in keys:
        x = r[k]
        rows.append(
            (
                f"scale {k} deg Africa: {x['cells'] / 1e6:.1f} M cells, ingest / indicators / rothc",
                f"{x['ingest_s']:.0f} / {x['indicators_s']:.0f} / {x['rothc_s']:.0f} s; "
                f"{x['chain_s_per_mcell']:.1f} s per M cells; peak RSS {x['ingest_rss_mib']:.0f} / "
                f"{x['indicators_rss_mib']:.0f} / {x['rothc_rss_mib']:.0f} MiB",
                "-",
                True,
            )
        )
    fine_key = keys[-1]
    if "cold_point_median_ms" in r[fine_key]:
        cp = r[fine_key]
        rows.append(
            (
                f"cold /v1/point on the {fine_key} deg store (5 cities, fresh API process)",
                f"median {cp['cold_point_median_ms']:.0f} ms, max {cp['cold_point_max_ms']:.0f} ms",
                "<= 50 ms",
                cp["cold_point_median_ms"] <= 50,
            )
        )
    if len(keys) >= 2:
        fine, prev, coarse = r[keys[-1]], r[keys[-2]], r[keys[0]]
        cost = fine["chain_s_per_mcell"] / prev["chain_s_per_mcell"]
        rows.append((f"cost per M cells, {keys[-1]} / {keys[-2]} deg", f"{cost:.2f}", "<= 1.3", cost <= 1.3))
        ratio = fine["peak_rss_mib"] / coarse["peak_rss_mib"]
        rows.append(
            (
                f"peak RSS, {keys[-1]} / {keys[0]} deg (any stage)",
                f"{ratio:.2f} ({fine['peak_rss_mib']:.0f} vs {coarse['peak_rss_mib']:.0f} MiB)",
                "<= 1.5 and < 4096 MiB",
                ratio <= 1.5 and fine["peak_rss_mib"] < 4096,
            )
        )
    first = r[keys[0]]
    if "distributed_tables_identical" in first:
        same = bool(first["distributed_tables_identical"])
        rows.append(
            (
                f"indicators on dask scheduler + 2 workers, {keys[0]} deg",
                f"tables {'identical' if same else 'DIFFERENT'}; {first['distributed_wall_s']:.0f} s, "
                f"{first['distributed_rss_mib']:.0f} MiB",
                "bit-identical",
                same,
            )
        )
    return rows


if __name__ == "__main__":
    print(json.dumps(bench_scale(), indent=2))
