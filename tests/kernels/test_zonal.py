"""Zonal kernels: true areas, hand-computed reductions, roll-up and numpy == dask properties."""

from __future__ import annotations

import math

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from kernels import xr as kx
from kernels.areas import geographic_row_areas, grid_cell_areas
from kernels.errors import KernelInputError
from kernels.zonal import AREA, COUNT, MAX, MIN, SUM, Coverage, finalize, rollup, zonal_stats


def test_global_grid_area_is_the_ellipsoid_area():
    areas = geographic_row_areas(np.linspace(90, -90, 181), 1.0)
    total = areas.sum() * 360
    assert total == pytest.approx(510_065_621.7e6, rel=1e-9)  # WGS84, 4 pi R_authalic^2


@pytest.mark.parametrize("lat", [0.0, 35.0, 62.5, 89.0])
def test_cell_area_matches_geodesic_polygon(lat):
    # Parallels are not geodesics: densify the cell's edges until the geodesic area converges.
    lons = np.linspace(10.0, 10.5, 400)
    ring_lon = np.r_[lons, lons[::-1]]
    ring_lat = np.r_[np.full(400, lat), np.full(400, lat + 0.5)]
    geod_area = abs(Geod(ellps="WGS84").polygon_area_perimeter(ring_lon, ring_lat)[0])
    ours = geographic_row_areas([lat, lat + 0.5], 0.5)[0]
    assert ours == pytest.approx(geod_area, rel=1e-6)


def test_equal_area_and_rotated_grids():
    assert grid_cell_areas((1000.0, 0, 0, 0, -1000.0, 0), (3, 4), geographic=False).tolist() == [1e6] * 3
    with pytest.raises(KernelInputError, match="north-up"):
        grid_cell_areas((1.0, 0.5, 0, 0, -1.0, 0), (3, 4))


def test_hand_computed_reduction_with_border_and_strata():
    values = np.array([[1.0, 2.0, np.nan], [4.0, 5.0, 6.0]], dtype=np.float32)
    labels = np.array([[0, 0, 1], [-1, 1, 1]], dtype=np.int16)
    # cell 3 (row 1, col 0) is cut: 25 % in region 0, 50 % in region 1
    cov = Coverage((2, 3), 2, labels, np.array([3, 3]), np.array([0, 1], np.int32), np.array([0.25, 0.5]))
    row_area = np.array([10.0, 20.0])
    strata = np.array([[0, 1, 1], [0, 0, 255]], dtype=np.uint8)
    acc = zonal_stats(values, cov, row_area, strata=strata, n_strata=2)
    allc = acc.sum(axis=1)
    # region 0: cells (0,0)=1 [a=10], (0,1)=2 [a=10], 25 % of (1,0)=4 [a=20]
    assert allc[0, COUNT] == pytest.approx(2.25)
    assert allc[0, SUM] == pytest.approx(1 + 2 + 0.25 * 4)
    assert allc[0, AREA] == pytest.approx(10 + 10 + 5)
    f = finalize(acc.sum(axis=1, keepdims=True).copy())
    assert f["area_mean"][0, 0] == pytest.approx((10 * 1 + 10 * 2 + 5 * 4) / 25)
    # region 1: (0,2) is NaN (area counted in area_total only), (1,1)=5, (1,2)=6, 50 % of (1,0)
    assert allc[1, COUNT] == pytest.approx(2.5)
    assert f["valid_fraction"][1, 0] == pytest.approx((20 + 20 + 10) / (10 + 20 + 20 + 10))
    assert acc[1, 0, MIN] == 4.0 and acc[1, 2, MAX] == 6.0  # stratum 0: (1,1) and the cut cell
    assert acc[0, 1, COUNT] == pytest.approx(1.0)  # stratum 1 holds (0,1) only for region 0


