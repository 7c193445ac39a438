"""``GET /v1/regions/{id}/sdg15_3_1``, the SDG tiles and their listing in ``/v1/indicators``, over a
six-year demo store built through the real pipeline (``tests/support/sdg_store.py``); the
figures are compared with the ``sdg`` group read from the store directly, and a parent's
degraded area with the sum of its children's as the API answers them."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
import xarray as xr
from fastapi.testclient import TestClient
from PIL import Image

from observatory_api import Settings, create_app
from pipeline.store import BRANCH, SDG, open_repo
from tests.support.api_store import ApiStore
from tests.support.sdg_store import SdgStore, shared_sdg_indicators


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> SdgStore:
    return shared_sdg_indicators(tmp_path_factory)  # read only: the API only reads it


@pytest.fixture(scope="module")
def sdg_client(built: SdgStore) -> Iterator[TestClient]:
    settings = Settings(
        store=built.store, registry=built.registry, poll_seconds=3600, client_requests_per_minute=100_000
    )
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def stored(built: SdgStore) -> xr.Dataset:
    session = open_repo(built.store).readonly_session(branch=BRANCH)
    return xr.open_zarr(
        session.store, group=SDG, consolidated=False, chunks=None, mask_and_scale=False
    ).load()


def _get(client: TestClient, rid: str, **params: str) -> dict:
    r = client.get(f"/v1/regions/{rid}/sdg15_3_1", params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("rid", ["global", "africa", "KEN"])
def test_region_figures_are_the_stored_tables(sdg_client: TestClient, stored: xr.Dataset, rid: str) -> None:
    periods = [str(p) for p in stored["period"].values]
    for period in periods:
        body = _get(sdg_client, rid, period=period)
        assert body["period"] == period and body["periods"] == periods and body["baseline"] == periods[0]
        assert body["kind"] == ("baseline" if period == periods[0] else "reporting")
        row = stored.sel(region=rid, period=period)
        assert body["land_area_km2"] == pytest.approx(float(row["land_area_km2"]), rel=1e-12)
        assert body["land_area_km2"] > 0
        for cls in ("degraded", "stable", "improved", "no_data"):
            want = float(row["area_km2"].sel({"layer": "sdg_15_3_1", "class": cls}))
            assert body["result"][cls]["area_km2"] == pytest.approx(want, rel=1e-12)
            soc = float(row["area_km2"].sel({"layer": "sdg_soc", "class": cls}))
            assert body["sub_indicators"]["soc"]["classes"][cls]["area_km2"] == pytest.approx(soc, rel=1e-12)
        shares = [body["result"][c]["share"] for c in ("degraded", "stable", "improved", "no_data")]
        assert sum(shares) == pytest.approx(1.0, rel=1e-12)
        lc = body["sub_indicators"]["land_cover"]
        assert lc["contribution"]["degraded_area_km2"] == lc["classes"]["degraded"]["area_km2"]
        assert body["units"] == {"area": "km2", "share": "1"}
        assert "Good Practice Guidance" in body["method"] and "inland water" in body["denominator"]
        if rid == "global":
            print(
                f"global {period}: degraded {body['degraded_share']:.4f} stable "
                f"{body['result']['stable']['share']:.4f} improved {body['result']['improved']['share']:.4f} "
                f"no data {body['result']['no_data']['share']:.4f} of {body['land_area_km2']:.0f} km2"
            )


def test_default_period_is_the_last_reporting_period(sdg_client: TestClient, stored: xr.Dataset) -> None:
    body = _get(sdg_client, "global")
    assert body["period"] == str(stored["period"].values[-1]) and body["kind"] == "reporting"


def test_parent_degraded_area_is_the_sum_of_its_childrens(sdg_client: TestClient) -> None:
    family = sdg_client.get("/v1/regions/africa").json()
    kids = [c["region_id"] for c in family["children"]]
    assert len(kids) > 5
    parent = _get(sdg_client, "africa")
    total = sum(_get(sdg_client, k)["result"]["degraded"]["area_km2"] for k in kids)
    print(
        f"africa degraded {parent['result']['degraded']['area_km2']:.3f} km2, sum of {len(kids)} children {total:.3f} km2"
    )
    assert parent["result"]["degraded"]["area_km2"] == pytest.approx(total, rel=1e-12)
    land = sum(_get(sdg_client, k)["land_area_km2"] for k in kids)
    assert parent["land_area_km2"] == pytest.approx(land, rel=1e-12)


def test_unknown_region_and_period(sdg_client: TestClient, stored: xr.Dataset) -> None:
    r = sdg_client.get("/v1/regions/NOWHERE/sdg15_3_1")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert "NOWHERE" in r.json()["detail"]
    r = sdg_client.get("/v1/regions/global/sdg15_3_1", params={"period": "1999-2000"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    for p in stored["period"].values:
        assert str(p) in r.json()["detail"]


def test_indicators_list_the_sdg_maps_and_tiles_draw_them(sdg_client: TestClient, stored: xr.Dataset) -> None:
    listing = sdg_client.get("/v1/indicators").json()["sdg15_3_1"]
    assert listing["periods"] == [str(p) for p in stored["period"].values]
    assert {m["id"] for m in listing["maps"]} >= {
        "sdg_15_3_1",
        "sdg_land_cover",
        "sdg_productivity",
        "sdg_soc",
    }
    legend = sdg_client.get("/v1/tiles/sdg/sdg_15_3_1/legend").json()
    colours = {s["value"]: tuple(int(s["color"][i : i + 2], 16) for i in (1, 3, 5)) for s in legend["stops"]}
    period = str(stored["period"].values[0])
    r = sdg_client.get("/v1/tiles/sdg/sdg_15_3_1/0/0/0.png", params={"period": period})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
    # every class the map holds shows in the tile in its legend colour; no other colour is drawn
    opaque = {tuple(p[:3]) for p in img.reshape(-1, 4) if p[3] > 0}
    codes = set(np.unique(stored["sdg_15_3_1"].values[0]).tolist()) - {-128}
    assert opaque == {colours[c] for c in codes}
    assert sdg_client.get("/v1/tiles/sdg/sdg_15_3_1/0/0/0.png", params={"period": "x"}).status_code == 422
    assert sdg_client.get("/v1/tiles/sdg/nope/0/0/0.png").status_code == 422


def test_short_cube_records_missing_productivity(client: TestClient, api_store: ApiStore) -> None:
    # the shared API store holds 2015-2017: too few years for productivity (five are needed)
    body = client.get("/v1/regions/global/sdg15_3_1").json()
    assert body["productivity_note"] and "NDVI years" in body["productivity_note"]
    prod = body["sub_indicators"]["productivity"]["classes"]
    assert prod["degraded"]["area_km2"] == 0 and prod["stable"]["area_km2"] == 0
    assert prod["no_data"]["share"] == pytest.approx(1.0)
