"""Every endpoint on a real demo store, answers checked against the store read independently."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
import shapely
import xarray as xr
from PIL import Image
from pydantic import ValidationError
from pyproj import Geod

from observatory_api import Settings
from pipeline.indicators.registry import INDICATORS
from pipeline.store import open_repo, tip


@pytest.fixture(scope="module")
def stored(api_store):
    s = open_repo(api_store.store).readonly_session(branch="main")
    maps = xr.open_zarr(s.store, group="indicators", consolidated=False).load()
    tables = xr.open_zarr(s.store, group="tables", consolidated=False).load()
    return maps, tables


def test_regions_filters_and_detail(client):
    r = client.get("/v1/regions", params={"level": "region"}).json()
    assert r["count"] == 6 and {x["parent_id"] for x in r["regions"]} == {"global"}
    eu = client.get("/v1/regions", params={"parent": "europe"}).json()
    assert "FRA" in {x["region_id"] for x in eu["regions"]} and all(
        x["level"] == "country" for x in eu["regions"]
    )
    q = client.get("/v1/regions", params={"q": "keny"}).json()
    assert [x["region_id"] for x in q["regions"]] == ["KEN"]
    d = client.get("/v1/regions/europe").json()
    assert d["parent"]["region_id"] == "global" and "FRA" in {c["region_id"] for c in d["children"]}
    assert d["geometry"] is None
    g = client.get("/v1/regions/KEN", params={"geometry": "true"}).json()
    assert g["geometry"]["type"] in ("Polygon", "MultiPolygon")
    w, s, e, n = g["bbox"]
    assert 33 < w < 35 and 41 < e < 42.5 and -5 < s < -4 and 4.5 < n < 5.5  # Kenya
    bad = client.get("/v1/regions/NOPE")
    assert bad.status_code == 404 and bad.json()["parameter"] == "region_id"


def test_indicator_registry(client):
    r = client.get("/v1/indicators").json()
    assert [i["id"] for i in r["indicators"]] == [i.id for i in INDICATORS]
    stock = r["indicators"][0]
    assert (
        stock["unit"] == "t C/ha"
        and stock["epochs"] == [2015, 2016, 2017]
        and "tree_cover" in stock["strata"]
    )


def test_series_json_and_csv_equal_the_tables(client, stored):
    _, t = stored
    r = client.get("/v1/regions/FRA/indicators/soc_stock", params={"stratum": "cropland"})
    body = r.json()
    want = t.sel(region="FRA", stratum="cropland")
    assert [p["epoch"] for p in body["series"]] == [2015, 2016, 2017]
    for p, e in zip(body["series"], [2015, 2016, 2017], strict=True):
        assert p["value"] == pytest.approx(float(want.soc_stock.sel(epoch=e)), rel=1e-12)
        assert p["lower"] == pytest.approx(float(want.soc_stock_q05.sel(epoch=e)), rel=1e-12)
        assert p["upper"] == pytest.approx(float(want.soc_stock_q95.sel(epoch=e)), rel=1e-12)
    assert r.headers["X-Snapshot-Id"] == body["snapshot_id"]
    c = client.get(
        "/v1/regions/FRA/indicators/soc_stock", params={"stratum": "cropland"}, headers={"Accept": "text/csv"}
    )
    assert c.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(c.text)))
    assert [float(x["soc_stock"]) for x in rows] == [p["value"] for p in body["series"]]
    assert rows[0]["unit"] == "t C/ha" and rows[0]["snapshot_id"] == body["snapshot_id"]
    first = client.get("/v1/regions/FRA/indicators/progress_4p1000").json()["series"][0]
    assert first["value"] is None  # the baseline epoch has no rate: null, not NaN


def test_summary_is_the_latest_row(client, stored):
    _, t = stored
    s = client.get("/v1/regions/europe/summary").json()
    row = t.sel(region="europe", stratum="all", epoch=2017)
    assert s["epoch"] == 2017 and s["baseline_epoch"] == 2015
    assert s["values"]["soc_stock_total"]["value"] == pytest.approx(float(row.soc_stock_total), rel=1e-12)
    assert s["values"]["soc_stock_total"]["unit"] == "Tg C"
    p = float(row.progress_4p1000)
    assert s["progress_4p1000"]["value"] == pytest.approx(p) and s["on_4p1000_path"] == (p >= 1)
    assert sum(v for v in s["sh_class_shares"].values()) == pytest.approx(1.0)
    assert s["freshness"]["source_latest"].startswith("2017-")


def test_rankings_order_ties_and_missing(client, stored):
    _, t = stored
    r = client.get("/v1/rankings/sh_class", params={"level": "country", "epoch": 2016}).json()
    assert r["column"] == "sh_share_degraded" and r["epoch"] == 2016
    have = [x for x in r["rows"] if not x["missing"]]
    vals = [x["value"] for x in have]
    assert vals == sorted(vals, reverse=True)
    for x in have:  # competition ranking: 1 + the number of strictly better values
        assert x["rank"] == 1 + sum(v > x["value"] for v in vals)
        assert x["tied"] == (vals.count(x["value"]) > 1)
    assert any(x["tied"] for x in have)  # many small countries are wholly one class
    miss = [x for x in r["rows"] if x["missing"]]
    assert r["n_missing"] == len(miss) > 0 and all(x["rank"] is None for x in miss)
    assert r["rows"][-len(miss) :] == miss  # missing data listed last
    n_countries = int((t.level.values == "country").sum())
    assert len(r["rows"]) == n_countries
    asc = client.get("/v1/rankings/soc_stock", params={"level": "region", "order": "asc"}).json()
    assert [x["value"] for x in asc["rows"]] == sorted(x["value"] for x in asc["rows"])
    assert client.get("/v1/rankings/soc_stock", params={"epoch": 1990}).status_code == 404
    bad = client.get("/v1/rankings/nonsense")
    assert bad.status_code == 422 and bad.json()["parameter"] == "indicator"


def test_point_values_are_the_map_cells(client, stored):
    maps, _ = stored
    r = client.get("/v1/point", params={"lat": 48.3, "lon": 2.7}).json()
    cell = maps.sel(y=48.3, x=2.7, method="nearest")
    got = r["maps"]["soc_stock"]["values"]
    np.testing.assert_allclose(got, cell.soc_stock.values.astype(float), rtol=1e-7)
    assert r["maps"]["soc_stock"]["unit"] == "t C/ha" and r["maps"]["soc_stock"]["epochs"] == [
        2015,
        2016,
        2017,
    ]
    assert set(r["seq_potential"]) == {"+5%", "+10%", "+20%"}
    assert client.get("/v1/point", params={"lat": 100, "lon": 0}).status_code == 422
    out = client.get("/v1/point", params={"lat": -80, "lon": 0})  # south of the demo grid
    assert out.status_code == 404 and "outside the maps' extent" in out.json()["detail"]


def _png(resp) -> Image.Image:
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(resp.content))


def test_tiles_decode_with_transparency_and_colours(client, stored):
    maps, _ = stored
    ocean = _png(client.get("/v1/tiles/soc_stock/2/0/2.png"))  # South Pacific
    assert ocean.size == (256, 256) and ocean.mode == "P"
    rgba = np.asarray(ocean.convert("RGBA"))
    assert (rgba[..., 3] == 0).all()  # no data: transparent
    land = client.get(
        "/v1/tiles/soc_stock/2/2/1.png", params={"epoch": 2016, "rescale": "0,100"}
    )  # Europe/Africa
    img = _png(land)
    idx = np.asarray(img)
    rgba = np.asarray(img.convert("RGBA"))
    assert (rgba[..., 3] == 255).any() and (rgba[..., 3] == 0).any()
    # The pixel at (row 100, col 128): its lon/lat, the cell there, and the colour of its value.
    x0, x1 = 0.0, 90.0  # tile x=2 at z=2 spans 0..90 E
    lon = x0 + (128 + 0.5) / 256 * (x1 - x0)
    # z=2 splits the Mercator y range [pi, -pi] (in Earth radii) in four: tile y=1 spans pi/2..0
    ymerc = np.pi / 2 - (100 + 0.5) / 256 * (np.pi / 2)
    lat = np.degrees(np.arctan(np.sinh(ymerc)))
    v = float(maps.soc_stock.sel(epoch=2016).sel(y=lat, x=lon, method="nearest"))
    if np.isfinite(v):
        assert idx[100, 128] == int(np.clip(np.rint(v / 100 * 254), 0, 254))
    else:
        assert rgba[100, 128, 3] == 0
    assert land.headers["Cache-Control"].startswith("public") and land.headers["ETag"]
    again = client.get(
        "/v1/tiles/soc_stock/2/2/1.png",
        params={"epoch": 2016, "rescale": "0,100"},
        headers={"If-None-Match": land.headers["ETag"]},
    )
    assert again.status_code == 304
    cls = _png(client.get("/v1/tiles/sh_class/1/1/0.png"))
    assert set(np.unique(np.asarray(cls)).tolist()) <= {0, 1, 2, 3, 255}


def test_tile_errors_name_the_parameter(client):
    r = client.get("/v1/tiles/soc_stock/2/4/0.png")
    assert r.status_code == 422 and r.json()["parameter"] == "x" and r.json()["allowed"] == [0, 3]
    assert client.get("/v1/tiles/soc_stock/13/0/0.png").json()["parameter"] == "z"
    assert client.get("/v1/tiles/soc_stock/1/0/0.png", params={"epoch": 1999}).json()["allowed"] == [
        2015,
        2016,
        2017,
    ]
    assert (
        client.get("/v1/tiles/soc_stock/1/0/0.png", params={"rescale": "5"}).json()["parameter"] == "rescale"
    )
    assert client.get("/v1/tiles/soc_stock/1/0/0.png", params={"colormap": "sh"}).status_code == 422
    unknown = client.get("/v1/tiles/soc_stock_total/1/0/0.png")  # a table-only indicator has no map
    assert unknown.status_code == 422 and unknown.json()["parameter"] == "indicator"


def test_tilejson_and_legend(client):
    tj = client.get("/v1/tiles/soc_change_rate/tilejson.json", params={"epoch": 2016}).json()
    assert tj["tilejson"] == "3.0.0" and tj["tiles"][0].endswith(
        "/v1/tiles/soc_change_rate/{z}/{x}/{y}.png?epoch=2016"
    )
    assert tj["bounds"][1] >= -85.06 and tj["bounds"][3] <= 85.06
    lg = client.get("/v1/tiles/soc_stock/legend", params={"rescale": "0,50"}).json()
    assert lg["unit"] == "t C/ha" and lg["stops"][0]["value"] == 0 and lg["stops"][-1]["value"] == 50
    assert [s["label"] for s in client.get("/v1/tiles/sh_class/legend").json()["stops"]] == [
        "degraded",
        "moderate",
        "good",
        "very_good",
    ]


def _box(w, s, e, n):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def test_aoi_assessment_against_hand_computed_means(client, stored):
    maps, _ = stored
    # Two whole 2-degree cells in France (cell edges are even degrees)
    body = {
        "geometry": {"type": "Feature", "properties": {}, "geometry": _box(0, 46, 4, 48)},
        "start_epoch": 2015,
        "end_epoch": 2017,
    }
    r = client.post("/v1/aoi/assess", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    cells = [(47.0, 1.0), (47.0, 3.0)]
    geod = Geod(ellps="WGS84")
    area = [
        abs(
            geod.geometry_area_perimeter(shapely.segmentize(shapely.box(x - 1, y - 1, x + 1, y + 1), 0.01))[0]
        )
        for y, x in cells
    ]
    s0 = [float(maps.soc_stock.sel(epoch=2015, y=y, x=x)) for y, x in cells]
    s1 = [float(maps.soc_stock.sel(epoch=2017, y=y, x=x)) for y, x in cells]
    m0, m1 = np.average(s0, weights=area), np.average(s1, weights=area)
    p = out["project"]
    assert p["stock_start"] == pytest.approx(m0, rel=1e-6) and p["stock_end"] == pytest.approx(m1, rel=1e-6)
    assert p["rate"] == pytest.approx((m1 - m0) / 2, rel=1e-5, abs=1e-9)
    assert p["valid_area_km2"] == pytest.approx(sum(area) / 1e6, rel=1e-6)
    # 4 per 1000, linear convention: relative rate against the start stock, over the 4 permille target
    assert p["rate_permille"] == pytest.approx(1000 * (m1 - m0) / 2 / m0, rel=1e-5)
    assert p["progress_4p1000"] == pytest.approx((m1 - m0) / (0.004 * m0 * 2), rel=1e-5)
    assert out["control"]["valid_area_km2"] > 0 and out["rate_difference"] == pytest.approx(
        p["rate"] - out["control"]["rate"]
    )
    assert out["on_4p1000_path"] == (p["rate_permille"] >= 4)


@pytest.mark.parametrize(
    ("geometry", "status", "param"),
    [
        ({"type": "Point", "coordinates": [0, 0]}, 422, "geometry.type"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1]]]}, 422, "geometry.coordinates"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]},
            422,
            "geometry",
        ),  # bow-tie
        (_box(-20, -10, 20, 30), 413, "geometry"),  # ~2e7 km2
        (_box(-150, -20, -149, -19), 422, "geometry"),  # open ocean: no data
    ],
)
def test_aoi_bad_input(client, geometry, status, param):
    r = client.post("/v1/aoi/assess", json={"geometry": geometry})
    assert r.status_code == status, r.text
    assert r.json()["parameter"] == param


def test_aoi_too_many_vertices_and_body_limits(client):
    ring = [[float(np.cos(t)) + 10, float(np.sin(t)) + 47] for t in np.linspace(0, 2 * np.pi, 30_000)]
    ring[-1] = ring[0]
    r = client.post("/v1/aoi/assess", json={"geometry": {"type": "Polygon", "coordinates": [ring]}})
    assert r.status_code == 413  # 30 000 vertices > 20 000, and also > 1 MB of JSON
    r = client.post(
        "/v1/aoi/assess", json={"geometry": _box(0, 46, 4, 48), "start_epoch": 2017, "end_epoch": 2015}
    )
    assert r.status_code == 422 and r.json()["parameter"] == "end_epoch"


def test_systems_catalog(client):
    r = client.get("/v1/catalog/systems").json()
    assert r["count"] >= 20
    names = {s["id"] for s in r["systems"]}
    assert {
        "soilgrids",
        "openlandmap-soil",
        "fao-gsocmap",
        "fao-gsocseq",
        "glosis",
        "lucas-soil",
        "gnatsgo",
        "wosis",
    } <= names
    sn = client.get("/v1/catalog/systems", params={"kind": "sensor network"}).json()
    assert sn["count"] >= 2 and {s["kind"] for s in sn["systems"]} == {"sensor network"}
    g = client.get("/v1/catalog/systems", params={"scale": "global", "kind": "model"}).json()
    assert {s["scale"] for s in g["systems"]} == {"global"} and g["count"] >= 3
    bad = client.get("/v1/catalog/systems", params={"kind": "satellite"})
    assert bad.status_code == 422 and "remote sensing" in bad.json()["allowed"]


def test_stac_status_health(client, api_store):
    stac = client.get("/v1/stac").json()
    assert stac["type"] == "Collection" and stac["assets"]["soc_stock"]["raster:bands"][0]["unit"] == "t C/ha"
    st = client.get("/v1/status").json()
    assert st["snapshot_id"] == tip(api_store.store)
    soil = next(s for s in st["sources"] if s["source"] == "demo-soilgrids")
    assert soil["latest_item"].startswith("2017-") and "soc" in soil["variables"] and soil["age_days"] > 0
    assert st["newest_source_item"] >= soil["latest_item"]
    h = client.get("/healthz").json()
    assert h == {"status": "ok", "snapshot_id": st["snapshot_id"]}


def test_admin_refresh_needs_the_key(client):
    assert client.post("/v1/admin/refresh").status_code == 401
    assert client.post("/v1/admin/refresh", headers={"X-API-Key": "wrong" * 4}).status_code == 401
    ok = client.post("/v1/admin/refresh", headers={"X-API-Key": "k" * 20})
    assert ok.status_code == 200 and ok.json()["refreshed"] is False


def test_cors_allow_list(client):
    pre = {"Access-Control-Request-Method": "GET"}
    ok = client.options("/v1/indicators", headers={"Origin": "https://dash.example.org", **pre})
    assert ok.headers.get("access-control-allow-origin") == "https://dash.example.org"
    no = client.options("/v1/indicators", headers={"Origin": "https://evil.example.com", **pre})
    assert "access-control-allow-origin" not in no.headers


def test_settings_fail_fast_on_unsafe_combinations(monkeypatch):
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(admin_api_key="short")
    with pytest.raises(ValidationError, match="List the dashboard origins"):
        Settings(admin_api_key="x" * 20, cors_origins=["*"])
    monkeypatch.setenv("SOCOBS_STORE", "/data/store")
    monkeypatch.setenv("SOCOBS_CORS_ORIGINS", '["https://a.org"]')
    s = Settings()
    assert s.store == "/data/store" and s.cors_origins == ["https://a.org"]