def random_case(seed: int, ny: int = 23, nx: int = 31, n_regions: int = 7):
    rng = np.random.default_rng(seed)
    values = rng.normal(10, 3, (ny, nx)).astype(np.float32)
    values[rng.uniform(size=(ny, nx)) < 0.1] = np.nan
    labels = rng.integers(-1, n_regions, (ny, nx)).astype(np.int16)
    k = rng.integers(0, 40)
    cells = np.sort(rng.choice(ny * nx, k, replace=False)).astype(np.int64)
    labels.reshape(-1)[cells] = -1
    cov = Coverage(
        (ny, nx),
        n_regions,
        labels,
        cells,
        rng.integers(0, n_regions, k).astype(np.int32),
        rng.uniform(0.01, 1, k),
    )
    row_area = rng.uniform(1e6, 2e6, ny)
    return values, cov, row_area


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), n_parents=st.integers(1, 4))
def test_rollup_equals_direct_computation_on_parents(seed, n_parents):
    values, cov, row_area = random_case(seed)
    rng = np.random.default_rng(seed + 1)
    parent_of = rng.integers(0, n_parents, cov.n_regions)
    child = zonal_stats(values, cov, row_area)
    rolled = rollup(child, parent_of, n_parents)
    lab = cov.labels.copy()
    lab[lab >= 0] = parent_of[lab[lab >= 0]]
    direct_cov = Coverage(
        cov.shape,
        n_parents,
        lab,
        cov.border_cell,
        parent_of[cov.border_region].astype(np.int32),
        cov.border_frac,
    )
    direct = zonal_stats(values, direct_cov, row_area)
    np.testing.assert_allclose(rolled, direct, rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 100_000), chunk=st.integers(1, 23))
def test_numpy_equals_dask(seed, chunk):
    values, cov, row_area = random_case(seed)
    eager = kx.zonal_stats(xr.DataArray(values, dims=("y", "x")), cov, row_area)
    lazy = kx.zonal_stats(
        xr.DataArray(da.from_array(values, chunks=(chunk, 7)), dims=("y", "x")), cov, row_area
    )
    np.testing.assert_allclose(lazy, eager, rtol=1e-12)


def test_accumulation_is_float64():
    n = 4000
    values = np.full((n, n), 0.1, dtype=np.float32)
    cov = Coverage.from_labels(np.zeros((n, n), dtype=np.int16), 1)
    acc = zonal_stats(values, cov, np.ones(n))
    exact = float(np.float32(0.1)) * n * n
    assert acc[0, 0, SUM] == pytest.approx(exact, rel=1e-12)
    # what a float32 accumulator gives, for contrast: it drifts
    f32 = np.cumsum(values.reshape(-1)[: 2**22], dtype=np.float32)[-1]
    assert abs(f32 / (float(np.float32(0.1)) * 2**22) - 1) > 1e-4


def test_bad_arguments():
    values, cov, row_area = random_case(0)
    with pytest.raises(KernelInputError, match="row_area"):
        zonal_stats(values, cov, row_area[:-1])
    with pytest.raises(KernelInputError, match="rows of the coverage grid"):
        zonal_stats(values[:, :-1], cov, row_area)
    with pytest.raises(KernelInputError, match="strata"):
        zonal_stats(values, cov, row_area, strata=np.zeros_like(values, dtype=np.int8), n_strata=2)
    assert math.isfinite(zonal_stats(values, cov, row_area)[0, 0, COUNT])


def test_fixed_n_chunks_is_independent_of_the_thread_count():
    import numba as nb

    rng = np.random.default_rng(3)
    labels = rng.integers(-1, 5, (40, 30))
    cov = Coverage.from_labels(labels, 5)
    values = rng.normal(10, 3, (40, 30)).astype(np.float32)
    strata = rng.integers(0, 3, (40, 30)).astype(np.uint8)
    area = np.linspace(1e6, 2e6, 40)
    before = nb.get_num_threads()
    got = []
    try:
        for threads in (1, nb.config.NUMBA_NUM_THREADS):
            nb.set_num_threads(threads)
            got.append(zonal_stats(values, cov, area, strata=strata, n_strata=3, n_chunks=5))
    finally:
        nb.set_num_threads(before)
    np.testing.assert_array_equal(got[0], got[1])
    one = zonal_stats(values, cov, area, strata=strata, n_strata=3, n_chunks=1)
    np.testing.assert_allclose(got[0], one, rtol=1e-12)  # other split, same sums up to rounding
    with pytest.raises(KernelInputError, match="n_chunks"):
        zonal_stats(values, cov, area, n_chunks=0)
