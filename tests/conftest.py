"""Shared fixtures: a small demo catalog, a real STAC API (rustac) serving it, and the API tests'
demo store (also used by the notebook tests). The catalog and the store are built once per
session, whatever the number of xdist workers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.demo.catalog import make_demo_catalog
from pipeline.ingest.stac_server import StacServer, serve_catalog
from tests.support.api_store import ApiStore, build_api_store
from tests.support.demo import SMALL_DEMO
from tests.support.once import build_once


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Made once per session, shared by the xdist workers (tests/support/once.py): read only."""

    def make(root: Path) -> Path:
        if not (root / "catalog").exists():
            make_demo_catalog(root / "catalog", SMALL_DEMO)
        return root / "catalog"

    return build_once(tmp_path_factory, "demo", make)


@pytest.fixture(scope="session")
def stac_api(demo_catalog: Path) -> Iterator[StacServer]:
    with serve_catalog(demo_catalog) as server:
        yield server


@pytest.fixture(scope="session")
def api_store(tmp_path_factory: pytest.TempPathFactory) -> ApiStore:
    """A demo store with indicators and RothC maps, built once through the real pipeline, once
    per session for both xdist workers (tests/support/once.py): read only, copy it to write."""
    reuse = os.environ.get("SOCOBS_TEST_API_STORE")  # a developer's shortcut: build once, reuse
    if reuse:
        return build_api_store(Path(reuse))
    return build_once(tmp_path_factory, "api", build_api_store)


# The longest test files first: with two pytest-xdist workers handing out whole files in
# collection order (`make test`: --dist loadfile --no-loadscope-reorder; xdist would otherwise
# order files by their number of tests), a long file collected last would run alone at the end.
# The sort is stable and the same on every worker, so xdist's collections agree.
LONGEST_FIRST = (
    "tests/test_docker.py",
    "tests/integration/test_signals.py",
    "tests/observatory_api/test_schemathesis.py",
    "tests/browser/",
    "tests/integration/",
)

# Files that use the same session build (tests/support/once.py) are kept apart, so that the
# other worker runs other files meanwhile instead of waiting on the lock for the same build:
# the SDG store is built for tests/browser/test_sdg_map.py; its other users come much later.
AFTER_THE_LONGEST = ("tests/browser/test_sdg_panel.py",)


def _rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    if path in AFTER_THE_LONGEST:
        return len(LONGEST_FIRST)
    return next((i for i, p in enumerate(LONGEST_FIRST) if path.startswith(p)), len(LONGEST_FIRST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)
