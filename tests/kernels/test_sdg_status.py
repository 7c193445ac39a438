"""SDG 15.3.1 reference checks added with the job (#20): every cell of the status matrix (a
reporting period against the baseline), the trajectory against scipy's Theil-Sen slope, and the
productivity split into per-tile statistics equal to the whole-grid kernel."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.stats as ss

from kernels.errors import KernelInputError
from kernels.sdg import status
from kernels.sdg_productivity import classify, performance_ratio, period_statistics, productivity

ND = -128
# (baseline, reporting) -> expanded status, written from the names of the GPG v2 status matrix
# (Trends.Earth sdg_status_expanded): 1 persistent degradation, 2 recent degradation, 3 baseline
# degradation, 4 stable, 5 baseline improvement, 6 recent improvement, 7 persistent improvement.
NAMED = {
    (-1, -1): 1,  # degraded then degraded: persistent degradation
    (0, -1): 2,  # stable then degraded: recent degradation
    (1, -1): 2,  # improved then degraded: recent degradation
    (-1, 0): 3,  # degraded then stable: still degraded (baseline degradation)
    (0, 0): 4,
    (1, 0): 5,  # improved then stable: baseline improvement
    (-1, 1): 6,  # degraded then improved: recent improvement
    (0, 1): 6,
    (1, 1): 7,
}
SIMPLE = {1: -1, 2: -1, 3: -1, 4: 0, 5: 1, 6: 1, 7: 1}


def test_every_cell_of_the_status_matrix_and_missing() -> None:
    pairs = list(itertools.product((-1, 0, 1, ND), repeat=2))
    b, r = (np.array(v, dtype=np.int8) for v in zip(*pairs, strict=True))
    expanded = status(b, r, expanded=True).tolist()
    simple = status(b, r).tolist()
    for (pb, pr), e, s in zip(pairs, expanded, simple, strict=True):
        if ND in (pb, pr):
            assert (e, s) == (0, ND), (pb, pr)
        else:
            assert e == NAMED[(pb, pr)] and s == SIMPLE[e], (pb, pr)


def test_status_bad_input_names_the_argument() -> None:
    with pytest.raises(KernelInputError, match=r"^reporting: expected"):
        status(np.zeros(2, np.int8), np.zeros(3, np.int8))
    with pytest.raises(KernelInputError, match=r"^baseline: expected"):
        status(np.full(2, 3), np.zeros(2, np.int8))


def test_significant_trajectory_has_the_sign_of_scipys_theil_sen_slope() -> None:
    rng = np.random.default_rng(20)
    years = np.arange(2001, 2017)
    n = 400
    slopes = rng.normal(0, 0.03, n)
    series = 1.0 + slopes[None, :] * (years - years[0])[:, None] + rng.normal(0, 0.1, (years.size, n))
    res = productivity(series.reshape(years.size, 20, 20), years, np.zeros((20, 20), np.int32))
    traj = res.trajectory.reshape(-1)
    checked = 0
    for j in range(n):
        ts = ss.theilslopes(series[:, j], years).slope
        if traj[j] != 0:
            assert np.sign(ts) == traj[j], j
            checked += 1
        z = res.trajectory_z.reshape(-1)[j]
        tau = ss.kendalltau(years, series[:, j])
        assert np.sign(z) == np.sign(tau.statistic) or z == 0  # same direction as Kendall's tau
    assert checked > 100  # most series are significant either way


def test_tile_statistics_then_whole_grid_classes_equal_the_kernel() -> None:
    rng = np.random.default_rng(3)
    years = np.arange(2010, 2020)
    ndvi = rng.gamma(5.0, 1.0, (years.size, 12, 10))
    ndvi[rng.random(ndvi.shape) < 0.05] = np.nan
    units = rng.integers(0, 3, (12, 10)).astype(np.int32)
    window = (2011, 2019)
    whole = productivity(
        ndvi, years, units, trajectory_period=window, state_period=window, performance_period=window
    )
    stats = np.empty((3, 12, 10))
    for r0, c0 in itertools.product((0, 5), (0, 4)):  # four uneven tiles
        r1, c1 = (12 if r0 else 5), (10 if c0 else 4)
        s = period_statistics(
            ndvi[:, r0:r1, c0:c1],
            years,
            trajectory_period=window,
            state_period=window,
            performance_period=window,
        )
        for k in range(3):
            stats[k, r0:r1, c0:c1] = s[k]
    ratio = performance_ratio(stats[1], units).reshape(12, 10)
    split = classify(stats[2], stats[0], ratio)
    for name in ("trajectory", "state", "performance", "productivity"):
        np.testing.assert_array_equal(getattr(split, name), getattr(whole, name), err_msg=name)
    np.testing.assert_array_equal(split.trajectory_z, whole.trajectory_z)
