"""SDG 15.3.1 land productivity: hand-built cases for every lookup row, and the trajectory,
state and performance statistics against plain-Python / scipy / numpy references.

The lookup rows are typed here in SEPAL's own coding (sepal-contrib/sdg_15.3.1 @ 6131daa3,
component/scripts/productivity.py, productivity_final / productivity_final_GPG1: trajectory and
state 1 degraded / 2 stable / 3 improved, performance 1 degraded / 2 not degraded, result
1 / 2 / 3), a different notation from the kernel's table.
"""

from __future__ import annotations

import itertools
import math
import statistics
import warnings
from typing import Any

import numpy as np
import pytest
import scipy.stats as ss

from kernels.errors import KernelInputError
from kernels.sdg_productivity import _levels, lookup_productivity, performance_ratio, productivity

ND = -128

# (trajectory, state, performance) -> result, SEPAL's 18 rows in SEPAL's order and codes.
GPG2_ROWS = [
    (1, 1, 1, 1),
    (1, 1, 2, 1),
    (1, 2, 1, 1),
    (1, 2, 2, 2),
    (1, 3, 1, 1),
    (1, 3, 2, 1),
    (2, 1, 1, 1),
    (2, 1, 2, 2),
    (2, 2, 1, 1),
    (2, 2, 2, 2),
    (2, 3, 1, 2),
    (2, 3, 2, 2),
    (3, 1, 1, 1),
    (3, 1, 2, 3),
    (3, 2, 1, 3),
    (3, 2, 2, 3),
    (3, 3, 1, 3),
    (3, 3, 2, 3),
]
GPG1_ROWS = [
    (1, 1, 1, 1),
    (1, 1, 2, 1),
    (1, 2, 1, 1),
    (1, 2, 2, 1),
    (1, 3, 1, 1),
    (1, 3, 2, 1),
    (2, 1, 1, 1),
    (2, 1, 2, 2),
    (2, 2, 1, 2),
    (2, 2, 2, 2),
    (2, 3, 1, 2),
    (2, 3, 2, 2),
    (3, 1, 1, 1),
    (3, 1, 2, 3),
    (3, 2, 1, 3),
    (3, 2, 2, 3),
    (3, 3, 1, 3),
    (3, 3, 2, 3),
]
S3 = {1: -1, 2: 0, 3: 1}  # SEPAL three-class code -> -1/0/+1
SP = {1: -1, 2: 0}  # SEPAL performance code -> -1/0


# --- hand-built NDVI series, one pixel per lookup row ------------------------------------------
# Years 2000-2021: trajectory period 2000-2009, state period 2010-2019 (earlier 2010-2016, recent
# 2017-2019), performance period 2020-2021: each sub-indicator is set by its own years.
YEARS = np.arange(2000, 2022)
PERIODS: dict[str, Any] = {
    "trajectory_period": (2000, 2009),
    "state_period": (2010, 2019),
    "performance_period": (2020, 2021),
}
TRAJ = {
    1: [1.9 - 0.1 * k for k in range(10)],  # strictly decreasing: S = -45
    2: [1.0, 2.0] * 5,  # S = 5 with ties
    3: [1.0 + 0.1 * k for k in range(10)],  # strictly increasing
}
EARLIER = [1.0, 1.1, 0.9, 1.0, 1.1, 0.9, 1.0]
STATE = {1: EARLIER + [0.8] * 3, 2: EARLIER + [1.0] * 3, 3: EARLIER + [1.2] * 3}
PERF = {1: [0.3, 0.3], 2: [1.0, 1.0]}


def reference_mk_z(y: list[float]) -> float:
    """Mann-Kendall Z = S / sqrt(Var S), tie-corrected, no continuity correction (pure Python)."""
    n = len(y)
    s = sum((y[j] > y[i]) - (y[j] < y[i]) for i in range(n) for j in range(i + 1, n))
    counts: dict[float, int] = {}
    for v in y:
        counts[v] = counts.get(v, 0) + 1
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in counts.values())) / 18
    return s / math.sqrt(var)


def reference_state_z(earlier: list[float], recent: list[float]) -> float:
    mu = statistics.fmean(earlier)
    sigma = statistics.pstdev(earlier)
    return (statistics.fmean(recent) - mu) / (sigma / math.sqrt(len(recent)))


def lookup_cube() -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
    combos = list(itertools.product((1, 2, 3), (1, 2, 3), (1, 2)))
    n_help = 30  # performance reference pixels of the same land unit (mean 1.0)
    cube = np.empty((YEARS.size, len(combos) + n_help))
    for i, (t, s, p) in enumerate(combos):
        cube[:, i] = TRAJ[t] + STATE[s] + PERF[p]
    cube[:, len(combos) :] = np.array(TRAJ[2] + STATE[2] + PERF[2])[:, None]
    return cube.reshape(YEARS.size, 1, -1), np.zeros((1, cube.shape[1]), np.int16), combos


