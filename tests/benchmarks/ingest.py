"""Ingestion benchmark: ``run_ingest`` vs a plain odc-stac load + ``to_zarr`` of the same items
on the same grid, chunking and dask cluster (ratio of wall times, one run); and the peak RSS of
an ingestion when the region grows 4x at the same chunking (each in its own process)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.config import ChunkSpec, GridSpec, JobSpec, PeriodSpec, RegionSpec
from pipeline.demo.catalog import DemoSpec, make_demo_catalog
from pipeline.ingest.stac_server import serve_catalog

SOURCES = ["demo-soilgrids", "demo-worldcover", "demo-ndvi", "demo-climate"]


def _job(store: Path, bbox: tuple[float, float, float, float], res: float, years: tuple[int, int]) -> JobSpec:
    return JobSpec(
        name="bench",
        region=RegionSpec(bbox=bbox),
        sources=SOURCES,
        grid=GridSpec(resolution=res),
        period=PeriodSpec(start=years[0], end=years[1]),
        store=str(store),
        chunks=ChunkSpec(y=128, x=128),
    )


def _plain(job: JobSpec, url: str, dest: Path) -> None:
    """What a user would write without the pipeline: search, load every asset, write."""
    import odc.stac
    import pystac_client

    from pipeline.ingest.harmonise import job_bbox, job_geobox
    from pipeline.ingest.job import dask_client

    geobox = job_geobox(job)
    client = pystac_client.Client.open(url)
    with dask_client(None):
        for k, col in enumerate(SOURCES):
            items = list(
                client.search(
                    collections=[col],
                    bbox=list(job_bbox(job)),
                    datetime=f"{job.period.start}-01-01/{job.period.end}-12-31",
                ).items()
            )
            ds = odc.stac.load(items, geobox=geobox, chunks={"y": job.chunks.y, "x": job.chunks.x})
            ds.to_zarr(dest, group=col, mode="w", zarr_format=3, consolidated=False)
            del k


def _child_rss(
    catalog: Path, store: Path, bbox: tuple[float, ...], res: float, years: tuple[int, int], url: str
) -> int:
    code = f"""
import sys
sys.path.insert(0, {str(Path.cwd())!r})
from tests.benchmarks.ingest import _job
from pipeline.ingest.job import run_ingest
if __name__ == "__main__":
    run_ingest(_job(__import__("pathlib").Path({str(store)!r}), {tuple(bbox)!r}, {res!r}, {years!r}), stac_url={url!r})
    # VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across execve, so a child forked
    # from a large parent would report the parent's peak (it did: both sizes read 1999 MiB).
    hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")][0]
    print(int(hwm.split()[1]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return int(out.stdout.strip().splitlines()[-1])  # KiB


def bench_ingest(res: float = 0.25, years: tuple[int, int] = (2015, 2016)) -> dict[str, float]:
    from pipeline.ingest.job import run_ingest

    work = Path(tempfile.mkdtemp(prefix="socobs-bench-"))
    try:
        catalog = work / "catalog"
        make_demo_catalog(catalog, DemoSpec(resolution=res, start_year=years[0], end_year=years[1]))
        full = (-180.0, -60.0, 180.0, 84.0)
        quarter = (-180.0, -60.0, 0.0, 12.0)  # half the width, half the height
        with serve_catalog(catalog) as srv:
            job = _job(work / "ours", full, res, years)
            run_ingest(_job(work / "warm", quarter, res, years), stac_url=srv.url)  # warm caches/JIT
            t0 = time.perf_counter()
            run_ingest(job, stac_url=srv.url)
            t_ours = time.perf_counter() - t0
            t0 = time.perf_counter()
            _plain(job, srv.url, work / "plain.zarr")
            t_plain = time.perf_counter() - t0
            rss_small = _child_rss(catalog, work / "rss-small", quarter, res, years, srv.url)
            rss_big = _child_rss(catalog, work / "rss-big", full, res, years, srv.url)
        return {
            "ingest_s": t_ours,
            "plain_odc_to_zarr_s": t_plain,
            "ratio": t_ours / t_plain,
            "rss_quarter_mib": rss_small / 1024,
            "rss_full_mib": rss_big / 1024,
            "rss_growth": rss_big / rss_small - 1.0,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(bench_ingest(), indent=2))
