"""The monthly signals' maps as tiles (PNG, TileJSON, legend) and their listing in /v1/indicators,
over a copy of the shared API store (tests/support/api_store.py) with the real monthly job run
on it (its demo NDVI, 2015-2017: 36 months). Tile pixels are checked against the stored maps
read straight from the store, located from the tile's own Web Mercator geometry."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from fastapi.testclient import TestClient
from PIL import Image

from observatory_api import Settings, create_app
from observatory_api.render import PALETTES
from observatory_api.services import monthly as monthly_service
from pipeline.monthly.job import run_monthly
from pipeline.store import BRANCH, MONTHLY, open_repo
from tests.support.api_store import ApiStore

PROBLEM = "application/problem+json"
SIGNALS = ("ndvi_anomaly", "bare_soil_frequency", "productivity_ratio")


@dataclass(frozen=True)
class MonthlyStore:
    store: str
    registry: Path


@pytest.fixture(scope="module")
def built(api_store: ApiStore, tmp_path_factory: pytest.TempPathFactory) -> MonthlyStore:
    """The shared store copied (so it is left as other tests expect it), then the monthly job."""
    root = tmp_path_factory.mktemp("monthly_tiles")
    shutil.copytree(Path(api_store.store), root / "repo")
    registry = root / "regions"
    if api_store.registry.exists():  # absent when the store uses the built-in regions only
        shutil.copytree(api_store.registry, registry)
    run_monthly(str(root / "repo"), chunks=(32, 32), registry=registry, cache_dir=root / "cache")
    return MonthlyStore(str(root / "repo"), registry)


@pytest.fixture(scope="module")
def mclient(built: MonthlyStore) -> Iterator[TestClient]:
    settings = Settings(
        store=built.store, registry=built.registry, poll_seconds=3600, client_requests_per_minute=100_000
    )
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def stored(built: MonthlyStore) -> xr.Dataset:
    session = open_repo(built.store).readonly_session(branch=BRANCH)
    return xr.open_zarr(session.store, group=MONTHLY, consolidated=False, chunks=None).load()


def _months(ds: xr.Dataset) -> list[str]:
    return [str(t)[:7] for t in ds["time"].values]


def _pixel_lonlat(z: int, x: int, y: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre longitudes and latitudes of a Web Mercator tile (spherical Mercator)."""
    n = 2**z
    i = (np.arange(256) + 0.5) / 256
    lon = (x + i) / n * 360.0 - 180.0
    merc = np.pi * (1 - 2 * (y + i) / n)  # y in Earth radii, north at the top
    lat = np.degrees(np.arctan(np.sinh(merc)))
    return lon, lat


def _expected(ds: xr.Dataset, signal: str, month: str, tile: tuple[int, int, int], lo: float, hi: float):
    """(256, 256) palette indices from the stored map: nearest cell, the ramp over lo..hi,
    255 where no data or off the grid."""
    lon, lat = _pixel_lonlat(*tile)
    xs, ys = ds["x"].values, ds["y"].values
    dx, dy = abs(float(xs[1] - xs[0])), abs(float(ys[1] - ys[0]))
    col = np.abs(xs[None, :] - lon[:, None]).argmin(axis=1)
    row = np.abs(ys[None, :] - lat[:, None]).argmin(axis=1)
    on = (np.abs(ys[row] - lat) <= dy / 2)[:, None] & (np.abs(xs[col] - lon) <= dx / 2)[None, :]
    k = _months(ds).index(month)
    vals = ds[signal].values[k][row[:, None], col[None, :]].astype(np.float64)
    idx = np.clip(np.rint((vals - lo) / (hi - lo) * 254), 0, 254)
    return np.where(on & np.isfinite(vals), idx, 255).astype(np.uint8)


def _png(resp) -> Image.Image:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(resp.content))


