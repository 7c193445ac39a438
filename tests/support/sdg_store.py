"""The SDG 15.3.1 tests' demo store: six years (2015-2020), so that both periods have the five
NDVI years the productivity state needs (two earlier years and the last three), built through
the real pipeline (ingest from the demo STAC server, then the indicator job)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import ChunkSpec, GridSpec, PeriodSpec
from pipeline.demo.catalog import DemoSpec, make_demo_catalog
from pipeline.ingest.job import run_ingest
from pipeline.ingest.stac_server import serve_catalog
from tests.support.demo import demo_job
from tests.support.once import build_once, private_copy

if TYPE_CHECKING:  # pytest is only imported by the tests that pass a TempPathFactory
    import pytest

RES = 4.0
YEARS = (2015, 2020)


@dataclass(frozen=True)
class SdgStore:
    root: Path
    store: str
    registry: Path
    cache: Path


def _at(root: Path) -> SdgStore:
    return SdgStore(root, str(root / "repo"), root / "regions", root / "cache")


def build_sdg_store(root: Path) -> SdgStore:
    """Ingest the six-year demo under ``root`` (no indicators yet: the tests run the job)."""
    out = _at(root)
    if (root / "done").exists():
        return out
    root.mkdir(parents=True, exist_ok=True)
    catalog = root / "catalog"
    make_demo_catalog(catalog, DemoSpec(resolution=RES, start_year=YEARS[0], end_year=YEARS[1], seed=5))
    job = demo_job(
        root / "repo",
        grid=GridSpec(resolution=RES),
        period=PeriodSpec(start=YEARS[0], end=YEARS[1]),
        chunks=ChunkSpec(y=16, x=16),  # small chunks: the SDG pass runs over several tiles
    )
    with serve_catalog(catalog) as srv:
        run_ingest(job, stac_url=srv.url)
    (root / "done").touch()
    return out


BOX = (10.3, -20.7, 41.9, 13.1)  # a custom region (lon/lat) cutting through cells: exact areas


def build_sdg_indicators(root: Path) -> SdgStore:
    """``build_sdg_store`` plus a custom region set (``BOX``, id ``SDG_BOX``) and one run of the
    indicator job on 16 x 16 tiles (3 x 6 tiles of the 37 x 90 grid, its chunks)."""
    import geopandas as gpd
    import shapely

    from pipeline.indicators.job import run_indicators
    from pipeline.regions.hierarchy import add_region_set

    out = build_sdg_store(root)
    if (root / "indicators-done").exists():
        return out
    box = gpd.GeoDataFrame(
        {"rid": ["SDG_BOX"], "label": ["SDG test box"]}, geometry=[shapely.box(*BOX)], crs=4326
    )
    box.to_file(root / "box.gpkg")
    add_region_set(
        root / "box.gpkg", registry=out.registry, level="custom", id_field="rid", name_field="label"
    )
    run_indicators(out.store, registry=out.registry, cache_dir=out.cache, block=16)
    (root / "indicators-done").touch()
    return out


# Once per test session (tests/support/once.py): the ingest (~80 s) and the indicator job on a
# copy of it are shared by every module and both xdist workers. Read only: a module that runs a
# job on the store or registers regions takes ``sdg_store_copy``.


def shared_sdg_store(factory: pytest.TempPathFactory) -> SdgStore:
    """``build_sdg_store`` once per session (read only)."""
    return build_once(factory, "sdg-ingest", build_sdg_store)


def shared_sdg_indicators(factory: pytest.TempPathFactory) -> SdgStore:
    """``build_sdg_indicators`` once per session (read only), on a copy of the shared ingest;
    ``$SOCOBS_TEST_SDG_STORE`` names a folder to build it in and reuse across sessions."""
    reuse = os.environ.get("SOCOBS_TEST_SDG_STORE")
    if reuse:
        return build_sdg_indicators(Path(reuse))
    ingest = shared_sdg_store(factory)

    def build(root: Path) -> SdgStore:
        if not root.exists():
            private_copy(ingest.root, root)
        return build_sdg_indicators(root)

    return build_once(factory, "sdg-indicators", build)


def sdg_store_copy(factory: pytest.TempPathFactory, name: str) -> SdgStore:
    """A module's own copy of the shared ingest (no indicators yet), to run jobs on."""
    return _at(private_copy(shared_sdg_store(factory).root, factory.mktemp(name) / "sdg"))


def sdg_indicators_copy(factory: pytest.TempPathFactory, name: str) -> SdgStore:
    """A module's own copy of the shared store with the indicators, for tests that write to it
    (a job, a writable session, a region set); ``$SOCOBS_TEST_SDG_STORE`` is honoured."""
    return _at(private_copy(shared_sdg_indicators(factory).root, factory.mktemp(name) / "sdg"))
