"""GET /v1/practices with a region (issue 17 item 6) and without a soil class, on the API test
store: the region's zone is the area-weighted mode of the climate_zone map (computed here with
numpy over exactextract's coverage fractions and pyproj's cell areas), its reference the region
table's stock, and each practice's `local` the Tier 1 change scaled by measured / Tier 1 "from"."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xarray as xr
from fastapi.testclient import TestClient

from kernels.climate_zone import ZONES
from pipeline.assess.tables import load_tables
from pipeline.store import open_repo
from tests.observatory_api.test_whatif import _fractions, _row_areas_m2
from tests.support.api_store import ApiStore

LAT, LON = 48.3, 2.4  # a land cell of the demo (France), as test_assess_location


@pytest.fixture(scope="module")
def stored(api_store: ApiStore) -> dict[str, xr.Dataset]:
    s = open_repo(api_store.store).readonly_session(branch="main")
    maps = xr.open_zarr(s.store, group="indicators", consolidated=False, mask_and_scale=False)[
        ["climate_zone"]
    ].load()
    tables = xr.open_zarr(s.store, group="tables", consolidated=False)[["soc_stock"]].load()
    return {"maps": maps, "tables": tables}


def zone_areas(region: str, maps: xr.Dataset) -> np.ndarray:
    """Area (m2) of the region in each zone code 1..12 (index 0 unused): coverage fraction x true
    cell area summed over the cells of each code."""
    w = _fractions(region, maps) * _row_areas_m2(maps)[:, None]
    zone = maps["climate_zone"].values
    return np.array([0.0] + [float(w[zone == c].sum()) for c in range(1, 13)])


def get(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/v1/practices", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def check_local(body: dict[str, Any], measured: float) -> int:
    """Every practice's `local` is its Tier 1 change scaled by measured / Tier 1 "from" stock."""
    n = 0
    for p in body["practices"]:
        t1, loc = p["tier1"], p["local"]
        if t1 is None:
            assert loc is None
            continue
        k = measured / t1["soc_from_t_c_ha"]
        assert loc["soc_from_t_c_ha"] == pytest.approx(measured, rel=1e-12)
        assert loc["soc_to_t_c_ha"] == pytest.approx(t1["soc_to_t_c_ha"] * k, rel=1e-12)
        assert loc["delta_soc_t_c_ha_yr"] == pytest.approx(t1["delta_soc_t_c_ha_yr"] * k, rel=1e-12)
        assert loc["delta_soc_t_c_ha_yr_range"] == pytest.approx(
            [v * k for v in t1["delta_soc_t_c_ha_yr_range"]], rel=1e-12
        )
        assert loc["delta_t_co2e_ha_yr"] == pytest.approx(t1["delta_soc_t_c_ha_yr"] * k * 44 / 12, rel=1e-12)
        n += 1
    return n


@pytest.mark.parametrize("region", ["FRA", "KEN", "europe", "africa"])
def test_zone_is_the_area_weighted_mode_and_stock_the_table_value(
    client: TestClient, stored: dict[str, xr.Dataset], region: str
) -> None:
    areas = zone_areas(region, stored["maps"])
    mode = int(np.argmax(areas))  # the first of equal maxima: the lower code, as the API
    assert mode >= 1 and areas[mode] > 0
    body = get(client, region=region, soil_type="HAC")
    got = body["region"]
    assert got["climate_zone"] == ZONES[mode - 1] and body["stratum"]["climate_zone"] == ZONES[mode - 1]
    assert got["climate_zone_share"] == pytest.approx(areas[mode] / areas.sum(), rel=1e-6)
    want_shares = {ZONES[c - 1]: areas[c] / areas.sum() for c in range(1, 13) if areas[c] > 0}
    assert {z["climate_zone"]: z["share"] for z in got["climate_zone_shares"]} == pytest.approx(
        want_shares, rel=1e-6, abs=1e-12
    )
    tab = stored["tables"]["soc_stock"].sel(region=region, stratum="all")
    first = int(stored["tables"]["epoch"].values[0])
    assert got["soc_stock_epoch"] == first and got["soc_stock_stratum"] == "all"
    assert got["soc_stock_t_c_ha"] == pytest.approx(float(tab.sel(epoch=first)), rel=1e-12)
    measured = got["soc_stock_t_c_ha"]
    assert check_local(body, measured) > 5  # most cropland/grassland practices have a local value
    assert f"region {region}" in body["practices"][0]["local"]["note"]
    assert f"epoch {first}" in body["practices"][0]["local"]["note"]
    # the Tier 1 values are the stratum's, as asked with the zone by name
    plain = get(client, climate_zone=ZONES[mode - 1], soil_type="HAC")
    assert [p["tier1"] for p in body["practices"]] == [p["tier1"] for p in plain["practices"]]
    assert all("local" not in p for p in plain["practices"])


