"""The monthly series door on a store without monthly signals (the shared API store is built by
the yearly indicator job only, tests/support/api_store.py): a problem, not a 500; the yearly
series and the status are unchanged. With monthly signals: tests/integration/test_monthly_live.py."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"
SIGNALS = ("ndvi_anomaly", "bare_soil_frequency", "productivity_ratio")


def test_status_has_no_monthly_freshness_without_the_group(client):
    body = client.get("/v1/status").json()
    assert "monthly" in body and body["monthly"] is None


@pytest.mark.parametrize("signal", SIGNALS)
def test_monthly_series_is_a_404_problem_without_the_group(client, signal):
    r = client.get(f"/v1/regions/KEN/indicators/{signal}")
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert "no monthly signals" in body["detail"] and "socobs indicators" in body["detail"]


def test_unknown_region_is_named_before_anything_else(client):
    r = client.get("/v1/regions/NOPE/indicators/ndvi_anomaly")
    assert r.status_code == 404 and "region_id" in r.json()["detail"]


def test_bad_format_is_a_422_and_yearly_series_still_answer(client):
    r = client.get("/v1/regions/KEN/indicators/ndvi_anomaly?format=xml")
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    yearly = client.get("/v1/regions/KEN/indicators/soc_stock")
    assert yearly.status_code == 200 and yearly.json()["series"][0]["epoch"] == 2015


def test_the_monthly_operations_are_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    for signal in SIGNALS:
        op = paths[f"/v1/regions/{{region_id}}/indicators/{signal}"]["get"]
        assert "monthly" in op["summary"].lower()
        assert "MonthlySeries" in str(op["responses"]["200"])
