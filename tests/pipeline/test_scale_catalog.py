"""The scale benchmark's catalog refinement: each coarse cell becomes factor x factor equal cells on
the same footprint, whatever the band of rows a write falls in."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from tests.benchmarks import scale_catalog
from tests.benchmarks.scale import refine_factor
from tests.benchmarks.scale_catalog import refine_catalog, refine_raster


def _write(path: Path, data: np.ndarray, nodata: float) -> None:
    profile = {
        "driver": "GTiff",
        "height": data.shape[0],
        "width": data.shape[1],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": "EPSG:4326",
        "transform": from_origin(-18.0, 38.0, 0.1, 0.1),
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


@pytest.mark.parametrize("factor", [1, 3, 5])
def test_refined_raster_repeats_each_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, factor: int
) -> None:
    monkeypatch.setattr(scale_catalog, "BAND_ROWS", 7)  # bands that cut coarse rows in two
    rng = np.random.default_rng(3)
    coarse = rng.integers(-100, 100, size=(13, 11)).astype(np.int16)
    coarse[2, 3] = -32768
    _write(tmp_path / "c.tif", coarse, -32768)
    shape = refine_raster(tmp_path / "c.tif", tmp_path / "f.tif", factor)
    assert shape == (13 * factor, 11 * factor)
    with rasterio.open(tmp_path / "f.tif") as f:
        fine = f.read(1)
        assert f.nodata == -32768 and f.dtypes[0] == "int16" and f.crs.to_epsg() == 4326
        assert f.bounds == pytest.approx((-18.0, 38.0 - 1.3, -18.0 + 1.1, 38.0))
        assert f.res == pytest.approx((0.1 / factor, 0.1 / factor))
    expected = np.kron(coarse, np.ones((factor, factor), dtype=np.int16))
    np.testing.assert_array_equal(fine, expected)


def test_refined_catalog_items_point_to_refined_rasters(tmp_path: Path) -> None:
    src = tmp_path / "base"
    (src / "data").mkdir(parents=True)
    _write(src / "data" / "soc.tif", np.arange(12, dtype=np.int16).reshape(3, 4), -32768)
    item = {
        "type": "Feature",
        "id": "demo-soilgrids-2015",
        "properties": {"proj:shape": [3, 4], "proj:transform": [0.1, 0.0, -18.0, 0.0, -0.1, 38.0]},
        "assets": {
            "soc": {
                "href": (src / "data" / "soc.tif").as_uri(),
                "raster:bands": [{"spatial_resolution": 0.1}],
            }
        },
    }
    (src / "demo-soilgrids" / "i").mkdir(parents=True)
    (src / "demo-soilgrids" / "i" / "i.json").write_text(json.dumps(item))
    (src / "catalog.json").write_text("{}")
    refine_catalog(src, tmp_path / "fine", 2)
    out = json.loads((tmp_path / "fine" / "demo-soilgrids" / "i" / "i.json").read_text())
    assert out["properties"]["proj:shape"] == [6, 8]
    assert out["properties"]["proj:transform"] == pytest.approx([0.05, 0.0, -18.0, 0.0, -0.05, 38.0])
    href = out["assets"]["soc"]["href"]
    assert href == (tmp_path / "fine" / "data" / "soc.tif").resolve().as_uri()
    assert out["assets"]["soc"]["raster:bands"][0]["spatial_resolution"] == pytest.approx(0.05)
    with rasterio.open(href.removeprefix("file://")) as f:
        assert f.shape == (6, 8)


def test_resolutions_must_divide_the_base() -> None:
    assert [refine_factor(r) for r in (0.1, 0.05, 0.02, 0.01)] == [1, 2, 5, 10]
    with pytest.raises(ValueError, match=r"0\.1 / an integer"):
        refine_factor(0.03)
