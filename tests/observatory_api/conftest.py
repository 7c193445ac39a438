"""A demo store with indicators and RothC maps, built once through the real pipeline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from observatory_api import Settings, create_app
from pipeline.config import GridSpec, PeriodSpec
from pipeline.demo_catalog import DemoSpec, make_demo_catalog
from pipeline.indicators import run_indicators
from pipeline.ingest import run_ingest
from pipeline.rothc_job import run_rothc_job
from pipeline.stac_server import serve_catalog
from tests.integration.test_ingest import _subset_catalog, demo_job

RES = 2.0


@dataclass(frozen=True)
class ApiStore:
    root: Path
    store: str
    registry: Path
    catalog: Path  # 2015-2017
    partial: Path  # the same without 2017


@pytest.fixture(scope="session")
def api_store(tmp_path_factory: pytest.TempPathFactory) -> ApiStore:
    reuse = os.environ.get("SOCOBS_TEST_API_STORE")  # a developer's shortcut: build once, reuse
    root = Path(reuse) if reuse else tmp_path_factory.mktemp("api")
    if reuse and (root / "done").exists():
        return ApiStore(root, str(root / "repo"), root / "regions", root / "catalog", root / "partial")
    root.mkdir(parents=True, exist_ok=True)
    catalog = root / "catalog"
    make_demo_catalog(catalog, DemoSpec(resolution=RES, start_year=2015, end_year=2017, seed=11))
    partial = root / "partial"
    _subset_catalog(catalog, partial, 2017)
    job = demo_job(root / "repo", grid=GridSpec(resolution=RES), period=PeriodSpec(start=2015, end=2017))
    with serve_catalog(catalog) as srv:
        run_ingest(job, stac_url=srv.url)
    registry = root / "regions"
    run_indicators(job.store, registry=registry, cache_dir=root / "cache")
    run_rothc_job(job, years=5)
    (root / "done").touch()
    return ApiStore(root, job.store, registry, catalog, partial)


@pytest.fixture(scope="session")
def client(api_store: ApiStore) -> Iterator[TestClient]:
    settings = Settings(
        store=api_store.store,
        registry=api_store.registry,
        poll_seconds=3600,
        admin_api_key="k" * 20,
        cors_origins=["https://dash.example.org"],
    )
    with TestClient(create_app(settings)) as c:
        yield c