@pytest.mark.parametrize(
    ("signal", "rescale"),
    [("ndvi_anomaly", (-3.0, 3.0)), ("bare_soil_frequency", (0.0, 1.0)), ("productivity_ratio", (0.5, 1.5))],
)
def test_tile_pixels_are_the_palette_of_the_stored_month(mclient, stored, signal, rescale):
    months = _months(stored)
    month = months[len(months) // 2]
    tile = (2, 2, 1)  # Europe and Africa
    img = _png(mclient.get(f"/v1/tiles/monthly/{signal}/2/2/1.png", params={"month": month}))
    assert img.size == (256, 256) and img.mode == "P"
    want = _expected(stored, signal, month, tile, *rescale)
    got = np.asarray(img)
    assert (want != 255).sum() > 1000 and (want == 255).any()  # the tile holds data and no data
    np.testing.assert_array_equal(got, want)
    rgba = np.asarray(img.convert("RGBA"))
    pal = PALETTES[monthly_service.SIGNALS[signal].colormap]
    on = want != 255
    np.testing.assert_array_equal(rgba[on][:, :3], pal[want[on]])
    assert (rgba[..., 3] == np.where(on, 255, 0)).all()


def test_default_month_is_the_newest_and_colormap_rescale_apply(mclient, stored):
    newest = _months(stored)[-1]
    url = "/v1/tiles/monthly/ndvi_anomaly/2/2/1.png"
    assert mclient.get(url).content == mclient.get(url, params={"month": newest}).content
    img = _png(mclient.get(url, params={"colormap": "viridis", "rescale": "-1,1"}))
    want = _expected(stored, "ndvi_anomaly", newest, (2, 2, 1), -1.0, 1.0)
    np.testing.assert_array_equal(np.asarray(img), want)
    rgb = np.asarray(img.convert("RGB"))
    on = want != 255
    np.testing.assert_array_equal(rgb[on], PALETTES["viridis"][want[on]])


def test_palettes_are_colorbrewer_and_centred():
    # BrBG 11 and YlOrBr 9 (ColorBrewer 2.0): ends and, for the diverging ramp, the neutral middle,
    # which lands on 0 for the anomaly (-3..3) and on 1 for the productivity ratio (0.5..1.5)
    brbg = PALETTES["brbg"]
    assert bytes(brbg[0]).hex() == "543005" and bytes(brbg[254]).hex() == "003c30"
    assert bytes(brbg[127]).hex() == "f5f5f5"
    ylorbr = PALETTES["ylorbr"]
    assert bytes(ylorbr[0]).hex() == "ffffe5" and bytes(ylorbr[254]).hex() == "662506"
    for name, centre in (("ndvi_anomaly", 0.0), ("productivity_ratio", 1.0)):
        lo, hi = monthly_service.SIGNALS[name].rescale
        assert (lo + hi) / 2 == centre and monthly_service.SIGNALS[name].colormap == "brbg"


def test_etag_and_cache_headers_follow_the_snapshot(mclient):
    url = "/v1/tiles/monthly/bare_soil_frequency/1/1/0.png"
    first = mclient.get(url)
    assert first.status_code == 200 and first.headers["Cache-Control"].startswith("public")
    etag = first.headers["ETag"]
    sid = mclient.get("/v1/status").json()["snapshot_id"]
    assert first.headers["X-Snapshot-Id"] == sid
    assert mclient.get(url, headers={"If-None-Match": etag}).status_code == 304
    other = mclient.get(url, params={"month": "2015-12"})
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_tilejson_and_legend(mclient, stored):
    months = _months(stored)
    tj = mclient.get("/v1/tiles/monthly/productivity_ratio/tilejson.json").json()
    assert tj["tilejson"] == "3.0.0" and months[-1] in tj["name"]
    assert tj["tiles"][0].endswith(
        f"/v1/tiles/monthly/productivity_ratio/{{z}}/{{x}}/{{y}}.png?month={months[-1]}"
    )
    assert "January" in tj["description"]
    assert -85.06 <= tj["bounds"][1] < tj["bounds"][3] <= 85.06
    tj2 = mclient.get(
        "/v1/tiles/monthly/ndvi_anomaly/tilejson.json",
        params={"month": months[0], "colormap": "rdbu", "rescale": "-2,2"},
    ).json()
    assert tj2["tiles"][0].endswith(f"month={months[0]}&colormap=rdbu&rescale=-2.0,2.0")
    lg = mclient.get("/v1/tiles/monthly/ndvi_anomaly/legend").json()
    assert lg["colormap"] == "brbg" and lg["unit"] == "1" and lg["nodata"] == "transparent"
    values = [s["value"] for s in lg["stops"]]
    assert values[0] == -3 and values[-1] == 3 and 0 in values
    assert lg["stops"][values.index(0)]["color"] == "#f5f5f5"
    bare = mclient.get("/v1/tiles/monthly/bare_soil_frequency/legend", params={"rescale": "0,0.5"}).json()
    assert bare["colormap"] == "ylorbr" and bare["stops"][-1]["value"] == 0.5


def test_indicators_lists_the_monthly_signals(mclient, stored):
    body = mclient.get("/v1/indicators").json()
    m = body["monthly"]
    assert m["months"] == _months(stored) and m["newest_month"] == _months(stored)[-1]
    assert m["baseline"] == [int(v) for v in stored.attrs["baseline"]]
    assert [s["id"] for s in m["signals"]] == list(SIGNALS)
    for s in m["signals"]:
        assert s["unit"] == "1" and s["map"] is True
        assert s["definition"] == stored[s["id"]].attrs["definition"]
        url = s["tiles"].format(z=2, x=2, y=1)
        assert mclient.get(url).status_code == 200
        assert mclient.get(s["legend"]).status_code == 200
    assert body["indicators"]  # the yearly registry is still there


def test_errors_are_problems_that_name_the_fix(mclient, stored, monkeypatch):
    months = _months(stored)
    r = mclient.get("/v1/tiles/monthly/ndvi/2/2/1.png")
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["allowed"] == list(SIGNALS)
    assert mclient.get("/v1/tiles/monthly/ndvi/legend").status_code == 404
    assert mclient.get("/v1/tiles/monthly/ndvi/tilejson.json").status_code == 404
    for bad in ("2030-01", "2016-13", "yesterday"):
        r = mclient.get("/v1/tiles/monthly/ndvi_anomaly/2/2/1.png", params={"month": bad})
        assert r.status_code == 422 and r.json()["parameter"] == "month"
        assert months[0] in r.json()["detail"] and months[-1] in r.json()["detail"]
    r = mclient.get("/v1/tiles/monthly/ndvi_anomaly/2/2/1.png", params={"colormap": "sdg"})
    assert r.status_code == 422 and r.json()["parameter"] == "colormap"
    r = mclient.get("/v1/tiles/monthly/ndvi_anomaly/2/2/1.png", params={"rescale": "3,1"})
    assert r.status_code == 422 and r.json()["parameter"] == "rescale"
    r = mclient.get("/v1/tiles/monthly/ndvi_anomaly/2/9/1.png")
    assert r.status_code == 422 and r.json()["parameter"] == "x"
    monkeypatch.setattr(monthly_service, "MAX_TILE_CELLS", 100)  # this store is too coarse to hit 4M
    r = mclient.get("/v1/tiles/monthly/ndvi_anomaly/0/0/0.png", params={"month": months[1]})
    assert r.status_code == 422 and r.json()["parameter"] == "z" and "higher zoom" in r.json()["detail"]


def test_without_a_monthly_group_the_tiles_are_404_and_not_listed(client):
    assert "monthly" not in client.get("/v1/indicators").json()
    for url in (
        "/v1/tiles/monthly/ndvi_anomaly/2/2/1.png",
        "/v1/tiles/monthly/ndvi_anomaly/tilejson.json",
        "/v1/tiles/monthly/ndvi_anomaly/legend",
    ):
        r = client.get(url)
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
        assert "no monthly signals" in r.json()["detail"] and "socobs indicators" in r.json()["detail"]
