"""API benchmarks on the demo store (0.5 degrees, 10 epochs), measured side by side in one run.

Tiles: a fixed set of tiles over zooms 0-8 (the tiles holding five land points at every zoom),
rendered to PNG by our renderer and by rio-tiler's ``XarrayReader`` (nearest resampling, same
colour ramp and rescale) from the same indicator map; median and p99 per tile. Ours runs
without its tile cache (every tile rendered), with its decoded-chunk cache warm, as a running
server has it; rio-tiler gets the same map already in memory.

Load: a uvicorn process serving the store, and the load generator (``tests.benchmarks.loadgen``)
in a second process with 50 keep-alive connections on ``/v1/regions/{id}/summary``. The mixed
load, adversarial AOI and cold point benchmarks are in ``tests.benchmarks.api_hostile``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import morecantile
import numpy as np

POINTS = [(2.35, 48.85), (36.8, -1.3), (-46.6, -23.5), (116.4, 39.9), (-87.6, 41.9)]  # Paris, Nairobi, ...


def tile_set(zooms: range = range(0, 9)) -> list[tuple[int, int, int]]:
    tms = morecantile.tms.get("WebMercatorQuad")
    out = []
    for z in zooms:
        for lon, lat in POINTS:
            t = tms.tile(lon, lat, z)
            out.append((z, t.x, t.y))
    return sorted(set(out))


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[int(q * (len(s) - 1))]


def bench_tiles(store: str, registry: Path, passes: int = 3) -> dict[str, float]:
    from rio_tiler.colormap import cmap as rt_cmaps
    from rio_tiler.io import XarrayReader

    from observatory_api import Settings
    from observatory_api.reader import load_snapshot
    from observatory_api.render import PALETTES
    from observatory_api.services.maps import render_tile

    snap = load_snapshot(Settings(store=store, registry=registry))
    k = len(snap.epochs) - 1
    rescale = (0.0, 150.0)
    tiles = tile_set()
    for z, x, y in tiles:  # warm the decoded-slice cache and the JIT-free numpy paths
        render_tile(snap, "soc_stock", z, x, y, k, "ylorbr", rescale)
    ours: list[float] = []
    for _ in range(passes):
        for z, x, y in tiles:
            t0 = time.perf_counter()
            render_tile(snap, "soc_stock", z, x, y, k, "ylorbr", rescale)
            ours.append(time.perf_counter() - t0)
    da = snap.base.ds["soc_stock"].isel(epoch=k).load()
    da = da.rio.write_crs("EPSG:4326").rio.set_spatial_dims(x_dim="x", y_dim="y")
    pal = PALETTES["ylorbr"]
    cm = {i: (int(pal[i][0]), int(pal[i][1]), int(pal[i][2]), 255) for i in range(255)}
    cm[255] = (0, 0, 0, 0)
    del rt_cmaps  # the same palette as ours, passed explicitly
    theirs: list[float] = []
    with XarrayReader(da) as src:
        for _ in range(passes):
            for z, x, y in tiles:
                t0 = time.perf_counter()
                img = src.tile(x, y, z, reproject_method="nearest", nodata=np.nan)
                img.rescale(in_range=(rescale,), out_range=((0, 254),))
                img.render(img_format="PNG", colormap=cm)
                theirs.append(time.perf_counter() - t0)
    return {
        "tiles": float(len(tiles)),
        "ours_median_ms": statistics.median(ours) * 1e3,
        "ours_p99_ms": _pct(ours, 0.99) * 1e3,
        "riotiler_median_ms": statistics.median(theirs) * 1e3,
        "riotiler_p99_ms": _pct(theirs, 0.99) * 1e3,
        "speedup_median": statistics.median(theirs) / statistics.median(ours),
    }


@dataclass(frozen=True)
class BenchStore:
    """A demo store with indicators; the catalog's last year held back for an update later."""

    store: str
    registry: Path
    catalog: Path  # every year
    cache: Path
    job: Any  # pipeline.config.JobSpec
    but_last: Path | None = None  # the catalog without its last year


class ApiProcess:
    """``socobs-api`` in its own process on a free port, ready (``/readyz``) inside the block."""

    def __init__(
        self, bs: BenchStore, poll_seconds: float = 5.0, extra_env: dict[str, str] | None = None
    ) -> None:
        from pipeline.ingest.stac_server import free_port

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "SOCOBS_POLL_SECONDS": str(poll_seconds), **(extra_env or {})}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "observatory_api",
                "--port",
                str(self.port),
                "--store",
                bs.store,
                "--registry",
                str(bs.registry),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        self.pid = self.proc.pid

    def __enter__(self) -> ApiProcess:
        for _ in range(600):
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("the API did not become ready")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def bench_load(store: str, registry: Path, seconds: float = 10.0, connections: int = 50) -> dict[str, float]:
    bs = BenchStore(store, registry, Path(), Path(), None)
    with ApiProcess(bs) as api:
        base = api.base
        ids = [
            r["region_id"]
            for r in httpx.get(f"{base}/v1/regions", params={"level": "country"}).json()["regions"]
        ]
        paths = [f"/v1/regions/{i}/summary" for i in ["global", "africa", "europe", *ids[:60]]]
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.benchmarks.loadgen",
                base,
                *paths,
                "--connections",
                str(connections),
                "--seconds",
                str(seconds),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def bench_store(work: Path, res: float = 0.5, years: tuple[int, int] = (2015, 2024)) -> BenchStore:
    """A demo store with indicators over ``years`` but the last two (catalog -> STAC API -> ingest
    -> indicators); ``run_update`` with ``but_last`` brings the year before the last in, with
    ``catalog`` the last."""
    from pipeline.config import GridSpec, JobSpec, PeriodSpec, RegionSpec
    from pipeline.demo.catalog import DemoSpec, make_demo_catalog
    from pipeline.indicators.job import run_indicators
    from pipeline.ingest.job import run_ingest
    from pipeline.ingest.stac_server import serve_catalog
    from tests.support.demo import subset_catalog

    catalog = work / "catalog"
    make_demo_catalog(catalog, DemoSpec(resolution=res, start_year=years[0], end_year=years[1]))
    but_last, partial = work / "but-last", work / "partial"
    subset_catalog(catalog, but_last, years[1])
    subset_catalog(but_last, partial, years[1] - 1)
    job = JobSpec(
        name="bench-api",
        region=RegionSpec(bbox=(-180, -60, 180, 84)),
        sources=["demo-soilgrids", "demo-worldcover", "demo-ndvi", "demo-climate"],
        grid=GridSpec(resolution=res),
        period=PeriodSpec(start=years[0], end=years[1]),
        store=str(work / "repo"),
    )
    with serve_catalog(partial) as srv:
        run_ingest(job, stac_url=srv.url)
    run_indicators(job.store, registry=work / "regions", cache_dir=work / "cache")
    return BenchStore(job.store, work / "regions", catalog, work / "cache", job, but_last)


def demo_store(work: Path, res: float = 0.5, years: tuple[int, int] = (2015, 2024)) -> tuple[str, Path]:
    """A demo store with indicators (its last two years held back); (store, registry)."""
    bs = bench_store(work, res, years)
    return bs.store, bs.registry


if __name__ == "__main__":
    import tempfile

    w = Path(tempfile.mkdtemp())
    s, r = demo_store(w)
    print(json.dumps({"tiles": bench_tiles(s, r), "load": bench_load(s, r)}, indent=2))
