"""Monthly-signals benchmark: on the demo cube's NDVI (0.5 degrees, 2015-2024, 120 months), the
monthly job updating one new month (after ``socobs update`` appended December 2024) against the
same job recomputing every month, side by side in one run (medians, alternated).

Run alone: ``python -m tests.benchmarks.monthly [--quick]``."""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pipeline.config import GridSpec, JobSpec, PeriodSpec, RegionSpec
from pipeline.demo.catalog import DemoSpec, make_demo_catalog
from pipeline.ingest.stac_server import serve_catalog

GOAL = 0.2  # incremental / full


def _drop_month(src: Path, dst: Path, stamp: str) -> None:
    shutil.copytree(src, dst)
    col = dst / "demo-ndvi" / "collection.json"
    doc = json.loads(col.read_text())
    doc["links"] = [ln for ln in doc["links"] if f"demo-ndvi-{stamp}" not in ln.get("href", "")]
    col.write_text(json.dumps(doc))


def bench_monthly(quick: bool) -> dict[str, float]:
    """Median wall times of ``repeat`` incremental (one new month) and full runs of the monthly
    job; each incremental run starts from the same store state (right after the update)."""
    from pipeline.ingest.job import run_ingest, run_update
    from pipeline.monthly.job import run_monthly

    res, years, repeat = (2.0, (2015, 2018), 2) if quick else (0.5, (2015, 2024), 3)
    last = f"{years[1]}-12"
    work = Path(tempfile.mkdtemp(prefix="socobs-bench-monthly-"))
    try:
        catalog = work / "catalog"
        make_demo_catalog(catalog, DemoSpec(resolution=res, start_year=years[0], end_year=years[1]))
        partial = work / "partial"
        _drop_month(catalog, partial, last)
        job = JobSpec(
            name="bench-monthly",
            region=RegionSpec(bbox=(-180, -60, 180, 84)),
            sources=["demo-ndvi"],
            grid=GridSpec(resolution=res),
            period=PeriodSpec(start=years[0], end=years[1]),
            store=str(work / "repo"),
        )
        regions, cache = work / "regions", work / "cache"
        with serve_catalog(partial) as srv:
            run_ingest(job, stac_url=srv.url)
        first = run_monthly(
            job.store, registry=regions, cache_dir=cache
        )  # every month but the last; warms the JIT and the coverage cache
        with serve_catalog(catalog) as srv:
            run_update(job, stac_url=srv.url)
        base = work / "repo-after-update"
        shutil.copytree(job.store, base)
        t_inc, t_full, months_full = [], [], 0
        for _ in range(repeat):
            shutil.rmtree(job.store)
            shutil.copytree(base, job.store)
            t0 = time.perf_counter()
            inc = run_monthly(job.store, registry=regions, cache_dir=cache)
            t_inc.append(time.perf_counter() - t0)
            assert inc.mode == "incremental" and inc.months == [last], (inc.mode, inc.months)
            t0 = time.perf_counter()
            full = run_monthly(job.store, registry=regions, cache_dir=cache, force_full=True)
            t_full.append(time.perf_counter() - t0)
            months_full = len(full.months)
        inc_s, full_s = statistics.median(t_inc), statistics.median(t_full)
        return {
            "incremental_s": inc_s,
            "full_s": full_s,
            "ratio": inc_s / full_s,
            "months": float(months_full),
            "first_months": float(len(first.months)),
            "cells": float((144 / res) * (360 / res)),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def goal_rows(d: dict[str, float]) -> list[tuple[str, str, str, bool]]:
    return [
        (
            "monthly signals: update one new month vs recompute all months (demo cube)",
            f"{d['incremental_s']:.2f} s vs {d['full_s']:.2f} s for {d['months']:.0f} months: "
            f"ratio {d['ratio']:.3f}",
            f"<= {GOAL} x",
            d["ratio"] <= GOAL,
        )
    ]


if __name__ == "__main__":
    result = bench_monthly("--quick" in sys.argv[1:])
    print(json.dumps(result, indent=2))
    for label, measured, goal, met in goal_rows(result):
        print(f"{'MET ' if met else 'MISS'} {label}: {measured} (goal {goal})")
