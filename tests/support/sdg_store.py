"""The SDG 15.3.1 tests' demo store: six years (2015-2020), so that both periods have the five
NDVI years the productivity state needs (two earlier years and the last three), built through
the real pipeline (ingest from the demo STAC server, then the indicator job)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import GridSpec, PeriodSpec
from pipeline.demo.catalog import DemoSpec, make_demo_catalog
from pipeline.ingest.job import run_ingest
from pipeline.ingest.stac_server import serve_catalog
from tests.support.demo import demo_job

RES = 4.0
YEARS = (2015, 2020)


@dataclass(frozen=True)
class SdgStore:
    root: Path
    store: str
    registry: Path
    cache: Path


def build_sdg_store(root: Path) -> SdgStore:
    """Ingest the six-year demo under ``root`` (no indicators yet: the tests run the job)."""
    out = SdgStore(root, str(root / "repo"), root / "regions", root / "cache")
    if (root / "done").exists():
        return out
    root.mkdir(parents=True, exist_ok=True)
    catalog = root / "catalog"
    make_demo_catalog(catalog, DemoSpec(resolution=RES, start_year=YEARS[0], end_year=YEARS[1], seed=5))
    job = demo_job(root / "repo", grid=GridSpec(resolution=RES), period=PeriodSpec(start=YEARS[0], end=YEARS[1]))
    with serve_catalog(catalog) as srv:
        run_ingest(job, stac_url=srv.url)
    (root / "done").touch()
    return out
