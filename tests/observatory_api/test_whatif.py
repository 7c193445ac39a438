"""The climate_zone layer's tiles and legend, and the what-if maps (tiles, TileJSON, legend,
regional totals), on the shared demo store, checked against the store read independently."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import shapely
import xarray as xr
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource
from fastapi.testclient import TestClient
from PIL import Image
from pyproj import Geod

from kernels.climate_zone import ZONES
from pipeline.assess.tables import load_tables
from pipeline.regions.hierarchy import load_regions
from pipeline.store import open_repo
from tests.support.api_store import ApiStore

TIER1_D = 20.0  # IPCC 2019 Vol. 4 Ch. 2 Eq. 2.25: D = 20 years
CROPLAND = 40  # ESA WorldCover
EPOCH = 2017


@pytest.fixture(scope="module")
def stored(api_store: ApiStore) -> dict[str, Any]:
    s = open_repo(api_store.store).readonly_session(branch="main")
    maps = xr.open_zarr(s.store, group="indicators", consolidated=False, mask_and_scale=False).load()
    cube = xr.open_zarr(s.store, group="cube", consolidated=False, mask_and_scale=False)[["landcover"]].load()
    return {"maps": maps, "cube": cube}


def _png(resp: Any) -> tuple[np.ndarray, np.ndarray, Image.Image]:
    """(palette indices, RGBA, image) of a PNG answer."""
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(resp.content))
    assert img.mode == "P" and img.size == (256, 256)
    return np.asarray(img), np.asarray(img.convert("RGBA")), img


def _pixel_cells(maps: xr.Dataset, z: int, x: int, y: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column of the base cell under each pixel centre of tile z/x/y, and the pixels on
    the grid (WebMercatorQuad worked out here, not with the API's code)."""
    n = 2**z
    i = (np.arange(256) + 0.5) / 256
    lon = (x + i) / n * 360.0 - 180.0
    merc = np.pi * (1 - 2 * (y + i) / n)
    lat = np.degrees(np.arctan(np.sinh(merc)))
    xs, ys = maps["x"].values, maps["y"].values
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    col = np.floor((lon - (xs[0] - dx / 2)) / dx).astype(int)
    row = np.floor((lat - (ys[0] - dy / 2)) / dy).astype(int)
    ok = ((row >= 0) & (row < ys.size))[:, None] & ((col >= 0) & (col < xs.size))[None, :]
    return np.clip(row, 0, ys.size - 1), np.clip(col, 0, xs.size - 1), ok


# ---- the climate_zone layer ----------------------------------------------------------------


def test_indicator_listed_with_definition_and_citation(client: TestClient) -> None:
    rows = {i["id"]: i for i in client.get("/v1/indicators").json()["indicators"]}
    cz = rows["climate_zone"]
    assert cz["map"] is True and cz["unit"] == "class"
    assert "Annex 3A.5" in cz["reference"] and "2019 Refinement" in cz["reference"]
    assert all(z in cz["definition"] for z in ZONES)


@pytest.mark.parametrize("tile", [(2, 2, 1), (1, 0, 0), (2, 1, 2)])
def test_tile_pixels_are_the_zone_codes(client: TestClient, stored: dict, tile: tuple[int, int, int]) -> None:
    maps = stored["maps"]
    idx, rgba, img = _png(client.get(f"/v1/tiles/climate_zone/{tile[0]}/{tile[1]}/{tile[2]}.png"))
    row, col, ok = _pixel_cells(maps, *tile)
    codes = maps["climate_zone"].values[row[:, None], col[None, :]]
    want = np.where(ok & (codes != 255), codes, 255)
    np.testing.assert_array_equal(idx, want)
    assert (want != 255).sum() > 1000  # the tile shows land, not only no data
    assert (rgba[..., 3] == 0).sum() == (want == 255).sum()  # no data: transparent
    palette = np.asarray((img.getpalette() or [])[: 3 * 13]).reshape(13, 3)
    legend = client.get("/v1/tiles/climate_zone/legend").json()["stops"]
    for stop in legend:  # the PNG's colours are the legend's
        assert "#" + bytes(palette[int(stop["value"])].astype(np.uint8)).hex() == stop["color"]


def test_legend_names_the_twelve_zones(client: TestClient) -> None:
    lg = client.get("/v1/tiles/climate_zone/legend").json()
    assert lg["unit"] == "class" and lg["colormap"] == "ipcc_zones"
    assert [s["label"] for s in lg["stops"]] == list(ZONES)
    assert [s["value"] for s in lg["stops"]] == list(range(1, 13))
    assert len({s["color"] for s in lg["stops"]}) == 12  # twelve distinct colours
    bad = client.get("/v1/tiles/climate_zone/1/0/0.png", params={"colormap": "viridis"})
    assert bad.status_code == 422 and bad.json()["allowed"] == ["ipcc_zones"]
    bad = client.get("/v1/tiles/soc_stock/1/0/0.png", params={"colormap": "ipcc_zones"})
    assert bad.status_code == 422 and bad.json()["parameter"] == "colormap"


