"""The synthetic demo catalog: structure, encodings, reproducibility, plausibility, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio

from pipeline.demo import synthetic as syn
from pipeline.demo.catalog import ENCODINGS, DemoSpec, make_demo_catalog
from pipeline.errors import CatalogError
from tests.support.demo import SMALL_DEMO


def read(path_or_uri: str) -> tuple[np.ndarray, dict]:
    path = path_or_uri.removeprefix("file://")
    with rasterio.open(path) as src:
        return src.read(1), src.profile


def decoded(item: pystac.Item, key: str) -> np.ndarray:
    asset = item.assets[key]
    band = asset.extra_fields["raster:bands"][0]
    dn, _ = read(asset.href)
    out = dn * band["scale"] + band["offset"]
    return np.where(dn == band["nodata"], np.nan, out)


@pytest.fixture(scope="module")
def catalog(demo_catalog: Path) -> pystac.Catalog:
    return pystac.Catalog.from_file(str(demo_catalog / "catalog.json"))


def test_structure_and_labels(catalog):
    cols = {c.id: c for c in catalog.get_children()}
    assert set(cols) == {"demo-soilgrids", "demo-worldcover", "demo-ndvi", "demo-climate"}
    years = SMALL_DEMO.end_year - SMALL_DEMO.start_year + 1
    counts = {cid: len(list(c.get_items())) for cid, c in cols.items()}
    assert counts == {
        "demo-soilgrids": years,
        "demo-worldcover": years,
        "demo-ndvi": 12 * years,
        "demo-climate": 12 * years,
    }
    for c in cols.values():
        assert "SYNTHETIC" in c.description and "synthetic" in c.keywords
        for item in c.get_items():
            assert item.properties["socobs:synthetic"] is True
            assert item.properties["proj:code"] == "EPSG:4326"
            assert item.properties["start_datetime"] < item.properties["end_datetime"]
            for asset in item.assets.values():
                assert asset.href.startswith("file:///")
                assert Path(asset.href.removeprefix("file://")).exists()
                band = asset.extra_fields["raster:bands"][0]
                assert {"nodata", "data_type", "unit", "scale", "offset"} <= set(band)


def test_soilgrids_layers_and_encodings(catalog):
    item = next(catalog.get_child("demo-soilgrids").get_items())
    depths = ["0-5cm", "5-15cm", "15-30cm"]
    expected = {f"soc_{d}_{s}" for d in depths for s in ("mean", "Q0.05", "Q0.95")}
    expected |= {f"{v}_{d}_mean" for v in ("bdod", "cfvo", "clay") for d in depths}
    assert set(item.assets) == expected
    _, profile = read(item.assets["soc_0-5cm_mean"].href)
    assert profile["dtype"] == "int16" and profile["nodata"] == -32768
    band = item.assets["bdod_0-5cm_mean"].extra_fields["raster:bands"][0]
    assert (band["unit"], band["scale"]) == ("g/cm3", 0.01)  # SoilGrids cg/cm3
    assert item.assets["cfvo_0-5cm_mean"].extra_fields["raster:bands"][0]["scale"] == 0.001
    assert item.assets["soc_5-15cm_mean"].extra_fields["socobs:depth_bottom_cm"] == 15


def test_plausible_values(catalog):
    item = next(catalog.get_child("demo-soilgrids").get_items())
    soc = decoded(item, "soc_0-5cm_mean")
    lo, hi = decoded(item, "soc_0-5cm_Q0.05"), decoded(item, "soc_0-5cm_Q0.95")
    ok = np.isfinite(soc)
    assert 0.2 < ok.mean() < 0.5  # land share of the globe, minus ice and water
    assert np.all(lo[ok] <= soc[ok]) and np.all(soc[ok] <= hi[ok])
    assert np.nanmin(soc) >= 1 and np.nanmax(soc) <= 400
    # Bulk density follows the Adams (1973) PTF from SOC (to the encoding's rounding).
    bd = decoded(item, "bdod_0-5cm_mean")
    expect = syn.adams_bulk_density(soc, syn.DEPTH_MINERAL_BD[0])
    assert np.nanmax(np.abs(bd - expect)) < 0.01
    # SOC decreases with depth.
    deeper = decoded(item, "soc_15-30cm_mean")
    assert np.all(deeper[ok] < soc[ok])
    # Ocean (mid-Pacific) has no data, the Congo basin has soil.
    _, profile = read(item.assets["soc_0-5cm_mean"].href)
    t = profile["transform"]
    r, c = rasterio.transform.rowcol(t, -150.0, 0.0)
    assert np.isnan(soc[r, c])
    r, c = rasterio.transform.rowcol(t, 23.0, -1.0)
    assert np.isfinite(soc[r, c])


def test_trends_differ_between_regions(catalog, demo_catalog):
    items = sorted(catalog.get_child("demo-soilgrids").get_items(), key=lambda i: i.id)
    a, b = decoded(items[0], "soc_0-5cm_mean"), decoded(items[-1], "soc_0-5cm_mean")
    _, profile = read(items[0].assets["soc_0-5cm_mean"].href)
    lon = profile["transform"].c + (np.arange(a.shape[1]) + 0.5) * profile["transform"].a
    lat = profile["transform"].f + (np.arange(a.shape[0]) + 0.5) * profile["transform"].e
    lon2, lat2 = np.meshgrid(lon, lat)
    africa = (lon2 > 10) & (lon2 < 40) & (lat2 > -20) & (lat2 < 10)
    australia = (lon2 > 115) & (lon2 < 150) & (lat2 > -35) & (lat2 < -15)

    def change(mask):  # regional totals: per pixel, one year is below the dg/kg quantum
        m = mask & np.isfinite(a) & np.isfinite(b)
        return b[m].sum() / a[m].sum()

    assert change(africa) < 0.999 and change(australia) > 1.001


def test_monthly_items(catalog):
    clim = sorted(catalog.get_child("demo-climate").get_items(), key=lambda i: i.id)
    assert set(clim[0].assets) == {"tas", "pr", "pet"}
    jan, jul = decoded(clim[0], "tas"), decoded(clim[6], "tas")
    north = int(0.15 * jan.shape[0])  # ~60 N
    assert np.nanmean(jul[north]) > np.nanmean(jan[north]) + 10  # northern summer
    assert np.nanmin(decoded(clim[0], "pr")) >= 0 and np.nanmin(decoded(clim[0], "pet")) >= 0
    ndvi = decoded(next(catalog.get_child("demo-ndvi").get_items()), "ndvi")
    assert np.nanmin(ndvi) >= -0.2 and np.nanmax(ndvi) <= 1.0


def test_same_seed_same_catalog_other_seed_differs(tmp_path, demo_catalog):
    spec = DemoSpec(resolution=4.0, start_year=2015, end_year=2015, seed=SMALL_DEMO.seed, monthly=False)
    make_demo_catalog(tmp_path / "a", spec)
    make_demo_catalog(tmp_path / "b", DemoSpec(**{**spec.__dict__, "seed": 8}))
    rel = Path("data/soilgrids/2015/soc_0-5cm_mean.tif")
    same, _ = read(str(tmp_path / "a" / rel))
    ref, _ = read(str(demo_catalog / rel))
    other, _ = read(str(tmp_path / "b" / rel))
    np.testing.assert_array_equal(same, ref)
    assert not np.array_equal(same, other)


def test_non_empty_directory_is_refused(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(CatalogError, match="exists and is not empty"):
        make_demo_catalog(tmp_path / "x", DemoSpec(resolution=10.0, end_year=2015, monthly=False))
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (DemoSpec(resolution=0.0), "--resolution"),
        (DemoSpec(start_year=2020, end_year=2019), "--years"),
        (DemoSpec(bbox=(10, 0, 5, 5)), "--bbox"),
    ],
)
def test_bad_spec_writes_nothing(tmp_path, spec, message):
    with pytest.raises(CatalogError, match=message):
        make_demo_catalog(tmp_path / "cat", spec)
    assert list(tmp_path.iterdir()) == []


def test_encoding_round_trip():
    enc = ENCODINGS["soc"]
    values = np.array([[0.04, 12.34, np.nan, 5000.0]])
    dn = enc.encode(values)
    assert dn.dtype == np.int16
    assert dn.tolist() == [[0, 123, -32768, 32767]]  # rounded, nodata, clipped below nodata


def test_stac_json_is_valid_geojson_items(demo_catalog):
    doc = json.loads(next((demo_catalog / "demo-ndvi").rglob("demo-ndvi-2015-01.json")).read_text())
    assert doc["type"] == "Feature" and doc["geometry"]["type"] == "Polygon"
    assert doc["collection"] == "demo-ndvi"
