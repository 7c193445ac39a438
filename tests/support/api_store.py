"""The API tests' demo store: indicators and RothC maps built through the real pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import GridSpec, PeriodSpec
from pipeline.demo.catalog import DemoSpec, make_demo_catalog
from pipeline.indicators.job import run_indicators
from pipeline.ingest.job import run_ingest
from pipeline.ingest.stac_server import serve_catalog
from pipeline.rothc.job import run_rothc_job
from tests.support.demo import demo_job, subset_catalog

RES = 2.0


@dataclass(frozen=True)
class ApiStore:
    root: Path
    store: str
    registry: Path
    catalog: Path  # 2015-2017
    partial: Path  # the same without 2017


def build_api_store(root: Path) -> ApiStore:
    """Build the store under ``root`` (or reuse one a previous build marked done)."""
    if (root / "done").exists():
        return ApiStore(root, str(root / "repo"), root / "regions", root / "catalog", root / "partial")
    root.mkdir(parents=True, exist_ok=True)
    catalog = root / "catalog"
    make_demo_catalog(catalog, DemoSpec(resolution=RES, start_year=2015, end_year=2017, seed=11))
    partial = root / "partial"
    subset_catalog(catalog, partial, 2017)
    job = demo_job(root / "repo", grid=GridSpec(resolution=RES), period=PeriodSpec(start=2015, end=2017))
    with serve_catalog(catalog) as srv:
        run_ingest(job, stac_url=srv.url)
    registry = root / "regions"
    run_indicators(job.store, registry=registry, cache_dir=root / "cache")
    run_rothc_job(job, years=5)
    (root / "done").touch()
    return ApiStore(root, job.store, registry, catalog, partial)