def test_a_given_zone_wins_and_its_share_is_reported(
    client: TestClient, stored: dict[str, xr.Dataset]
) -> None:
    areas = zone_areas("europe", stored["maps"])
    second = int(np.argsort(-areas)[1])
    assert areas[second] > 0
    body = get(client, region="europe", soil_type="HAC", climate_zone=ZONES[second - 1])
    assert body["stratum"]["climate_zone"] == ZONES[second - 1]
    assert body["region"]["climate_zone_from"] == "given"
    assert body["region"]["climate_zone_share"] == pytest.approx(areas[second] / areas.sum(), rel=1e-6)
    check_local(body, body["region"]["soc_stock_t_c_ha"])


def test_without_soil_type_one_answer_per_plausible_class(client: TestClient) -> None:
    body = get(client, region="KEN")
    zone = body["region"]["climate_zone"]
    soils = body["soil_type_range"]["soil_types"]
    assert soils == list(load_tables().data.soc_ref.values[zone])  # Table 2.3's row, in its order
    assert body["soil_type"] is None and set(body["by_soil_type"]) == set(soils)
    for s in soils:  # each class's answer is the answer asked with that class
        one = get(client, region="KEN", soil_type=s)
        assert body["by_soil_type"][s]["practices"] == one["practices"]
    for i, p in enumerate(body["by_soil_type"][soils[0]]["practices"]):
        fig = body["soil_type_range"]["figures"][p["id"]]
        per = [body["by_soil_type"][s]["practices"][i]["tier1"] for s in soils]
        if per[0] is None:
            continue
        deltas = [t["delta_soc_t_c_ha_yr"] for t in per]
        assert fig["tier1"]["min"] == min(deltas) and fig["tier1"]["max"] == max(deltas)
        assert fig["tier1"]["min_soil_type"] == soils[int(np.argmin(deltas))]


def test_without_soil_type_at_a_location_as_the_ex_ante_assessment(client: TestClient) -> None:
    """The same plausible classes as POST /v1/assess/ex-ante at the same place (the cell's clay
    can rule out sandy in both)."""
    prac = get(client, lat=LAT, lon=LON)
    project = {
        "years": 20,
        "area_ha": 10,
        "location": {"lat": LAT, "lon": LON},
        "monte_carlo_draws": 0,
        "baseline": {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"},
        "project": {"land_use": "cropland_annual", "management": "no_tillage", "input": "medium"},
    }
    r = client.post("/v1/assess/ex-ante", json=project)
    assert r.status_code == 200, r.text
    assert prac["soil_type_range"]["soil_types"] == r.json()["soil_type_range"]["soil_types"]
    measured = prac["location"]["soc_stock_t_c_ha"]
    for s in prac["soil_type_range"]["soil_types"]:
        assert check_local(prac["by_soil_type"][s], measured) > 5


def test_unknown_region_says_how_to_list_regions(client: TestClient) -> None:
    r = client.get("/v1/practices", params={"region": "atlantis", "soil_type": "HAC"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["parameter"] == "region" and "GET /v1/regions" in body["detail"]


def test_region_without_a_zone_asks_for_climate_zone(
    client: TestClient, stored: dict[str, xr.Dataset]
) -> None:
    region = "MDV"  # the Maldives: atolls, no cell of the 2-degree demo grid has a zone there
    frac = _fractions(region, stored["maps"])
    zone = stored["maps"]["climate_zone"].values
    assert (frac > 0).any() and (zone[frac > 0] == 255).all()
    r = client.get("/v1/practices", params={"region": region, "soil_type": "HAC"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["parameter"] == "climate_zone" and "Give climate_zone" in body["detail"]
    assert body["allowed"] == list(ZONES)
    ok = get(client, region=region, soil_type="HAC", climate_zone="tropical_moist")
    assert ok["stratum"]["climate_zone"] == "tropical_moist" and ok["region"]["climate_zone_share"] is None


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"region": "FRA", "lat": 48, "lon": 2}, "region"),
        ({"region": "FRA", "soil_type": "loam"}, "soil_type"),
        ({"region": "FRA", "land_use": "orchard"}, "land_use"),
        ({"region": "x" * 101}, "region"),
    ],
)
def test_bad_region_requests(client: TestClient, params: dict[str, Any], param: str) -> None:
    r = client.get("/v1/practices", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and param in r.text
