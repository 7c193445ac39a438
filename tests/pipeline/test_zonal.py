"""Zonal statistics on Natural Earth countries against exactextract and rasterio."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.features
from affine import Affine
from pyproj import CRS

from kernels.areas import grid_cell_areas
from kernels.zonal import finalize, zonal_stats
from pipeline.grid import Grid
from pipeline.regions.hierarchy import load_regions
from pipeline.regions.zonal import get_coverage, zonal_table

RES = 0.5
GRID = Grid(Affine(RES, 0, -180, 0, -RES, 90), (int(180 / RES), int(360 / RES)), CRS.from_epsg(4326))


@pytest.fixture(scope="module")
def countries():
    r = load_regions()
    return r[r.level == "country"].reset_index(drop=True)


@pytest.fixture(scope="module")
def values():
    rng = np.random.default_rng(11)
    ny, nx = GRID.shape
    lat = 90 - (np.arange(ny) + 0.5) * RES
    v = 20 + 10 * np.cos(np.radians(lat))[:, None] + rng.normal(0, 2, (ny, nx))
    return v.astype(np.float32)


def test_area_weighted_means_match_exactextract(countries, values, tmp_path):
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    cov = get_coverage(countries, GRID, "exact", tmp_path)
    row_area = GRID.row_areas()
    fin = finalize(zonal_stats(values, cov, row_area)[:, -1:, :])
    wkt = GRID.crs.to_wkt()
    src = NumPyRasterSource(values.astype(np.float64), -180, -90, 180, 90, srs_wkt=wkt)
    w = NumPyRasterSource(
        np.broadcast_to(row_area[:, None], GRID.shape).copy(), -180, -90, 180, 90, srs_wkt=wkt
    )
    ref = exact_extract(
        src, countries[["geometry"]], ["weighted_mean", "mean", "count"], weights=w, output="pandas"
    )
    ours = fin["area_mean"][:, 0]
    ok = ref["count"].to_numpy() > 0
    assert ok.sum() > 200
    np.testing.assert_allclose(ours[ok], ref["weighted_mean"].to_numpy()[ok], rtol=1e-6)
    np.testing.assert_allclose(fin["mean"][ok, 0], ref["mean"].to_numpy()[ok], rtol=1e-6)
    np.testing.assert_allclose(fin["count"][ok, 0], ref["count"].to_numpy()[ok], rtol=1e-9)
    # The cache returns the same coverage without recomputing.
    again = get_coverage(countries, GRID, "exact", tmp_path)
    np.testing.assert_array_equal(again.labels, cov.labels)
    assert len(list(tmp_path.glob("coverage-*.npz"))) == 1


def test_centre_counts_equal_rasterize(countries, values):
    cov = get_coverage(countries, GRID, "centre")
    acc = zonal_stats(values, cov, GRID.row_areas())
    shapes = [(g, i + 1) for i, g in enumerate(countries.geometry)]
    ref = rasterio.features.rasterize(
        shapes, out_shape=GRID.shape, transform=GRID.transform, fill=0, dtype="int32"
    )
    expected = np.bincount(ref.reshape(-1), minlength=len(countries) + 1)[1:]
    np.testing.assert_array_equal(acc[:, -1, 0].astype(int), expected)


def test_regions_roll_up_from_countries(countries, values, tmp_path):
    c = zonal_table(values, GRID, countries, "country", ["area_sum"], "exact", tmp_path)
    r = zonal_table(values, GRID, countries, "region", ["area_sum"], "exact", tmp_path)
    g = zonal_table(values, GRID, countries, "global", ["area_sum"], "exact", tmp_path)
    assert sorted(r.region_id) == sorted(
        ["africa", "asia", "europe", "latin_america_caribbean", "northern_america", "oceania"]
    )
    parent = load_regions().set_index("region_id")["parent_id"]
    by_region = c.assign(p=c.region_id.map(parent)).groupby("p")["area_sum"].sum()
    for row in r.itertuples():
        assert row.area_sum == pytest.approx(by_region[row.region_id], rel=1e-12)
    assert g.area_sum.iloc[0] == pytest.approx(c.area_sum.sum(), rel=1e-12)


def test_cli_writes_one_row_per_region(tmp_path, values):
    path = tmp_path / "v.tif"
    profile = dict(driver="GTiff", width=GRID.shape[1], height=GRID.shape[0], count=1, dtype="float32")
    with rasterio.open(path, "w", **profile, crs="EPSG:4326", transform=GRID.transform, nodata=-9999) as dst:
        dst.write(values, 1)
    out = tmp_path / "z.csv"
    cmd = [
        sys.executable,
        "-m",
        "pipeline.cli",
        "zonal",
        str(path),
        "--regions",
        "region",
        "--stats",
        "count,mean,area_mean",
        "--out",
        str(out),
        "--cache",
        str(tmp_path / "c"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out)
    assert list(table.columns[:5]) == ["region_id", "name", "count", "mean", "area_mean"]
    assert len(table) == 6 and table["area_mean"].between(15, 35).all()
    bad = subprocess.run(
        [*cmd[:3], "zonal", str(tmp_path / "missing.tif"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "cannot read it as a raster" in bad.stderr


def test_projected_non_equal_area_grid_is_refused():
    g = Grid(Affine(1000, 0, 0, 0, -1000, 0), (10, 10), CRS.from_epsg(3857))
    with pytest.raises(Exception, match="not equal-area"):
        g.row_areas()
    ea = Grid(Affine(1000, 0, 0, 0, -1000, 0), (10, 10), CRS.from_epsg(6933))
    assert (
        ea.row_areas().tolist()
        == grid_cell_areas((1000, 0, 0, 0, -1000, 0), (10, 10), geographic=False).tolist()
    )
