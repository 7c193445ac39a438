"""SOC stock, change/rates/4 per 1000 and the SOC/clay ratio against hand-computed cases."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels import xr as kx
from kernels.change import change_and_rates
from kernels.errors import KernelInputError
from kernels.soil_health import soc_clay_ratio
from kernels.stock import soc_stock, soc_stock_points, stock_bounds

TOP = [0.0, 5.0, 15.0]
BOT = [5.0, 15.0, 30.0]


def uniform(value: float, shape=(3, 2)) -> np.ndarray:
    return np.full(shape, value)


def test_the_ten_times_trap():
    # 0.65 % C = 6.5 g/kg, 1.45 g/cm3, 30 cm, no coarse fragments: 28.3 t C/ha (not 283, not 2.83)
    s = soc_stock(uniform(6.5), uniform(1.45), uniform(0.0), TOP, BOT)
    np.testing.assert_allclose(s, 6.5 * 1.45 * 30 * 0.1, rtol=1e-6)
    assert round(float(s[0]), 1) == 28.3


def test_partial_layer_overlap_and_coarse_fragments():
    soc = np.array([[20.0], [10.0], [5.0], [2.0]])
    bd = np.array([[1.0], [1.2], [1.4], [1.5]])
    cf = np.array([[0.0], [0.1], [0.2], [0.5]])
    top, bot = [0, 5, 15, 30], [5, 15, 30, 60]
    # 0-20 cm: 5 cm of layer 1, 10 cm of layer 2, 5 cm of layer 3, none of layer 4
    expect = 0.1 * (20 * 1.0 * 1.0 * 5 + 10 * 1.2 * 0.9 * 10 + 5 * 1.4 * 0.8 * 5)
    got = soc_stock(soc, bd, cf, top, bot, (0, 20), out=np.empty(1))
    assert got[0] == pytest.approx(expect, rel=1e-12)
    # 10-45 cm: 5 + 15 + 15 cm
    expect2 = 0.1 * (10 * 1.2 * 0.9 * 5 + 5 * 1.4 * 0.8 * 15 + 2 * 1.5 * 0.5 * 15)
    assert soc_stock(soc, bd, cf, top, bot, (10, 45), out=np.empty(1))[0] == pytest.approx(expect2)


def test_stored_integers_with_scales_and_nodata():
    rng = np.random.default_rng(0)
    soc_dn = rng.integers(10, 900, (3, 50)).astype(np.int16)  # dg/kg
    bd_dn = rng.integers(80, 170, (3, 50)).astype(np.int16)  # cg/cm3
    cf_dn = rng.integers(0, 400, (3, 50)).astype(np.int16)  # cm3/dm3
    soc_dn[1, 7] = -32768
    got = soc_stock(
        soc_dn, bd_dn, cf_dn, TOP, BOT, scales=(0.1, 0.01, 0.001), nodata=(-32768, -32768, -32768)
    )
    assert got.dtype == np.float32
    ref = soc_stock(soc_dn * 0.1, bd_dn * 0.01, cf_dn * 0.001, TOP, BOT, out=np.empty(50))
    ref[7] = np.nan
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    assert np.isnan(got[7])


def test_output_buffer_is_reused():
    buf = np.empty(2, dtype=np.float32)
    out = soc_stock(uniform(10.0), uniform(1.0), uniform(0.0), TOP, BOT, out=buf)
    assert out is buf and out[0] == pytest.approx(30.0)


def test_point_depths_trapezoid():
    soc = np.array([[20.0], [15.0], [5.0]])  # at 0, 10, 30 cm
    one, zero = np.ones((3, 1)), np.zeros((3, 1))
    # 0-30: (20+15)/2*10 + (15+5)/2*20 = 375 -> 37.5 t/ha
    assert soc_stock_points(soc, one, zero, [0, 10, 30])[0] == pytest.approx(37.5)
    # 0-20: density at 20 cm is 10 -> 175 + (15+10)/2*10 = 300 -> 30 t/ha
    assert soc_stock_points(soc, one, zero, [0, 10, 30], (0, 20))[0] == pytest.approx(30.0)
    with pytest.raises(KernelInputError, match="outside the measured depths"):
        soc_stock_points(soc, one, zero, [0, 10, 30], (0, 40))


@settings(max_examples=25, deadline=None)
@given(
    value=st.floats(0.5, 300),
    bd=st.floats(0.3, 2.0),
    cf=st.floats(0, 0.9),
    d=st.floats(1, 100),
    k=st.floats(1.5, 4),
)
def test_stock_is_linear_in_thickness(value, bd, cf, d, k):
    one = soc_stock(
        np.full((1, 1), value),
        np.full((1, 1), bd),
        np.full((1, 1), cf),
        [0],
        [d * k],
        (0, d),
        out=np.empty(1),
    )
    many = soc_stock(
        np.full((1, 1), value),
        np.full((1, 1), bd),
        np.full((1, 1), cf),
        [0],
        [d * k],
        (0, d * k),
        out=np.empty(1),
    )
    assert many[0] == pytest.approx(one[0] * k, rel=1e-9)


def test_bounds_bracket_the_mean():
    mean = soc_stock(uniform(20.0), uniform(1.2), uniform(0.1), TOP, BOT)
    lo, hi = stock_bounds(uniform(12.0), uniform(31.0), uniform(1.2), uniform(0.1), TOP, BOT)
    assert np.all(lo < mean) and np.all(mean < hi)


@pytest.mark.parametrize(
    ("top", "bot", "rng", "message"),
    [
        ([0, 5], [5, 15], (0, 30), "cover 15 cm of it"),
        ([0, 5, 5], [5, 15, 30], (0, 30), "cover 40 cm"),
        ([0, 15], [5, 10], (0, 10), "expected top < bottom"),
        (TOP, BOT, (20, 10), "depth_range"),
    ],
)
def test_bad_depths(top, bot, rng, message):
    n = len(top)
    with pytest.raises(KernelInputError, match=message):
        soc_stock(uniform(1.0, (n, 1)), uniform(1.0, (n, 1)), uniform(0.0, (n, 1)), top, bot, rng)


def test_mismatched_shapes():
    with pytest.raises(KernelInputError, match="bdod: expected shape"):
        soc_stock(uniform(1.0), uniform(1.0, (3, 3)), uniform(0.0), TOP, BOT)


def layered(data: np.ndarray, dask: bool) -> xr.DataArray:
    arr = da.from_array(data, chunks=(3, 4, 5)) if dask else data
    return xr.DataArray(
        arr, dims=("depth", "y", "x"), coords={"depth_top": ("depth", TOP), "depth_bottom": ("depth", BOT)}
    )


def test_xarray_wrapper_numpy_equals_dask():
    rng = np.random.default_rng(1)
    s, b, c = (
        rng.uniform(1, 50, (3, 9, 11)),
        rng.uniform(0.8, 1.6, (3, 9, 11)),
        rng.uniform(0, 0.4, (3, 9, 11)),
    )
    eager = kx.soc_stock(layered(s, False), layered(b, False), layered(c, False))
    lazy = kx.soc_stock(layered(s, True), layered(b, True), layered(c, True))
    assert lazy.chunks is not None
    np.testing.assert_array_equal(eager.values, lazy.compute().values)
    assert eager.attrs["units"] == "t C/ha"


def test_change_rates_and_both_conventions():
    r = change_and_rates(np.array([52.0]), np.array([50.0]), 10.0, "linear")
    assert r["soc_stock_change"][0] == pytest.approx(2.0)
    assert r["soc_change_rate"][0] == pytest.approx(0.2)
    assert r["soc_change_rate_permille"][0] == pytest.approx(4.0)
    assert r["progress_4p1000"][0] == pytest.approx(1.0)  # exactly on the linear path
    on_compound = 50 * 1.004**10
    c = change_and_rates(np.array([on_compound, 52.0]), np.array([50.0, 50.0]), 10.0, "compound")
    assert c["progress_4p1000"][0] == pytest.approx(1.0)
    assert c["progress_4p1000"][1] == pytest.approx(((52 / 50) ** 0.1 - 1) / 0.004)
    lin = change_and_rates(np.array([on_compound]), np.array([50.0]), 10.0, "linear")
    assert lin["progress_4p1000"][0] == pytest.approx((on_compound - 50) / 2.0)  # 1.016
    base = change_and_rates(np.array([50.0, 3.0]), np.array([50.0, 0.0]), 0.0)
    assert np.isnan(base["soc_change_rate"]).all()
    with pytest.raises(KernelInputError, match="convention"):
        change_and_rates(np.ones(1), np.ones(1), 1.0, "geometric")  # type: ignore[arg-type]
    with pytest.raises(KernelInputError, match="years"):
        change_and_rates(np.ones(1), np.ones(1), -1.0)


def test_change_wrapper_names_the_convention():
    stock = xr.DataArray(
        np.array([[50.0], [51.0], [52.0]]), dims=("epoch", "x"), coords={"epoch": [2015, 2020, 2025]}
    )
    ds = kx.change_and_rates(stock, convention="compound")
    assert ds["progress_4p1000"].attrs["convention"] == "compound"
    assert np.isnan(ds["soc_change_rate"].sel(epoch=2015).item())
    assert ds["soc_stock_change"].sel(epoch=2025).item() == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("soc", "clay", "cls"),
    [
        (10.0, 20.0, 0),
        (10.0, 12.0, 1),
        (10.0, 10.0, 2),
        (10.0, 9.0, 2),
        (10.0, 8.0, 3),
        (10.0, 13.0, 1),
    ],
)
def test_soc_clay_classes(soc, clay, cls):
    ratio, c = soc_clay_ratio(np.array([soc]), np.array([clay]))
    assert ratio[0] == pytest.approx(soc / 10 / clay)
    assert c[0] == cls  # on a threshold (1/10, 1/13) the better class


def test_soc_clay_nodata_and_bad_units():
    ratio, c = soc_clay_ratio(np.array([10.0, np.nan]), np.array([0.0, 20.0]))
    assert np.isnan(ratio).all() and (c == 255).all()
    with pytest.raises(KernelInputError, match="percentage"):
        soc_clay_ratio(np.array([10.0]), np.array([250.0]))  # g/kg given as %
