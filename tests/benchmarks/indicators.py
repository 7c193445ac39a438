"""Indicator-job benchmark: on the demo cube (0.5 degrees, 10 epochs), the full job's wall time
and the incremental job's after ``socobs update`` appended the 10th epoch, in one run."""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pipeline.config import GridSpec, JobSpec, PeriodSpec, RegionSpec
from pipeline.demo.catalog import DemoSpec, make_demo_catalog
from pipeline.ingest.stac_server import serve_catalog

SOURCES = ["demo-soilgrids", "demo-worldcover", "demo-ndvi", "demo-climate"]


def _drop_year(src: Path, dst: Path, year: int) -> None:
    """A copy of the catalog whose collections do not link ``year``'s items (not yet published)."""
    shutil.copytree(src, dst)
    for col in dst.glob("*/collection.json"):
        doc = json.loads(col.read_text())
        doc["links"] = [ln for ln in doc["links"] if not (ln["rel"] == "item" and str(year) in ln["href"])]
        col.write_text(json.dumps(doc))


def bench_indicators(
    res: float = 0.5, years: tuple[int, int] = (2015, 2024), repeat: int = 3
) -> dict[str, float]:
    """Median of ``repeat`` incremental and full runs, alternated in one process."""
    from pipeline.indicators.job import run_indicators
    from pipeline.ingest.job import run_ingest, run_update

    work = Path(tempfile.mkdtemp(prefix="socobs-bench-ind-"))
    try:
        catalog = work / "catalog"
        make_demo_catalog(catalog, DemoSpec(resolution=res, start_year=years[0], end_year=years[1]))
        partial = work / "partial"
        _drop_year(catalog, partial, years[1])
        job = JobSpec(
            name="bench",
            region=RegionSpec(bbox=(-180, -60, 180, 84)),
            sources=SOURCES,
            grid=GridSpec(resolution=res),
            period=PeriodSpec(start=years[0], end=years[1]),
            store=str(work / "repo"),
        )
        kw = {"registry": work / "regions", "cache_dir": work / "cache"}
        with serve_catalog(partial) as srv:
            run_ingest(job, stac_url=srv.url)
        run_indicators(job.store, **kw)  # epochs 1-9; also warms the JIT and the coverage cache
        with serve_catalog(catalog) as srv:
            run_update(job, stac_url=srv.url)
        base = work / "repo-after-update"
        shutil.copytree(job.store, base)
        t_inc, t_full = [], []
        for _ in range(repeat):  # each incremental run starts from the same store state
            shutil.rmtree(job.store)
            shutil.copytree(base, job.store)
            t0 = time.perf_counter()
            inc = run_indicators(job.store, **kw)
            t_inc.append(time.perf_counter() - t0)
            assert inc.mode == "incremental" and len(inc.computed_epochs) == 1, inc
            t0 = time.perf_counter()
            full = run_indicators(job.store, force_full=True, **kw)
            t_full.append(time.perf_counter() - t0)
            assert full.mode == "full" and len(full.computed_epochs) == years[1] - years[0] + 1
        t_inc_m, t_full_m = statistics.median(t_inc), statistics.median(t_full)
        return {
            "full_s": t_full_m,
            "incremental_s": t_inc_m,
            "ratio": t_inc_m / t_full_m,
            "epochs": float(len(full.computed_epochs)),
            "regions": float(full.regions),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(bench_indicators(), indent=2))
