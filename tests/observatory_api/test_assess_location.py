"""Tier 1 from the location (issue 17, item 3): the climate zone and the measured reference come
from the served snapshot's cube, checked against the cube read independently (xarray) and the
IPCC thresholds worked by hand; the API and `socobs assess --store` agree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from fastapi.testclient import TestClient

from pipeline.assess import AssessError, assess
from pipeline.assess.location import site_at
from pipeline.assess.tables import load_tables
from pipeline.store import INDICATORS, open_cube
from tests.support.api_store import ApiStore

LAT, LON = 48.3, 2.4  # a land cell of the demo (France)
PROJECT: dict[str, Any] = {
    "soil_type": "HAC",
    "years": 20,
    "area_ha": 50,
    "location": {"lat": LAT, "lon": LON},
    "reference": "measured",
    "monte_carlo_draws": 0,
    "baseline": {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"},
    "project": {"land_use": "cropland_annual", "management": "no_tillage", "input": "high_without_manure"},
}


def _zone_by_hand(tas: np.ndarray, pr: np.ndarray, pet: np.ndarray) -> str:
    """Annex 3A.5's decision tree, read off the cell's 12 months (no elevation: not montane)."""
    mat, p, e = tas.mean(), pr.sum(), pet.sum()
    wet = "moist" if e == 0 or p / e > 1 else "dry"
    if mat > 18:
        return "tropical_wet" if p > 2000 else "tropical_moist" if p > 1000 else "tropical_dry"
    if mat > 10:
        return f"warm_temperate_{wet}"
    if mat > 0:
        return f"cool_temperate_{wet}"
    return f"boreal_{wet}" if (tas > 10).any() else f"polar_{wet}"


@pytest.mark.parametrize(("lat", "lon"), [(LAT, LON), (0.5, 20.2), (62.3, 30.4), (-25.4, 135.3)])
def test_site_matches_the_cube_read_independently(api_store: ApiStore, lat: float, lon: float) -> None:
    site = site_at(api_store.store, lat, lon)
    cube = open_cube(api_store.store).sel(y=lat, x=lon, method="nearest")
    months = [np.asarray(cube[v].values, dtype=float) for v in ("tas", "pr", "pet")]
    assert site.climate_zone == _zone_by_hand(*months)
    assert (site.cell_lat, site.cell_lon) == (float(cube.y), float(cube.x))
    ind = open_cube(api_store.store, group=INDICATORS).sel(y=lat, x=lon, method="nearest").isel(epoch=0)
    want = float(ind["soc_stock"].values)
    assert (
        site.soc_stock_t_c_ha == pytest.approx(want, rel=1e-6)
        if np.isfinite(want)
        else site.soc_stock_t_c_ha is None
    )
    assert site.synthetic is True


def test_outside_the_cube_says_what_to_give_instead(api_store: ApiStore) -> None:
    with pytest.raises(AssessError, match=r"inside the cube's extent.*Give climate_zone"):
        site_at(api_store.store, -89.0, 0.0)


def test_measured_reference_by_hand(api_store: ApiStore) -> None:
    site = site_at(api_store.store, LAT, LON)
    assert site.soc_stock_t_c_ha is not None
    t = load_tables()
    zone = site.climate_zone
    assert zone is not None
    f_base = np.prod([f.value for f in t.state_factors(PROJECT["baseline"], zone, "baseline")])
    f_proj = np.prod([f.value for f in t.state_factors(PROJECT["project"], zone, "project")])
    r = assess(PROJECT, site=site)
    measured = site.soc_stock_t_c_ha
    assert r["soc_baseline_t_c_ha"] == pytest.approx(measured, rel=1e-12)
    assert r["soc_ref_t_c_ha"] == pytest.approx(measured / f_base, rel=1e-12)
    assert r["soc_project_t_c_ha"] == pytest.approx(measured * f_proj / f_base, rel=1e-12)
    # immediate adoption over 20 years = D: the whole change is realised; negative = removal
    want = -50 * measured * (f_proj / f_base - 1) * 44 / 12
    assert r["balance_t_co2e"] == pytest.approx(want, rel=1e-9)
    assert "measured" in r["reference"] and r["location"]["climate_zone"] == zone
    # the IPCC default for the same zone differs and is named in the reference text
    default = t.soc_ref(zone, "HAC").value
    ref_row = next(f for f in r["factors"] if f["factor"] == "SOC_REF")
    assert f"{default:g} t C/ha" in ref_row["reference"]
    # soil health: the cell's measured SOC/clay (read here independently) scaled by the stock ratio
    ind = open_cube(api_store.store, group=INDICATORS).sel(y=LAT, x=LON, method="nearest").isel(epoch=0)
    ratio = float(ind["soc_clay_ratio"].values)
    h = r["verdict"]["soil_health"]
    if np.isfinite(ratio) and site.clay_pct is not None:
        assert h["soc_clay_ratio_baseline"] == pytest.approx(ratio, rel=1e-6)
        assert h["soc_clay_ratio_with_project"] == pytest.approx(ratio * f_proj / f_base, rel=1e-6)
    else:
        assert h["assessed"] is False
    # Tier 2 alongside: RothC on the cell's climate starts from the same baseline stock
    assert r["tier2"]["available"] is True
    assert r["tier2"]["soc_baseline_t_c_ha"] == pytest.approx(measured, rel=1e-9)
    assert (
        0 < r["tier2"]["soc_with_project_end_t_c_ha"] - measured < r["soc_with_project_end_t_c_ha"] - measured
    )


def test_a_location_without_a_store_is_refused() -> None:
    with pytest.raises(AssessError, match="location"):
        assess(PROJECT)


def test_api_ex_ante_and_practices_at_a_location(
    client: TestClient, api_store: ApiStore, tmp_path: Path
) -> None:
    site = site_at(api_store.store, LAT, LON)
    r = client.post("/v1/assess/ex-ante", json=PROJECT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["soc_baseline_t_c_ha"] == pytest.approx(site.soc_stock_t_c_ha, rel=1e-12)
    assert body["location"]["climate_zone"] == site.climate_zone

    # socobs assess --store gives the same numbers from a YAML file
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(PROJECT))
    out = tmp_path / "r.json"
    cli = [
        sys.executable,
        "-m",
        "pipeline.cli",
        "assess",
        str(f),
        "--store",
        api_store.store,
        "--out",
        str(out),
    ]
    run = subprocess.run(cli, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "climate zone " + str(site.climate_zone) in run.stdout
    assert json.loads(out.read_text())["balance_t_co2e"] == pytest.approx(body["balance_t_co2e"], rel=1e-12)

    p = client.get("/v1/practices", params={"lat": LAT, "lon": LON, "soil_type": "HAC"})
    assert p.status_code == 200, p.text
    pb = p.json()
    assert pb["stratum"]["climate_zone"] == site.climate_zone and len(pb["practices"]) >= 20
    with_local = [x for x in pb["practices"] if x["local"] is not None]
    assert with_local
    for x in with_local:  # the Tier 1 change scaled by measured / Tier 1 "from" stock
        k = site.soc_stock_t_c_ha / x["tier1"]["soc_from_t_c_ha"]
        assert x["local"]["delta_soc_t_c_ha_yr"] == pytest.approx(x["tier1"]["delta_soc_t_c_ha_yr"] * k)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"lat": 10, "soil_type": "HAC"}, "lon"),
        ({"soil_type": "HAC"}, "climate_zone"),
        ({"lat": -89, "lon": 0, "soil_type": "HAC"}, "location"),
        ({"lat": 95, "lon": 0, "soil_type": "HAC"}, "lat"),
    ],
)
def test_practices_bad_locations(client: TestClient, params: dict, param: str) -> None:
    r = client.get("/v1/practices", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert param in r.text


def test_a_snapshots_sites_are_cached_and_equal_to_a_fresh_read(api_store: ApiStore) -> None:
    snap = str(open_cube(api_store.store).attrs["snapshot_id"])
    fresh = site_at(api_store.store, LAT, LON)  # no snapshot id: read from the store
    first = site_at(api_store.store, LAT, LON, snap)
    again = site_at(api_store.store, LAT + 0.1, LON + 0.1, snap)  # the same cell (2 degrees)
    assert first == fresh
    assert (again.cell_lat, again.cell_lon, again.climate_zone) == (
        first.cell_lat,
        first.cell_lon,
        first.climate_zone,
    )
    assert (again.lat, again.lon) == (LAT + 0.1, LON + 0.1)
    again.notes.append("x")  # a caller's change does not reach the cache
    assert "x" not in site_at(api_store.store, LAT, LON, snap).notes