def test_point_gives_the_static_zone_at_every_epoch(client: TestClient, stored: dict) -> None:
    maps = stored["maps"]
    r = client.get("/v1/point", params={"lat": 48.3, "lon": 2.7}).json()["maps"]["climate_zone"]
    code = int(maps["climate_zone"].sel(y=48.3, x=2.7, method="nearest"))
    assert r["values"] == [code] * 3 and r["epochs"] == [2015, 2016, 2017]


# ---- what-if maps ---------------------------------------------------------------------------


def _product(state: dict[str, Any], zone: str) -> float:
    """F_LU x F_MG x F_I of a state, from the IPCC tables (NaN: not defined in the zone)."""
    try:
        return float(np.prod([f.value for f in load_tables().state_factors(state, zone, "s")]))
    except Exception:
        return float("nan")


NO_TILL_FROM = {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"}
NO_TILL_TO = {"land_use": "cropland_annual", "management": "no_tillage", "input": "medium"}


def _expected(stored: dict, reference: str = "measured", soil: str | None = None) -> np.ndarray:
    """Tier 1 dSOC of no-till on every cropland cell, written out cell by cell with numpy."""
    maps, cube = stored["maps"], stored["cube"]
    stock = maps["soc_stock"].sel(epoch=EPOCH).values.astype(np.float64)
    zone = maps["climate_zone"].values
    lc = cube["landcover"].sel(epoch=EPOCH).values
    out = np.full(stock.shape, np.nan)
    for r, c in zip(*np.nonzero(lc == CROPLAND), strict=True):
        z = int(zone[r, c])
        if not 1 <= z <= 12:
            continue
        ff, ft = _product(NO_TILL_FROM, ZONES[z - 1]), _product(NO_TILL_TO, ZONES[z - 1])
        if reference == "measured":
            ref = stock[r, c] / ff if stock[r, c] > 0 else np.nan
        else:
            table = load_tables().data.soc_ref.values.get(ZONES[z - 1], {})
            ref = table[soil][0] if soil in table else np.nan
        out[r, c] = ref * (ft - ff) / TIER1_D
    return out


def test_whatif_tile_pixels_are_the_tier1_values(client: TestClient, stored: dict) -> None:
    maps = stored["maps"]
    params: dict[str, Any] = {"epoch": EPOCH, "rescale": "0,1"}
    idx, rgba, _ = _png(client.get("/v1/whatif/no_tillage/tiles/2/2/1.png", params=params))
    assert (rgba[..., 3] == 0).sum() == (idx == 255).sum()  # not applicable: transparent
    row, col, ok = _pixel_cells(maps, 2, 2, 1)
    v = _expected(stored)[row[:, None], col[None, :]].astype(np.float32)
    t = np.clip(np.rint((v - np.float32(0)) * np.float32(254.0 / 1.0)), 0, 254)
    want = np.where(np.isfinite(v) & ok, t, 255).astype(np.uint8)
    np.testing.assert_array_equal(idx, want)
    assert len(np.unique(want[want != 255])) > 5  # several values drawn, not one flat colour
    again = client.get(
        "/v1/whatif/no_tillage/tiles/2/2/1.png", params=params, headers={"If-None-Match": '"x"'}
    )
    etag = again.headers["ETag"]
    assert again.headers["Cache-Control"].startswith("public")
    cached = client.get(
        "/v1/whatif/no_tillage/tiles/2/2/1.png", params=params, headers={"If-None-Match": etag}
    )
    assert cached.status_code == 304


def test_whatif_tilejson_and_legend(client: TestClient) -> None:
    tj = client.get("/v1/whatif/no_tillage/tilejson.json", params={"epoch": 2016}).json()
    assert tj["tilejson"] == "3.0.0" and tj["minzoom"] == 0  # a 2-degree grid: every zoom fits
    assert "/v1/whatif/no_tillage/tiles/{z}/{x}/{y}.png?epoch=2016&land_cover=cropland" in tj["tiles"][0]
    lg = client.get("/v1/whatif/no_tillage/legend", params={"rescale": "-1,1"}).json()
    assert lg["unit"] == "t C/ha/yr" and lg["stops"][0]["value"] == -1 and lg["stops"][-1]["value"] == 1


def _fractions(region_id: str, maps: xr.Dataset) -> np.ndarray:
    """The region's coverage fraction of every cell, from exactextract directly."""
    xs, ys = maps["x"].values, maps["y"].values
    dx, dy = xs[1] - xs[0], ys[0] - ys[1]
    w, e, s, n = xs[0] - dx / 2, xs[-1] + dx / 2, ys[-1] - dy / 2, ys[0] + dy / 2
    src = NumPyRasterSource(np.zeros((ys.size, xs.size)), xmin=w, ymin=s, xmax=e, ymax=n, srs_wkt="EPSG:4326")
    geom = load_regions(None).set_index("region_id").loc[[region_id]].reset_index()[["geometry"]]
    res = exact_extract(src, geom, ["cell_id", "coverage"], output="pandas")
    frac = np.zeros(ys.size * xs.size)
    frac[np.asarray(res["cell_id"][0], dtype=np.int64)] = np.asarray(res["coverage"][0])
    return frac.reshape(ys.size, xs.size)


def _row_areas_m2(maps: xr.Dataset) -> np.ndarray:
    """True cell area of each row, by pyproj's geodesic polygon area (WGS84)."""
    xs, ys = maps["x"].values, maps["y"].values
    dx, dy = xs[1] - xs[0], ys[0] - ys[1]
    geod = Geod(ellps="WGS84")
    return np.array(
        [
            abs(
                geod.geometry_area_perimeter(
                    shapely.segmentize(shapely.box(0, y - dy / 2, dx, y + dy / 2), 0.01)
                )[0]
            )
            for y in ys
        ]
    )


@pytest.mark.parametrize(
    ("region", "params"),
    [("africa", {}), ("europe", {}), ("africa", {"reference": "ipcc", "soil_type": "HAC"})],
)
def test_regional_total_equals_an_area_weighted_numpy_sum(
    client: TestClient, stored: dict, region: str, params: dict
) -> None:
    maps = stored["maps"]
    r = client.get("/v1/whatif/no_tillage", params={"region": region, "epoch": EPOCH, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    delta = _expected(stored, params.get("reference", "measured"), params.get("soil_type"))
    w = _fractions(region, maps) * _row_areas_m2(maps)[:, None]
    ok = np.isfinite(delta) & (w > 0)
    total = float(np.sum(w[ok] * delta[ok])) / 1e4  # m2 -> ha
    area = float(np.sum(w[ok])) / 1e4
    assert ok.sum() > 10
    assert body["delta_soc_t_c_yr"] == pytest.approx(total, rel=1e-6)
    assert body["area_ha"] == pytest.approx(area, rel=1e-6)
    assert body["delta_t_co2e_yr"] == pytest.approx(total * 44 / 12, rel=1e-6)
    assert body["delta_soc_t_c_ha_yr_mean"] == pytest.approx(total / area, rel=1e-6)
    assert body["land_cover"] == "cropland" and body["land_cover_codes"] == [CROPLAND]
    assert body["epoch"] == EPOCH and body["years"] == 20 and body["region_id"] == region
    zones = {z["climate_zone"]: z for z in body["zones"]}
    # Table 5.5: long-term cultivated, tropical moist 0.83; no-till there 1.10 (x 0.83)
    assert zones["tropical_moist"]["factor_from"] == pytest.approx(0.83)
    assert zones["tropical_moist"]["factor_to"] == pytest.approx(0.83 * 1.10)
    assert zones["polar_moist"]["factor_from"] is None  # Table 5.5 has no polar row


@pytest.mark.parametrize(
    ("path", "params", "parameter", "allowed_has"),
    [
        ("/v1/whatif/zero_tillage", {"region": "africa"}, "practice", "no_tillage"),
        ("/v1/whatif/biochar", {"region": "africa"}, "practice", "no_tillage"),
        ("/v1/whatif/no_tillage", {"region": "atlantis"}, "region", "africa"),
        ("/v1/whatif/no_tillage", {"region": "africa", "land_cover": "desert"}, "land_cover", "grassland"),
        ("/v1/whatif/no_tillage", {"region": "africa", "land_cover": "grassland"}, "land_cover", "cropland"),
        ("/v1/whatif/no_tillage", {"region": "africa", "reference": "guess"}, "reference", "ipcc"),
        ("/v1/whatif/no_tillage", {"region": "africa", "reference": "ipcc"}, "soil_type", "HAC"),
        ("/v1/whatif/biochar/tiles/1/0/0.png", {}, "practice", "no_tillage"),
        (
            "/v1/whatif/improved_grazing/tiles/1/0/0.png",
            {"land_cover": "cropland"},
            "land_cover",
            "grassland",
        ),
    ],
)
def test_bad_input_is_422_naming_the_allowed_values(
    client: TestClient, path: str, params: dict, parameter: str, allowed_has: str
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["parameter"] == parameter and allowed_has in body["allowed"]
    assert "expected" in body["detail"] or "define" in body["detail"]


def test_a_practice_outside_its_land_use_says_so(client: TestClient) -> None:
    r = client.get("/v1/whatif/no_tillage", params={"region": "africa", "land_cover": "grassland"}).json()
    assert "cropland_annual" in r["detail"] and "land_cover=cropland" in r["detail"]
    r = client.get("/v1/whatif/biochar", params={"region": "africa"}).json()
    assert "define no factor change" in r["detail"]
    assert client.get("/v1/whatif/no_tillage", params={"region": "africa", "epoch": 1999}).status_code == 404
