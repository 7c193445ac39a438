"""The API test client over the shared demo store (the ``api_store`` fixture, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from observatory_api import Settings, create_app
from tests.support.api_store import ApiStore


@pytest.fixture(scope="session")
def client(api_store: ApiStore) -> Iterator[TestClient]:
    settings = Settings(
        store=api_store.store,
        registry=api_store.registry,
        poll_seconds=3600,
        admin_api_key="k" * 20,
        cors_origins=["https://dash.example.org"],
        client_requests_per_minute=100_000,  # the suite asks much of one client; limits: test_limits
    )
    with TestClient(create_app(settings)) as c:
        yield c
