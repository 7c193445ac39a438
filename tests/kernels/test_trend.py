"""Trends against scipy (theilslopes, kendalltau), a reference Mann-Kendall and numpy."""

from __future__ import annotations

import math

import dask.array as da
import numpy as np
import pytest
import scipy.stats as ss
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels import xr as kx
from kernels.errors import KernelInputError
from kernels.trend import trends


def reference_mk(y: np.ndarray, continuity: bool = True) -> tuple[float, float, float]:
    """Mann-Kendall written from the textbook formulas (Kendall 1975), pure Python."""
    n = len(y)
    s = sum(np.sign(y[j] - y[i]) for i in range(n) for j in range(i + 1, n))
    _, counts = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in counts)) / 18
    if continuity:
        z = (s - 1) / math.sqrt(var) if s > 0 else ((s + 1) / math.sqrt(var) if s < 0 else 0.0)
    else:
        z = s / math.sqrt(var)
    return float(s), z, 2 * (1 - ss.norm.cdf(abs(z)))


def series(seed: int, n_pix: int, n_t: int, ties: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 1, (n_t, n_pix)) + 0.05 * np.arange(n_t)[:, None] * rng.normal(size=n_pix)
    return np.round(y, 1) if ties else y


@pytest.mark.parametrize("ties", [False, True])
def test_theil_sen_matches_scipy(ties):
    y = series(0, 60, 20, ties)
    t = np.arange(2005, 2025, dtype=float)
    r = trends(y, t)
    for p in range(y.shape[1]):
        ref = ss.theilslopes(y[:, p], t, alpha=0.95)
        assert r.sen_slope[p] == pytest.approx(ref.slope, abs=1e-12)
        assert r.sen_low[p] == pytest.approx(ref.low_slope, abs=1e-12)
        assert r.sen_high[p] == pytest.approx(ref.high_slope, abs=1e-12)


@pytest.mark.parametrize("n_t", [4, 7, 10, 13])
def test_theil_sen_interval_other_lengths_and_levels(n_t):
    y = series(1, 30, n_t, True)
    t = np.arange(n_t, dtype=float) * 2.5
    for conf in (0.8, 0.95):
        r = trends(y, t, confidence=conf)
        for p in range(y.shape[1]):
            ref = ss.theilslopes(y[:, p], t, alpha=conf)
            assert (r.sen_slope[p], r.sen_low[p], r.sen_high[p]) == pytest.approx(
                (ref.slope, ref.low_slope, ref.high_slope), abs=1e-12
            )


@pytest.mark.parametrize("ties", [False, True])
def test_mann_kendall_matches_kendalltau_and_reference(ties):
    y = series(2, 40, 15, ties)
    t = np.arange(15.0)
    plain = trends(y, t, continuity=False)
    corrected = trends(y, t, continuity=True)
    for p in range(y.shape[1]):
        tau = ss.kendalltau(t, y[:, p], method="asymptotic")
        assert plain.mk_p[p] == pytest.approx(tau.pvalue, rel=1e-9)
        s, z, pv = reference_mk(y[:, p])
        assert corrected.mk_s[p] == s
        assert corrected.mk_z[p] == pytest.approx(z, rel=1e-12)
        assert corrected.mk_p[p] == pytest.approx(pv, rel=1e-9, abs=1e-15)


def test_ols_matches_polyfit():
    y = series(3, 20, 12, False)
    t = np.linspace(2000, 2030, 12)
    r = trends(y, t)
    ref = np.polyfit(t, y, 1)[0]
    np.testing.assert_allclose(r.ols_slope, ref, rtol=1e-9)


def test_nan_aware_with_minimum_count():
    y = series(4, 3, 10, False)
    t = np.arange(10.0)
    y[[1, 4, 7], 0] = np.nan
    y[3:, 1] = np.nan  # only 3 valid
    y[2:, 2] = np.nan  # only 2 valid
    r = trends(y, t, min_count=3)
    keep = ~np.isnan(y[:, 0])
    ref = ss.theilslopes(y[keep, 0], t[keep])
    assert r.sen_slope[0] == pytest.approx(ref.slope)
    assert r.n_valid.tolist() == [7, 3, 2]
    assert np.isfinite(r.sen_slope[1]) and np.isnan(r.sen_slope[2]) and np.isnan(r.mk_p[2])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n_t=st.integers(3, 20))
def test_permuting_epochs_changes_nothing_and_reversal_flips_sign(seed, n_t):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n_t, 5))
    t = np.arange(n_t, dtype=float)
    perm = rng.permutation(n_t)
    a = trends(y, t)
    b = trends(y[perm], t[perm])  # same (time, value) pairs, shuffled
    np.testing.assert_array_equal(a.sen_slope, b.sen_slope)
    np.testing.assert_array_equal(a.mk_p, b.mk_p)
    rev = trends(y[::-1], t)  # the series played backwards
    np.testing.assert_allclose(rev.sen_slope, -a.sen_slope, atol=1e-12)


def test_wrapper_numpy_equals_dask():
    y = series(5, 12 * 7, 10, False).reshape(10, 12, 7)
    coords = {"epoch": np.arange(2015, 2025)}
    eager = kx.trends(xr.DataArray(y, dims=("epoch", "y", "x"), coords=coords))
    lazy = kx.trends(
        xr.DataArray(da.from_array(y, chunks=(3, 5, 4)), dims=("epoch", "y", "x"), coords=coords)
    )
    for name in eager.data_vars:
        np.testing.assert_array_equal(eager[name].values, lazy[name].compute().values)


def test_bad_times():
    with pytest.raises(KernelInputError, match="distinct finite epochs"):
        trends(np.ones((3, 2)), [2000, 2000, 2001])
    with pytest.raises(KernelInputError, match="one time per epoch"):
        trends(np.ones((3, 2)), [2000, 2001])
