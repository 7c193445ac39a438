"""The Mann-Kendall-only kernel (``kernels.trend.mann_kendall``) and the SDG productivity pass that
uses it give, to the bit, the Mann-Kendall statistics of ``kernels.trend.trends``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss

from kernels.errors import KernelInputError
from kernels.sdg_productivity import productivity
from kernels.trend import mann_kendall, trends


def cube(seed: int, shape: tuple[int, ...], nan_share: float = 0.15) -> np.ndarray:
    """Random series with a trend, many ties (one decimal) and missing epochs."""
    rng = np.random.default_rng(seed)
    n_t = shape[0]
    y = rng.normal(0, 1, shape) + 0.1 * np.arange(n_t).reshape((n_t,) + (1,) * (len(shape) - 1))
    y = np.round(y, 1)
    y[rng.random(shape) < nan_share] = np.nan
    return y


@pytest.mark.parametrize("continuity", [True, False])
@pytest.mark.parametrize("min_count", [2, 3, 8])
def test_equals_the_trends_statistics_exactly(continuity: bool, min_count: int) -> None:
    y = cube(7, (14, 30, 25))
    y[:, 0, 0] = 1.5  # constant: Var(S) = 0 -> Z NaN
    y[:-2, 0, 1] = np.nan  # two valid epochs
    y[:, 0, 2] = np.nan  # none
    t = np.arange(2001, 2015, dtype=float)
    ref = trends(y, t, min_count=min_count, continuity=continuity)
    mk = mann_kendall(y, t, min_count=min_count, continuity=continuity)
    assert mk.z.shape == (30, 25)
    np.testing.assert_array_equal(mk.z, ref.mk_z)
    np.testing.assert_array_equal(mk.s, ref.mk_s)
    np.testing.assert_array_equal(mk.p, ref.mk_p)
    np.testing.assert_array_equal(mk.n_valid, ref.n_valid)
    assert np.isnan(mk.z[0, 0]) and mk.s[0, 0] == 0.0
    assert np.isfinite(mk.z).sum() > 500  # most pixels have a finite Z: the comparison is not vacuous


def test_unsorted_times_are_sorted_with_the_values() -> None:
    y = cube(8, (10, 40))
    t = np.arange(10.0)
    perm = np.random.default_rng(1).permutation(10)
    np.testing.assert_array_equal(mann_kendall(y[perm], t[perm]).z, mann_kendall(y, t).z)
    np.testing.assert_array_equal(mann_kendall(y[perm], t[perm]).z, trends(y, t).mk_z)


def test_p_agrees_with_kendalltau_without_continuity() -> None:
    y = cube(9, (15, 40), nan_share=0.0)
    t = np.arange(15.0)
    mk = mann_kendall(y, t, continuity=False)
    for p in range(y.shape[1]):
        tau = ss.kendalltau(t, y[:, p], method="asymptotic")
        assert mk.p[p] == pytest.approx(tau.pvalue, rel=1e-9)


def test_bad_input_is_refused_as_by_trends() -> None:
    with pytest.raises(KernelInputError, match="distinct finite epochs"):
        mann_kendall(np.ones((3, 2)), [2000, 2000, 2001])
    with pytest.raises(KernelInputError, match="one time per epoch"):
        mann_kendall(np.ones((3, 2)), [2000, 2001])
    with pytest.raises(KernelInputError, match="min_count"):
        mann_kendall(np.ones((3, 2)), [2000, 2001, 2002], min_count=1)


@pytest.mark.parametrize("min_years", [3, 9])
def test_sdg_trajectory_z_is_the_trends_z(min_years: int) -> None:
    """The fused SDG pass (state, performance and trajectory at once) gives the trajectory z of
    ``trends(..., continuity=False)`` over the trajectory years, NaN where too few are valid."""
    ndvi = cube(10, (16, 20, 30), nan_share=0.3)
    years = np.arange(2005, 2021)
    ndvi[3:15, 0, :5] = np.nan  # trajectory years 2007-2019: only 2005, 2006 (outside) + 2019 left
    ndvi[2:7, 1, :5] = np.nan  # 8 of 13 trajectory years at most
    land = np.zeros((20, 30), dtype=np.int32)
    r = productivity(ndvi, years, land, trajectory_period=(2007, 2019), min_years=min_years)
    sel = (years >= 2007) & (years <= 2019)
    want = trends(ndvi[sel], years[sel], min_count=min_years, continuity=False).mk_z
    np.testing.assert_array_equal(r.trajectory_z, want)
    assert np.isfinite(want).sum() > 100
    assert np.isnan(want[0, :5]).all() and (np.isnan(want[1, :5]).all() == (min_years == 9))