def test_hand_built_series_have_the_intended_classes():
    # The references say which class each hand-built series must fall in (thresholds +-1.96).
    assert reference_mk_z(TRAJ[1]) < -1.96 and reference_mk_z(TRAJ[3]) > 1.96
    assert abs(reference_mk_z(TRAJ[2])) < 1.28
    assert reference_state_z(EARLIER, [0.8] * 3) < -1.96 < reference_state_z(EARLIER, [1.0] * 3) < 1.96
    assert reference_state_z(EARLIER, [1.2] * 3) > 1.96
    cube, units, combos = lookup_cube()
    r = productivity(cube, YEARS, units, **PERIODS)
    n = len(combos)
    assert r.trajectory[0, :n].tolist() == [S3[t] for t, _, _ in combos]
    assert r.state[0, :n].tolist() == [S3[s] for _, s, _ in combos]
    assert r.performance[0, :n].tolist() == [SP[p] for _, _, p in combos]


@pytest.mark.parametrize(("name", "rows"), [("gpg2", GPG2_ROWS), ("gpg1", GPG1_ROWS)])
def test_every_row_of_the_lookup_end_to_end(name, rows):
    cube, units, combos = lookup_cube()
    r = productivity(cube, YEARS, units, lookup=name, **PERIODS)
    expected = {(t, s, p): S3[out] for t, s, p, out in rows}
    assert len(expected) == 18 == len(combos)
    got = r.productivity[0, : len(combos)].tolist()
    assert got == [expected[c] for c in combos]


@pytest.mark.parametrize(("name", "rows"), [("gpg2", GPG2_ROWS), ("gpg1", GPG1_ROWS)])
def test_every_row_of_the_lookup_on_classes(name, rows):
    t, s, p, out = (np.array(v) for v in zip(*rows, strict=True))
    got = lookup_productivity(
        np.vectorize(S3.get)(t).astype(np.int8),
        np.vectorize(S3.get)(s).astype(np.int8),
        np.vectorize(SP.get)(p).astype(np.int8),
        lookup=name,
    )
    assert got.tolist() == [S3[o] for o in out]
    # any missing input -> missing
    miss = lookup_productivity(np.array([ND, 0, 0]), np.array([0, ND, 0]), np.array([0, 0, ND]))
    assert miss.tolist() == [ND, ND, ND]


def test_custom_lookup_table_is_used():
    table = np.zeros((3, 3, 2), dtype=int)
    table[2, 2, 1] = 1
    got = lookup_productivity(np.array([1, 1]), np.array([1, 0]), np.array([0, 0]), lookup=table)
    assert got.tolist() == [1, 0]


@pytest.mark.parametrize("ties", [False, True])
def test_trajectory_z_against_reference_mann_kendall_and_kendalltau(ties):
    rng = np.random.default_rng(7)
    years = np.arange(2001, 2017)
    y = rng.normal(1.0, 0.2, (years.size, 60)) + 0.02 * np.arange(years.size)[:, None] * rng.normal(size=60)
    if ties:
        y = np.round(y, 1)
    y[3, 5] = np.nan  # a missing year: that pixel's series is one year shorter
    r = productivity(y.reshape(years.size, 6, 10), years, np.zeros((6, 10), np.int64))
    z = r.trajectory_z.reshape(-1)
    for p in range(60):
        keep = ~np.isnan(y[:, p])
        ref = reference_mk_z(y[keep, p].tolist())
        assert z[p] == pytest.approx(ref, rel=1e-12, abs=1e-12)
        pv = ss.kendalltau(years[keep], y[keep, p], method="asymptotic").pvalue
        assert math.erfc(abs(z[p]) / math.sqrt(2)) == pytest.approx(pv, rel=1e-9)
    if ties:  # the rounded series really hold tied values
        assert sum(len(np.unique(col)) < years.size for col in y.T) > 30


def test_state_z_against_reference():
    rng = np.random.default_rng(3)
    years = np.arange(2005, 2020)
    y = rng.normal(1.0, 0.1, (years.size, 40))
    y[-1, 0] = np.nan  # one recent year missing -> 2 recent years
    y[2, 1] = np.nan  # one earlier year missing
    y[:, 2] = 1.0  # no spread -> missing
    r = productivity(
        y.reshape(years.size, 4, 10), years, np.zeros((4, 10), np.int8), state_period=(2008, 2019)
    )
    sz = r.state_z.reshape(-1)
    earlier = (years >= 2008) & (years <= 2016)
    recent = (years >= 2017) & (years <= 2019)
    for p in range(40):
        if p == 2:
            assert np.isnan(sz[p]) and r.state.reshape(-1)[p] == ND and r.productivity.reshape(-1)[p] == ND
            continue
        e = [v for v in y[earlier, p] if not np.isnan(v)]
        c = [v for v in y[recent, p] if not np.isnan(v)]
        assert sz[p] == pytest.approx(reference_state_z(e, c), rel=1e-10)


