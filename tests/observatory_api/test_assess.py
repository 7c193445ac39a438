"""`POST /v1/assess/ex-ante` and `GET /v1/practices` (issue 17): the minimal request answers with
the named fields and hand-worked numbers, `socobs assess` gives the same numbers for the same
project, the catalogue lists >= 20 practices for a stratum, bad input is a 422 problem+json.

These endpoints need no store (IPCC Tier 1 defaults), so the app runs over an empty one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from observatory_api import Settings, create_app
from pipeline.paths import catalogs_dir

MINIMAL = {
    "area_ha": 100,
    "climate_zone": "tropical_moist",
    "soil_type": "HAC",
    "years": 20,
    "baseline": {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"},
    "project": {"land_use": "cropland_annual", "management": "no_tillage", "input": "high_without_manure"},
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    d = tmp_path_factory.mktemp("assess_api")
    settings = Settings(
        store=str(d / "store"),
        registry=str(d / "registry"),
        poll_seconds=3600,
        client_requests_per_minute=100_000,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def test_minimal_request_answers_with_the_named_fields(client: TestClient) -> None:
    r = client.post("/v1/assess/ex-ante", json=MINIMAL)
    assert r.status_code == 200, r.text
    body = r.json()
    # 2019 Refinement Vol. 4: Table 2.3 tropical moist HAC = 40 t C/ha; Table 5.5 tropical moist:
    # long-term cultivated 0.83, full tillage 1.0, no-till 1.10, medium input 1.0, high input
    # without manure 1.11. Baseline 40*0.83 = 33.2; project 40*0.83*1.10*1.11 = 40.5372.
    assert body["soc_ref_t_c_ha"] == 40
    assert body["soc_baseline_t_c_ha"] == pytest.approx(33.2)
    assert body["soc_project_t_c_ha"] == pytest.approx(40.5372)
    assert body["delta_soc_t_c_ha_yr"] == pytest.approx(7.3372 / 20)
    assert body["balance_t_co2e"] == pytest.approx(-100 * 7.3372 * 44 / 12)
    refs = {(f["state"], f["factor"]): f["reference"] for f in body["factors"]}
    assert "Table 2.3" in refs[("all", "SOC_REF")] and "Table 5.5" in refs[("project", "F_MG")]
    assert len(body["series"]) == 20 and body["series"][0]["year"] == 1
    ci = body["uncertainty"]["balance_t_co2e"]
    assert ci["p2_5"] < body["balance_t_co2e"] < ci["p97_5"]
    assert body["verdict"]["level"] == "in_line"


def test_the_request_schema_is_published(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/v1/assess/ex-ante"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert "activities" in schema["properties"] and "years" in schema["required"]
    assert "/v1/practices" in spec["paths"]


def test_cli_and_api_give_the_same_numbers(client: TestClient, tmp_path: Path) -> None:
    example = catalogs_dir() / "projects" / "example.yaml"
    out = tmp_path / "r.json"
    res = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "assess", str(example), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    cli_body = json.loads(out.read_text())
    api_body = client.post("/v1/assess/ex-ante", json=yaml.safe_load(example.read_text())).json()
    assert cli_body == api_body  # every number: stocks, series, factors, interval, verdict
    # and they are the hand figures: linear adoption over 5 years, 20 years -> (2.5 + 15) / 20 =
    # 0.875 of the change realised; cropland 1000 ha * 40*0.83*(1.10*1.11 - 1), grassland
    # 500 ha * 40*(1.0 - 0.90) (Table 6.2)
    assert api_body["balance_t_c"] == pytest.approx(-(1000 * 40 * 0.83 * (1.10 * 1.11 - 1) + 500 * 4) * 0.875)


def _problem(r: Any, status: int = 422) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["detail"] and body["request_id"]
    return body


@pytest.mark.parametrize(
    ("change", "parameter", "allowed_has"),
    [
        ({"climate_zone": "tropical"}, "climate_zone", "tropical_moist"),
        ({"soil_type": "organic"}, "soil_type", "HAC"),
        (
            {"baseline": {"land_use": "grassland", "management": "no_tillage"}},
            "baseline.management",
            "improved",
        ),
        ({"project": {"land_use": "forest", "input": "high"}}, "project.input", None),
        ({"area_ha": 0}, "area_ha", None),
        ({"area_ha": 5e9}, "area_ha", None),
        ({"years": 0}, "years", None),
        ({"years": 101}, "years", None),
    ],
)
def test_bad_requests_are_422_naming_the_parameter(
    client: TestClient, change: dict[str, Any], parameter: str, allowed_has: str | None
) -> None:
    body = _problem(client.post("/v1/assess/ex-ante", json={**MINIMAL, **change}))
    assert body["parameter"] == parameter
    if allowed_has is not None:
        assert allowed_has in body["allowed"]


def test_organic_soil_says_why(client: TestClient) -> None:
    body = _problem(client.post("/v1/assess/ex-ante", json={**MINIMAL, "soil_type": "organic"}))
    assert "Table 2.5" in body["detail"]


def test_not_json_and_empty_bodies(client: TestClient) -> None:
    _problem(
        client.post("/v1/assess/ex-ante", content=b"{not json", headers={"content-type": "application/json"})
    )
    _problem(client.post("/v1/assess/ex-ante", content=b"", headers={"content-type": "application/json"}))
    _problem(client.post("/v1/assess/ex-ante", json=[1, 2]))


def test_practices_for_a_stratum(client: TestClient) -> None:
    r = client.get("/v1/practices", params={"climate_zone": "warm_temperate_dry", "soil_type": "LAC"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["practices"]) >= 20
    by_id = {p["id"]: p for p in body["practices"]}
    # Table 2.3 warm temperate dry LAC = 19; Table 5.5 warm temperate dry: F_LU 0.76, no-till 1.04
    nt = by_id["no_tillage"]["tier1"]
    assert nt["delta_soc_t_c_ha_yr"] == pytest.approx(19 * 0.76 * (1.04 - 1.0) / 20)
    assert nt["delta_t_co2e_ha_yr"] == pytest.approx(19 * 0.76 * 0.04 / 20 * 44 / 12)
    lo, hi = nt["delta_t_co2e_ha_yr_range"]
    assert lo < nt["delta_t_co2e_ha_yr"] < hi
    # improved grassland, temperate: 19 * (1.14 - 1.0) / 20 (Table 6.2)
    assert by_id["improved_grassland"]["tier1"]["delta_soc_t_c_ha_yr"] == pytest.approx(19 * 0.14 / 20)
    assert all(p["tier1"] is not None or p["method"] for p in body["practices"])
    grass = client.get(
        "/v1/practices", params={"climate_zone": "tropical_dry", "soil_type": "HAC", "land_use": "grassland"}
    ).json()["practices"]
    assert grass and {p["land_use"] for p in grass} == {"grassland"}


def test_practices_bad_stratum(client: TestClient) -> None:
    body = _problem(client.get("/v1/practices", params={"climate_zone": "mars", "soil_type": "HAC"}))
    assert body["parameter"] == "climate_zone" and "tropical_moist" in body["allowed"]
    body = _problem(
        client.get("/v1/practices", params={"climate_zone": "tropical_moist", "soil_type": "spodic"})
    )
    assert body["parameter"] == "soil_type"
    body = _problem(
        client.get(
            "/v1/practices", params={"climate_zone": "tropical_moist", "soil_type": "HAC", "land_use": "x"}
        )
    )
    assert body["parameter"] == "land_use"
    # no soil class: the answer for each class Table 2.3 gives in the zone (as the ex-ante answer)
    r = client.get("/v1/practices", params={"climate_zone": "tropical_moist"})
    assert r.status_code == 200
    assert r.json()["soil_type_range"]["soil_types"] == ["HAC", "LAC", "sandy", "volcanic", "wetland"]
