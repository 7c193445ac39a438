"""Property-based checks of the API against its own OpenAPI schema (schemathesis): no 5xx for
any generated request, and every response conforms to the documented schema.

The operations are driven through schemathesis' strategies with hypothesis directly (its pytest
plugin's fixture mode does not run under this pytest version)."""

from __future__ import annotations

import asyncio

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from observatory_api import Settings, create_app
from observatory_api.services import registry

# Conformance and no 5xx. Not "positive data acceptance": a schema-valid epoch such as 262 is
# still absent from the store (the schema cannot know which epochs a store holds), and the
# API rightly answers 404 for it.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


OPERATIONS = [
    "GET /v1/regions",
    "GET /v1/regions/{region_id}",
    "GET /v1/indicators",
    "GET /v1/regions/{region_id}/indicators/{indicator}",
    "GET /v1/regions/{region_id}/indicators/ndvi_anomaly",
    "GET /v1/regions/{region_id}/indicators/bare_soil_frequency",
    "GET /v1/regions/{region_id}/indicators/productivity_ratio",
    "GET /v1/regions/{region_id}/sdg15_3_1",
    "GET /v1/tiles/sdg/{layer}/{z}/{x}/{y}.png",
    "GET /v1/tiles/sdg/{layer}/legend",
    "GET /v1/tiles/sdg/{layer}/tilejson.json",
    "GET /v1/tiles/monthly/{signal}/{z}/{x}/{y}.png",
    "GET /v1/tiles/monthly/{signal}/tilejson.json",
    "GET /v1/tiles/monthly/{signal}/legend",
    "GET /v1/regions/{region_id}/summary",
    "GET /v1/rankings/{indicator}",
    "GET /v1/point",
    "POST /v1/aoi/assess",
    "POST /v1/assess/ex-ante",
    "GET /v1/practices",
    "GET /v1/kpis",
    "GET /v1/kpis/{kpi_id}",
    "GET /v1/basemap/{level}.geojson",
    "GET /v1/tiles/{indicator}/{z}/{x}/{y}.png",
    "GET /v1/tiles/{indicator}/tilejson.json",
    "GET /v1/tiles/{indicator}/legend",
    "GET /v1/catalog/systems",
    "GET /v1/stac",
    "GET /v1/stac/items",
    "GET /v1/stac/items/{item_id}",
    "GET /v1/whatif/{practice}",
    "GET /v1/whatif/{practice}/tiles/{z}/{x}/{y}.png",
    "GET /v1/whatif/{practice}/tilejson.json",
    "GET /v1/whatif/{practice}/legend",
    "GET /v1/organisations",
    "POST /v1/organisations",
    "GET /v1/projects",
    "POST /v1/projects",
    "GET /v1/projects/{project_id}",
    "PATCH /v1/projects/{project_id}",
    "DELETE /v1/projects/{project_id}",
    "GET /v1/projects/{project_id}/assessment",
    "POST /v1/kpis/{kpi_id}/observations",
    "GET /v1/kpis/{kpi_id}/observations",
    "GET /v1/audit",
    "GET /v1/status",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "POST /v1/admin/refresh",
]


@pytest.fixture(scope="module")
def operations(api_store, tmp_path_factory):
    settings = Settings(
        store=api_store.store,
        registry=api_store.registry,
        var=tmp_path_factory.mktemp("var"),  # the registry's SQLite database
        poll_seconds=3600,
        admin_api_key="a" * 24,
        client_requests_per_minute=100_000,
    )
    app = create_app(settings)
    asyncio.run(app.state.reader.refresh())  # serve the store without waiting for the lifespan
    registry.start(app.state)  # and the registry (migrated), as the lifespan does
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return {f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in schema.get_all_operations())}


def test_every_endpoint_is_covered(operations):
    assert set(operations) == set(OPERATIONS)


@pytest.mark.parametrize("name", OPERATIONS)
def test_no_5xx_and_responses_match_the_schema(operations, name):
    op = operations[name]

    @given(case=op.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code < 500, (case.path, response.text[:300])
        if response.status_code >= 400:  # one error format everywhere
            ct = response.headers["content-type"]
            assert (ct[0] if isinstance(ct, list) else ct) == "application/problem+json", response.text[:300]
            body = response.json()
            assert body["status"] == response.status_code and body["detail"] and body["request_id"]

    run()