def test_performance_ratio_against_numpy_percentile_per_unit():
    rng = np.random.default_rng(11)
    years = np.arange(2000, 2010)
    y = rng.gamma(4.0, 0.2, (years.size, 500))
    y[:, 7] = np.nan  # no valid year -> missing
    y[2:, 8] = np.nan  # partly valid
    units = rng.integers(-1, 5, 500).astype(np.int32)
    r = productivity(y, years, units, performance_period=(2003, 2008))
    sel = (years >= 2003) & (years <= 2008)
    with warnings.catch_warnings():  # pixel 7 has no valid year: its mean is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(np.where(sel[:, None], y, np.nan), axis=0)
    for u in np.unique(units):
        m = units == u
        p90 = np.percentile(mean[m][np.isfinite(mean[m])], 90)
        np.testing.assert_allclose(r.performance_ratio[m], mean[m] / p90, rtol=1e-12)
    assert np.isnan(r.performance_ratio[7]) and r.performance[7] == ND
    ratio = r.performance_ratio
    assert (r.performance[np.isfinite(ratio)] == np.where(ratio[np.isfinite(ratio)] <= 0.5, -1, 0)).all()


def test_performance_cut_exactly_half_is_degraded():
    mean = np.array([0.5, 0.5000001, 0.4999999] + [1.0] * 20)
    ratio = performance_ratio(mean, np.zeros(mean.size, np.int64))
    assert ratio[:3].tolist() == [0.5, 0.5000001, 0.4999999]
    years = np.arange(2000, 2005)
    cube = np.tile(mean, (years.size, 1))  # every year equal: the performance mean is `mean`
    r = productivity(cube, years, np.zeros(mean.size, np.int64))
    assert r.performance[:3].tolist() == [-1, 0, -1]


def test_percentile_at_or_below_zero_gives_missing():
    ratio = performance_ratio(np.array([-0.2, -0.1, 0.0, 0.3]), np.array([1, 1, 2, 2]))
    assert np.isnan(ratio[:2]).all() and ratio[2:].tolist() == pytest.approx([0.0, 0.3 / (0.9 * 0.3)])


def test_thresholds_of_the_three_and_five_levels():
    cases = {
        -3.0: (-1, -2),
        -1.96: (0, -1),
        -1.5: (0, -1),
        -1.28: (0, 0),
        0.0: (0, 0),
        1.28: (0, 0),
        1.5: (0, 1),
        1.96: (0, 1),
        1.9600001: (1, 2),
        -1.9600001: (-1, -2),
    }
    for z, want in cases.items():
        assert _levels(z, 1.96, 1.28) == want, z
    assert _levels(float("nan"), 1.96, 1.28) == (ND, ND)


def test_all_missing_pixel_is_missing_everywhere():
    years = np.arange(2000, 2012)
    y = np.random.default_rng(0).normal(1, 0.1, (years.size, 2, 3))
    y[:, 0, 0] = np.nan
    r = productivity(y, years, np.zeros((2, 3), np.uint8))
    for arr in (r.trajectory, r.trajectory5, r.state, r.state5, r.performance, r.productivity):
        assert arr[0, 0] == ND and arr.dtype == np.int8
    assert (r.productivity[r.productivity != ND] != ND).all() and r.productivity.shape == (2, 3)


YEARS10 = np.arange(2000, 2010)
CUBE = np.ones((10, 2, 2))
UNITS = np.zeros((2, 2), np.int32)


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"ndvi": np.ones(10)}, "ndvi"),
        ({"ndvi": np.array([["a"]])}, "ndvi"),
        ({"ndvi": np.where(np.eye(10)[:, :4].reshape(10, 2, 2) > 0, np.inf, 1.0)}, "ndvi"),
        ({"years": np.arange(9)}, "years"),
        ({"years": YEARS10[::-1]}, "years"),
        ({"years": YEARS10 + 0.5}, "years"),
        ({"land_unit": np.zeros((2, 3), np.int32)}, "land_unit"),
        ({"land_unit": np.zeros((2, 2))}, "land_unit"),
        ({"trajectory_period": (2005, 2001)}, "trajectory_period"),
        ({"trajectory_period": (2008, 2009)}, "trajectory_period"),
        ({"state_period": (2006, 2009)}, "state_period"),
        ({"state_period": "2000"}, "state_period"),
        ({"performance_period": (1990, 1995)}, "performance_period"),
        ({"lookup": "gpg3"}, "lookup"),
        ({"lookup": np.zeros((3, 3))}, "lookup"),
        ({"min_years": 2}, "min_years"),
    ],
)
def test_productivity_bad_input_names_the_argument(kwargs, arg):
    args = {"ndvi": CUBE, "years": YEARS10, "land_unit": UNITS} | kwargs
    with pytest.raises(KernelInputError, match=rf"^{arg}: expected"):
        productivity(**args)


@pytest.mark.parametrize(
    ("args", "arg"),
    [
        ((np.zeros(2, np.int8), np.zeros(3, np.int8), np.zeros(2, np.int8)), "state"),
        ((np.zeros(2, np.int8), np.zeros(2, np.int8), np.ones(2, np.int8)), "performance"),
        ((np.zeros(2), np.zeros(2, np.int8), np.zeros(2, np.int8)), "trajectory"),
    ],
)
def test_lookup_bad_input_names_the_argument(args, arg):
    with pytest.raises(KernelInputError, match=rf"^{arg}: expected"):
        lookup_productivity(*args)
