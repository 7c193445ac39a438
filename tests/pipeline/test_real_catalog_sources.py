"""Real-catalog source definitions, offline: recorded-shape items pointing at local COGs go
through the same parse -> load -> harmonise path as the demo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
from odc.geo.geobox import GeoBox
from rasterio.transform import from_origin

from pipeline.config import load_source
from pipeline.ingest.harmonise import load_source_data
from pipeline.ingest.stac import parse_item

DATA = Path(__file__).parents[1] / "data" / "stac"
GEOBOX = GeoBox.from_bbox((36, -1, 37, 0), "EPSG:4326", resolution=0.025)


def cog(path: Path, values: np.ndarray, dtype: str, nodata: float | None) -> None:
    profile = dict(
        driver="GTiff",
        width=40,
        height=40,
        count=1,
        dtype=dtype,
        crs="EPSG:4326",
        transform=from_origin(36, 0, 0.025, 0.025),
        nodata=nodata,
        tiled=True,
        blockxsize=16,
        blockysize=16,
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype(dtype), 1)


def item(name: str, tmp: Path) -> pystac.Item:
    doc = json.loads((DATA / name).read_text())
    for a in doc["assets"].values():
        a["href"] = (tmp / Path(a["href"]).name).as_uri()
    return pystac.Item.from_dict(doc)


def load(source: str, it: pystac.Item):
    src = load_source(source)
    assets = sorted({lay.asset for v in src.variables.values() for lay in v.layers})
    return load_source_data([parse_item(it, assets)], src, GEOBOX, {"y": 16, "x": 16}).compute()


def test_modis_ndvi(tmp_path):
    dn = np.full((40, 40), 6543, dtype=np.int16)
    dn[0, :5] = -3000  # fill value
    cog(tmp_path / "ndvi.tif", dn, "int16", -3000)
    cog(tmp_path / "evi.tif", dn, "int16", -3000)
    ds = load("pc-modis-ndvi", item("pc-modis-13Q1-061.json", tmp_path))
    ndvi = ds["ndvi"].isel(time=0).values
    assert np.isnan(ndvi[0, :5]).all()
    np.testing.assert_allclose(ndvi[1:], 0.6543, rtol=1e-6)
    assert str(ds["time"].values[0])[:7] == "2021-01"  # monthly series keyed by the month


def test_gnatsgo_stock(tmp_path):
    v = np.full((40, 40), 4500.0, dtype=np.float32)
    v[5, 5] = -9999
    cog(tmp_path / "soc0_30.tif", v, "float32", -9999)
    ds = load("pc-gnatsgo", item("pc-gnatsgo-rasters.json", tmp_path))
    stock = ds["soc_stock_src"].values.squeeze()
    assert ds["soc_stock_src"].attrs["units"] == "t C/ha"
    assert np.isnan(stock[5, 5]) and stock[0, 0] == pytest.approx(45.0)  # 4500 g C/m2 = 45 t C/ha


def test_openlandmap_points_to_intervals(tmp_path):
    for d, val in ((0, 12), (10, 8), (30, 4)):  # "x 5 g/kg": 60, 40, 20 g/kg
        cog(tmp_path / f"oc_b{d}cm.tif", np.full((40, 40), val, dtype=np.uint8), "uint8", 255)
    ds = load("openlandmap-soil", item("openlandmap-organic-carbon.json", tmp_path))
    soc = ds["soc"]
    assert soc["depth_top"].values.tolist() == [0, 10] and soc["depth_bottom"].values.tolist() == [10, 30]
    np.testing.assert_allclose(soc.isel(depth=0).values, 50.0)  # mean of 60 and 40 g/kg
    np.testing.assert_allclose(soc.isel(depth=1).values, 30.0)  # mean of 40 and 20 g/kg
