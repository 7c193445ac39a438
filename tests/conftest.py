"""Shared fixtures: a small demo catalog and a real STAC API (rustac) serving it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.demo_catalog import DemoSpec, make_demo_catalog
from pipeline.stac_server import StacServer, serve_catalog

# Coarse and short so the whole suite stays fast; the same code path as the full demo.
SMALL_DEMO = DemoSpec(resolution=4.0, start_year=2015, end_year=2016, seed=7)


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "catalog"
    make_demo_catalog(root, SMALL_DEMO)
    return root


@pytest.fixture(scope="session")
def stac_api(demo_catalog: Path) -> Iterator[StacServer]:
    with serve_catalog(demo_catalog) as server:
        yield server
