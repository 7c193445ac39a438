"""Monthly signals: hand-computed cases and a plain numpy reference written from the definitions."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.errors import KernelInputError
from kernels.monthly import BARE_NDVI, climatology, month_index, signals


def cube(values: list[float]) -> np.ndarray:
    """A 1 x 1 pixel series."""
    return np.asarray(values, dtype=np.float32)[:, None, None]


def months_from(year: int, month: int, n: int) -> np.ndarray:
    return np.arange(n) + month_index(year, month)


def test_anomaly_by_hand():
    # January of 2001..2003 = 0.2, 0.4, 0.6: mean 0.4, sample std 0.2; January 2004 = 0.7
    v = np.full((48, 1, 1), np.nan, dtype=np.float32)
    v[[0, 12, 24, 36], 0, 0] = [0.2, 0.4, 0.6, 0.7]
    mi = months_from(2001, 1, 48)
    clim = climatology(v, mi, 2001, 2003)
    assert clim.n_values[0, 0, 0] == 3 and clim.n_values[1, 0, 0] == 0
    assert clim.mean[0, 0, 0] == pytest.approx(0.4, abs=1e-7)
    assert clim.std[0, 0, 0] == pytest.approx(0.2, abs=1e-7)
    out = signals(v, mi, [36, 37], clim.mean, clim.std)
    assert out.anomaly[0, 0, 0] == pytest.approx((0.7 - 0.4) / 0.2, rel=1e-5)
    assert np.isnan(out.anomaly[1, 0, 0])  # February: no value at all


def test_anomaly_missing_with_one_value_or_zero_std():
    v = np.full((36, 1, 2), np.nan, dtype=np.float32)
    v[0, 0, 0] = 0.5  # one baseline January only
    v[[0, 12], 0, 1] = 0.5  # two equal Januaries: std 0
    v[24] = 0.6
    mi = months_from(2001, 1, 36)
    clim = climatology(v, mi, 2001, 2002)
    assert np.isnan(clim.std[0, 0, 0]) and clim.mean[0, 0, 0] == np.float32(0.5)
    assert clim.std[0, 0, 1] == 0
    z = signals(v, mi, [24], clim.mean, clim.std).anomaly
    assert np.isnan(z).all()


def test_baseline_years_only():
    v = cube([0.1] + [np.nan] * 11 + [0.3] + [np.nan] * 11 + [0.9])
    mi = months_from(2001, 1, 25)
    clim = climatology(v, mi, 2001, 2002)  # 2003's 0.9 is outside the baseline
    assert clim.mean[0, 0, 0] == pytest.approx(0.2, abs=1e-7)


def test_bare_frequency_by_hand():
    # 14 months; the window of the last (index 13) is months 2..13: below 0.2 are 0.1, 0.15 and
    # 0.05 among 11 valid months (one NaN); month 0's 0.0 is outside the window.
    vals = [0.0, 0.5, 0.1, 0.6, 0.15, np.nan, 0.7, 0.8, 0.05, 0.6, 0.5, 0.4, 0.3, 0.2]
    v = cube(vals)
    mi = months_from(2001, 1, 14)
    zero = np.zeros((12, 1, 1), dtype=np.float32)
    out = signals(v, mi, [13, 0, 5], zero, zero)
    assert out.bare_frequency[0, 0, 0] == pytest.approx(3 / 11)  # 0.2 itself is not bare
    assert out.bare_frequency[1, 0, 0] == 1.0  # the first month: its window holds one month
    assert out.bare_frequency[2, 0, 0] == pytest.approx(3 / 5)


def test_bare_frequency_counts_gaps_as_missing():
    v = cube([0.1, 0.1, 0.9])
    mi = np.array([month_index(2001, 1), month_index(2001, 2), month_index(2002, 1)])
    zero = np.zeros((12, 1, 1), dtype=np.float32)
    out = signals(v, mi, [2], zero, zero)
    # Jan 2001 is 12 months before Jan 2002: outside; Feb 2001 is the window's first month
    assert out.bare_frequency[0, 0, 0] == pytest.approx(1 / 2)


def test_cumulative_ratio_by_hand():
    # baseline 2001-2002; 2003 Jan..Mar = 0.3, 0.4, 0.5
    base1 = [0.2, 0.3, 0.4] + [0.5] * 9
    base2 = [0.4, 0.3, 0.6] + [0.5] * 9
    v = cube(base1 + base2 + [0.3, 0.4, 0.5])
    mi = months_from(2001, 1, 27)
    clim = climatology(v, mi, 2001, 2002)
    out = signals(v, mi, [24, 26], clim.mean, clim.std)
    # March: current 1.2; baseline means 0.3 + 0.3 + 0.5 = 1.1
    assert out.cumulative[1, 0, 0] == pytest.approx(1.2, rel=1e-6)
    assert out.cumulative_baseline[1, 0, 0] == pytest.approx(1.1, rel=1e-6)
    assert out.productivity_ratio[1, 0, 0] == pytest.approx(1.2 / 1.1, rel=1e-6)
    assert out.productivity_ratio[0, 0, 0] == pytest.approx(0.3 / 0.3, rel=1e-6)


def test_cumulative_missing_when_a_month_is_missing_or_baseline_not_positive():
    v = cube([0.2, 0.2, -0.1, -0.1, np.nan, 0.3])
    mi = np.array(
        [month_index(y, m) for y, m in ((2001, 1), (2001, 2), (2002, 1), (2002, 2))]
        + [
            month_index(2003, 1),
            month_index(2003, 2),
        ]
    )
    clim = climatology(v, mi, 2001, 2002)  # Jan mean 0.05, Feb mean 0.05
    out = signals(v, mi, [5], clim.mean, clim.std)
    assert np.isnan(out.cumulative[0, 0, 0]) and np.isnan(out.productivity_ratio[0, 0, 0])
    c = climatology(cube([-0.2, 0.1]), np.array([month_index(2001, 1), month_index(2002, 1)]), 2001, 2002)
    out2 = signals(cube([0.3]), np.array([month_index(2003, 1)]), [0], c.mean, c.std)
    assert c.mean[0, 0, 0] < 0 and np.isnan(out2.productivity_ratio[0, 0, 0])
    assert out2.cumulative[0, 0, 0] == pytest.approx(0.3)


def reference(v: np.ndarray, mi: np.ndarray, start: int, end: int, thr: float) -> dict[str, np.ndarray]:
    """Every signal of every month from the module docstring's definitions, in numpy."""
    nt = v.shape[0]
    years, cal = mi // 12, mi % 12
    base = (years >= start) & (years <= end)
    mean = np.full((12, *v.shape[1:]), np.nan)
    std = np.full((12, *v.shape[1:]), np.nan)
    for m in range(12):
        sel = v[base & (cal == m)].astype(np.float64)
        n = np.sum(~np.isnan(sel), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[m] = np.where(n > 0, np.nansum(sel, axis=0) / np.maximum(n, 1), np.nan)
            dev = np.nansum((sel - mean[m]) ** 2, axis=0)
            std[m] = np.where(n >= 2, np.sqrt(dev / np.maximum(n - 1, 1)), np.nan)
    mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
    out = {k: np.full(v.shape, np.nan) for k in ("z", "bare", "ratio")}
    for t in range(nt):
        m = cal[t]
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (v[t].astype(np.float64) - mean32[m]) / std32[m].astype(np.float64)
        out["z"][t] = np.where((std32[m] > 0) & np.isfinite(z), z, np.nan)
        win = v[(mi > mi[t] - 12) & (mi <= mi[t])]
        valid = np.sum(~np.isnan(win), axis=0)
        low = np.sum(win < thr, axis=0)
        out["bare"][t] = np.where(valid > 0, low / np.maximum(valid, 1), np.nan)
        cur_sel = v[(years == years[t]) & (cal <= m)].astype(np.float64)
        complete = (cur_sel.shape[0] == m + 1) & np.all(~np.isnan(cur_sel), axis=0)
        cur = np.where(complete, np.sum(cur_sel, axis=0), np.nan)
        b = np.sum(mean32[: m + 1].astype(np.float64), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["ratio"][t] = np.where(np.isfinite(cur) & (b > 0), cur / b, np.nan)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_numpy_reference(seed):
    rng = np.random.default_rng(seed)
    nt = 40
    v = rng.uniform(-0.1, 0.9, (nt, 7, 9)).astype(np.float32)
    v[rng.random(v.shape) < 0.1] = np.nan
    v = np.round(v, 2)  # ties, exact zeros of std on some pixels
    mi = months_from(2010, 3, nt)
    mi = np.delete(mi, [5, 17])  # gaps in the series
    v = np.delete(v, [5, 17], axis=0)
    clim = climatology(v, mi, 2010, 2011)
    out = signals(v, mi, np.arange(v.shape[0]), clim.mean, clim.std, BARE_NDVI)
    ref = reference(v, mi, 2010, 2011, BARE_NDVI)
    np.testing.assert_allclose(out.anomaly, ref["z"], rtol=2e-5, atol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(out.bare_frequency, ref["bare"].astype(np.float32))
    np.testing.assert_allclose(out.productivity_ratio, ref["ratio"], rtol=1e-6, equal_nan=True)
    assert np.isfinite(out.anomaly).mean() > 0.5  # the comparison is not all NaN


def test_a_subset_of_targets_equals_the_whole_run():
    """What the incremental job relies on: one month from a short tail of the series equals
    that month computed with the whole series."""
    rng = np.random.default_rng(5)
    v = rng.uniform(0, 0.8, (30, 4, 5)).astype(np.float32)
    mi = months_from(2001, 1, 30)
    clim = climatology(v, mi, 2001, 2002)
    whole = signals(v, mi, np.arange(30), clim.mean, clim.std)
    tail = signals(v[-12:], mi[-12:], [11], clim.mean, clim.std)
    for a, b in zip(whole, tail, strict=True):
        np.testing.assert_array_equal(a[-1], b[0])


def test_bad_input_is_named():
    with pytest.raises(KernelInputError, match="ndvi"):
        climatology(np.zeros((3, 3)), [1, 2, 3], 2001, 2001)
    with pytest.raises(KernelInputError, match="increasing"):
        climatology(np.zeros((2, 1, 1), dtype=np.float32), [5, 5], 0, 1)
    with pytest.raises(KernelInputError, match="targets"):
        z = np.zeros((12, 1, 1), dtype=np.float32)
        signals(np.zeros((2, 1, 1), dtype=np.float32), [1, 2], [2], z, z)
    with pytest.raises(KernelInputError, match="climatology"):
        signals(
            np.zeros((2, 1, 1), dtype=np.float32), [1, 2], [1], np.zeros((12, 2, 1)), np.zeros((12, 2, 1))
        )
