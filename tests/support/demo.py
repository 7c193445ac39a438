"""The small demo the tests share: its catalog spec, job, a catalog with a year held back, and
its ingest at a finer grid built once per session."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import GridSpec, JobSpec, PeriodSpec, RegionSpec
from pipeline.demo.catalog import DemoSpec
from tests.support.once import build_once

if TYPE_CHECKING:  # pytest is only imported by the tests that pass a TempPathFactory
    import pytest

# Coarse and short so the whole suite stays fast; the same code path as the full demo.
SMALL_DEMO = DemoSpec(resolution=4.0, start_year=2015, end_year=2016, seed=7)
SOURCES = ["demo-soilgrids", "demo-worldcover", "demo-ndvi", "demo-climate"]


def demo_job(store: Path, **kw: Any) -> JobSpec:
    """A job over the small demo catalog, writing to ``store``."""
    base: dict[str, Any] = dict(
        name="test",
        region=RegionSpec(bbox=(-180, -60, 180, 84)),
        sources=SOURCES,
        grid=GridSpec(resolution=SMALL_DEMO.resolution),
        period=PeriodSpec(start=SMALL_DEMO.start_year, end=SMALL_DEMO.end_year),
        store=str(store),
    )
    base.update(kw)
    return JobSpec(**base)


def subset_catalog(src: Path, dst: Path, drop_year: int) -> None:
    """A copy of the catalog without the items of ``drop_year`` (as if not yet published)."""
    shutil.copytree(src, dst)
    for col in dst.glob("*/collection.json"):
        doc = json.loads(col.read_text())
        doc["links"] = [
            ln for ln in doc["links"] if not (ln["rel"] == "item" and str(drop_year) in ln["href"])
        ]
        col.write_text(json.dumps(doc))


def shared_ingest(factory: pytest.TempPathFactory, stac_url: str, resolution: float) -> Path:
    """The small demo (served at ``stac_url``) ingested at ``resolution`` over its whole period,
    once per session for both xdist workers (tests/support/once.py): the store, read only (take
    a ``private_copy`` to run jobs on it)."""
    from pipeline.ingest.job import run_ingest

    def ingest(root: Path) -> Path:
        if not (root / "repo").exists():
            run_ingest(demo_job(root / "repo", grid=GridSpec(resolution=resolution)), stac_url=stac_url)
        return root / "repo"

    return build_once(factory, f"small-demo-ingest-{resolution:g}", ingest)
