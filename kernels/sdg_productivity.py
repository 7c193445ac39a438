"""SDG 15.3.1 land productivity sub-indicator from an annual NDVI integral series.

Reading: UNCCD Good Practice Guidance v2 (2021) as transcribed by FAO's SEPAL module
``sepal-contrib/sdg_15.3.1`` at commit ``6131daa32b2983b0e6cbf7dd6328ff08eed1e589`` ("S"),
``component/scripts/productivity.py``:

- trajectory (S ``vi_trend`` + ``productivity_trajectory``): the Mann-Kendall z-score of the
  annual series over the trajectory period. S computes ``tau * 3 sqrt(n(n-1)) / sqrt(2(2n+5))``,
  i.e. ``Z = S / sqrt(n(n-1)(2n+5)/18)``, no continuity correction. Here the same z comes from
  ``kernels.trend.mann_kendall_pixel(..., continuity=False)`` (reused, not re-implemented: the
  code of ``kernels.trend.trends`` and ``mann_kendall``, equal to their ``mk_z`` to the bit), whose
  variance also carries the usual tie correction (``- sum t(t-1)(2t+5)``): with no tied values it equals
  S's; with ties it is the textbook Mann-Kendall (and ``scipy.stats.kendalltau``'s asymptotic
  test) rather than S's untied variance. Classes: z < -1.96 degraded, z > 1.96 improved, else
  stable; five levels with +-1.28 (``trajectory5``: -2 z < -1.96, -1 -1.96 <= z < -1.28, 0 in
  [-1.28, 1.28], +1 1.28 < z <= 1.96, +2 z > 1.96), as S's ``where`` chain.
- state (S ``productivity_state``): ``z = (xbar - mu) / (sigma / sqrt(3))`` with ``xbar`` the mean
  of the last 3 years of the state period (``end-2 .. end``), ``mu`` and ``sigma`` the mean and
  *population* standard deviation (GEE ``Reducer.stdDev``; S's docstring divides by n) of the
  earlier years (``start .. end-3``). Same 3- and 5-level classes as the trajectory. NaN years
  are skipped: ``sqrt(3)`` becomes the square root of the valid recent years; fewer than 2 valid
  earlier years, no valid recent year, or ``sigma == 0`` -> missing.
- performance (S ``productivity_performance``): ratio of the pixel's mean over the performance
  period to the 90th percentile of those means over the pixels of its land unit (``land_unit``,
  an int array; every id, negative ones included, is a unit, as S fills gaps with -1). ratio <=
  0.5 -> degraded (-1), else not degraded (0); exactly 0.5 is degraded, as S's ``lte`` overrides
  its ``gte``. The percentile is numpy's linear interpolation (GEE's reducer is approximate).
  FLAG: S replaces a 90th percentile of 0 by 0.001; here a percentile <= 0 gives missing.
- the lookup (S ``productivity_final``, "gpg2"; ``productivity_final_GPG1`` as "gpg1"):
  ``kernels.sdg_tables.PRODUCTIVITY_LOOKUPS``; any missing input -> missing.

Trends.Earth (``trends.earth-algorithms`` at ``35b2b7d7``) reads the guidance differently: the
trajectory is an OLS slope kept only where Kendall's S passes a critical-value table
(``te_algorithms/gee/productivity.py``, 90 % level), the state compares percentile classes of
the two periods (``recode_state``: a change of >= 2 deciles), and the five-class LPD lookup
(``calc_prod5``: declining, early decline, stable but stressed, stable, improving) of the 2017
guidance is collapsed to three classes afterwards (``prod5_to_prod3``).

Cost: state, performance and trajectory come from one numba pass over the NDVI cube (chunked
over pixels, years in memory order): the pass accumulates the period statistics and copies each
pixel's valid trajectory years into a pixel-major buffer of the chunk, then runs the Mann-Kendall
test on each (no Theil-Sen slopes: the trajectory needs only Z).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels.errors import KernelInputError
from kernels.sdg import check_classes
from kernels.sdg_tables import (
    NODATA,
    PERFORMANCE_CUT,
    PERFORMANCE_PERCENTILE,
    PRODUCTIVITY_LOOKUPS,
    STATE_RECENT_YEARS,
    Z_AT_RISK,
    Z_SIGNIFICANT,
)
from kernels.trend import mann_kendall_pixel

F64 = NDArray[np.float64]
I8 = NDArray[np.int8]
Period = tuple[int, int]
_CHUNK = 4096


@dataclass(frozen=True)
class Productivity:
    """Per-pixel productivity results (pixel shape). Classes are int8, ``NODATA`` = -128."""

    trajectory_z: F64
    state_z: F64
    performance_ratio: F64
    trajectory: I8  # -1 / 0 / +1
    trajectory5: I8  # -2 .. +2
    state: I8
    state5: I8
    performance: I8  # -1 degraded / 0 not degraded
    productivity: I8  # the lookup: -1 / 0 / +1


@nb.njit(parallel=True, cache=True, nogil=True)
def _period_stats(y: np.ndarray, role: np.ndarray, min_years: int, out: np.ndarray) -> None:
    # y: (n_t, n_pix); role bits per year: 1 earlier (state), 2 recent (state), 4 performance,
    # 8 trajectory. out rows: 0 state z, 1 performance mean, 2 trajectory z (Mann-Kendall, no
    # continuity correction). One pass, years in memory order per pixel chunk.
    n_t, n_pix = y.shape
    n_traj = 0
    for k in range(n_t):
        if role[k] & 8:
            n_traj += 1
    n_chunks = (n_pix + _CHUNK - 1) // _CHUNK
    for c in nb.prange(n_chunks):
        lo = c * _CHUNK
        hi = min(lo + _CHUNK, n_pix)
        m = hi - lo
        traj = np.empty((m, max(n_traj, 1)))  # each pixel's valid trajectory years, in order
        n_tr = np.zeros(m, dtype=np.int64)
        scratch = np.empty(max(n_traj, 1))
        n_e = np.zeros(m)
        mean_e = np.zeros(m)
        m2_e = np.zeros(m)
        n_r = np.zeros(m)
        sum_r = np.zeros(m)
        n_p = np.zeros(m)
        sum_p = np.zeros(m)
        for k in range(n_t):
            r = role[k]
            if r == 0:
                continue
            for j in range(m):
                v = y[k, lo + j]
                if np.isnan(v):
                    continue
                if r & 1:  # Welford: stable mean and sum of squared deviations
                    n_e[j] += 1.0
                    d = v - mean_e[j]
                    mean_e[j] += d / n_e[j]
                    m2_e[j] += d * (v - mean_e[j])
                if r & 2:
                    n_r[j] += 1.0
                    sum_r[j] += v
                if r & 4:
                    n_p[j] += 1.0
                    sum_p[j] += v
                if r & 8:
                    traj[j, n_tr[j]] = v
                    n_tr[j] += 1
        for j in range(m):
            z = np.nan
            if n_e[j] >= 2.0 and n_r[j] >= 1.0:
                sigma = math.sqrt(m2_e[j] / n_e[j])
                if sigma > 0.0:
                    z = (sum_r[j] / n_r[j] - mean_e[j]) / (sigma / math.sqrt(n_r[j]))
            out[0, lo + j] = z
            out[1, lo + j] = sum_p[j] / n_p[j] if n_p[j] > 0.0 else np.nan
            tz = np.nan
            if n_tr[j] >= min_years and n_tr[j] >= 2:
                tz = mann_kendall_pixel(traj[j], n_tr[j], False, scratch)[2]
            out[2, lo + j] = tz


@nb.njit(cache=True, nogil=True)
def _levels(z: float, sig: float, risk: float) -> tuple[int, int]:
    if np.isnan(z):
        return -128, -128
    three = -1 if z < -sig else (1 if z > sig else 0)
    if z < -sig:
        five = -2
    elif z < -risk:
        five = -1
    elif z <= risk:
        five = 0
    elif z <= sig:
        five = 1
    else:
        five = 2
    return three, five


@nb.njit(parallel=True, cache=True, nogil=True)
def _classify(
    tz: np.ndarray,
    sz: np.ndarray,
    ratio: np.ndarray,
    lookup: np.ndarray,
    sig: float,
    risk: float,
    cut: float,
    out: np.ndarray,
) -> None:
    # out rows: trajectory, trajectory5, state, state5, performance, productivity
    for i in nb.prange(tz.shape[0]):
        t3, t5 = _levels(tz[i], sig, risk)
        s3, s5 = _levels(sz[i], sig, risk)
        r = ratio[i]
        p = -128 if np.isnan(r) else (-1 if r <= cut else 0)
        out[0, i] = t3
        out[1, i] = t5
        out[2, i] = s3
        out[3, i] = s5
        out[4, i] = p
        out[5, i] = -128 if (t3 == -128 or s3 == -128 or p == -128) else lookup[t3 + 1, s3 + 1, p + 1]


@nb.njit(parallel=True, cache=True, nogil=True)
def _lookup(t: np.ndarray, s: np.ndarray, p: np.ndarray, lookup: np.ndarray, out: np.ndarray) -> None:
    for i in nb.prange(t.shape[0]):
        a, b, c = t[i], s[i], p[i]
        out[i] = -128 if (a == -128 or b == -128 or c == -128) else lookup[a + 1, b + 1, c + 1]


def _lookup_table(lookup: str | ArrayLike) -> NDArray[np.int8]:
    if isinstance(lookup, str):
        if lookup not in PRODUCTIVITY_LOOKUPS:
            raise KernelInputError(
                f"lookup: expected one of {sorted(PRODUCTIVITY_LOOKUPS)} or a 3x3x2 array, got {lookup!r}."
            )
        return PRODUCTIVITY_LOOKUPS[lookup]
    table = np.asarray(lookup)
    if table.shape != (3, 3, 2) or not np.isin(table, (-1, 0, 1)).all():
        raise KernelInputError(
            "lookup: expected a 3x3x2 array of -1/0/+1 indexed [trajectory + 1, state + 1, "
            f"performance + 1], got shape {table.shape}."
        )
    return np.ascontiguousarray(table, dtype=np.int8)


def lookup_productivity(
    trajectory: ArrayLike, state: ArrayLike, performance: ArrayLike, *, lookup: str | ArrayLike = "gpg2"
) -> I8:
    """Combine the three classes (int8; performance -1/0) through the lookup table."""
    t = check_classes("trajectory", trajectory, (-1, 0, 1))
    s = check_classes("state", state, (-1, 0, 1))
    p = check_classes("performance", performance, (-1, 0))
    for name, arr in (("state", s), ("performance", p)):
        if arr.shape != t.shape:
            raise KernelInputError(f"{name}: expected the shape of trajectory {t.shape}, got {arr.shape}.")
    out = np.empty(t.size, dtype=np.int8)
    _lookup(t.reshape(-1), s.reshape(-1), p.reshape(-1), _lookup_table(lookup), out)
    return out.reshape(t.shape)


def _years(years: ArrayLike, n_t: int) -> NDArray[np.int64]:
    y = np.asarray(years)
    if y.ndim != 1 or y.size != n_t or y.dtype.kind not in "iuf":
        raise KernelInputError(
            f"years: expected one year per NDVI layer ({n_t} numbers), got {y.shape} of {y.dtype}."
        )
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
        raise KernelInputError(f"years: expected whole years, got {y.tolist()}.")
    yi = y.astype(np.int64)
    if n_t > 1 and not np.all(np.diff(yi) > 0):
        raise KernelInputError(
            f"years: expected strictly increasing years, got {yi.tolist()}. Sort the NDVI layers "
            "by year and aggregate duplicates first."
        )
    return yi


def _period(name: str, period: Period | None, years: NDArray[np.int64]) -> Period:
    if period is None:
        return int(years[0]), int(years[-1])
    try:
        start, end = (int(v) for v in period)
    except (TypeError, ValueError) as exc:
        raise KernelInputError(f"{name}: expected (first year, last year), got {period!r}.") from exc
    if start > end:
        raise KernelInputError(f"{name}: expected first year <= last year, got {period!r}.")
    return start, end


def _ndvi(ndvi: ArrayLike) -> F64:
    arr = np.asarray(ndvi)
    if arr.dtype.kind not in "iuf" or arr.ndim < 2:
        raise KernelInputError(
            f"ndvi: expected a numeric array (years, y, x), got shape {arr.shape} of {arr.dtype}. "
            "Stack the annual NDVI integrals along axis 0."
        )
    y = np.ascontiguousarray(arr, dtype=np.float64)
    if np.isinf(y).any():
        raise KernelInputError(
            f"ndvi: expected finite values or NaN, got {int(np.isinf(y).sum())} infinite. Mask them as NaN."
        )
    return y


def _roles(
    yrs: NDArray[np.int64],
    trajectory_period: Period | None,
    state_period: Period | None,
    performance_period: Period | None,
    min_years: int,
) -> NDArray[np.int64]:
    """Role bits of each year (see ``_period_stats``); raise when a period has too few years."""
    if not (isinstance(min_years, int) and min_years >= 3):
        raise KernelInputError(f"min_years: expected a whole number >= 3, got {min_years!r}.")
    t0, t1 = _period("trajectory_period", trajectory_period, yrs)
    s0, s1 = _period("state_period", state_period, yrs)
    p0, p1 = _period("performance_period", performance_period, yrs)
    in_traj = (yrs >= t0) & (yrs <= t1)
    early = (yrs >= s0) & (yrs <= s1 - STATE_RECENT_YEARS)
    recent = (yrs > s1 - STATE_RECENT_YEARS) & (yrs <= s1) & (yrs >= s0)
    perf = (yrs >= p0) & (yrs <= p1)
    for name, sel, need in (
        ("trajectory_period", in_traj, min_years),
        ("state_period", early, 2),
        ("state_period", recent, 1),
        ("performance_period", perf, 1),
    ):
        if int(sel.sum()) < need:
            raise KernelInputError(
                f"{name}: expected at least {need} NDVI years in the period (state: >= 2 years "
                f"before the last {STATE_RECENT_YEARS} and >= 1 among them), got years "
                f"{yrs[sel].tolist()} of {yrs.tolist()}. Widen the period or add years."
            )
    role = early.astype(np.int64) + recent.astype(np.int64) * 2 + perf.astype(np.int64) * 4
    return np.asarray(role + in_traj.astype(np.int64) * 8)


def period_statistics(
    ndvi: ArrayLike,
    years: ArrayLike,
    *,
    trajectory_period: Period | None = None,
    state_period: Period | None = None,
    performance_period: Period | None = None,
    min_years: int = 3,
) -> tuple[F64, F64, F64]:
    """The per-pixel statistics of one pass over ``ndvi`` (years, ...): (state z, mean over the
    performance period, trajectory z), each of the pixel shape. They depend on the pixel alone,
    so a grid can be done tile by tile; the performance ratio then needs the land units' 90th
    percentiles over the whole grid (``performance_ratio``) before ``classify``."""
    y = _ndvi(ndvi)
    yrs = _years(years, y.shape[0])
    role = _roles(yrs, trajectory_period, state_period, performance_period, min_years)
    flat = y.reshape(y.shape[0], -1)
    stats = np.empty((3, flat.shape[1]))
    _period_stats(flat, role, min_years, stats)
    shape = y.shape[1:]
    return stats[0].reshape(shape), stats[1].reshape(shape), stats[2].reshape(shape)


def classify(
    trajectory_z: ArrayLike, state_z: ArrayLike, ratio: ArrayLike, *, lookup: str | ArrayLike = "gpg2"
) -> Productivity:
    """Classes of the three metrics (z-scores and the performance ratio; NaN = missing) and
    their lookup."""
    table = _lookup_table(lookup)
    tz = np.ascontiguousarray(trajectory_z, dtype=np.float64)
    sz = np.ascontiguousarray(state_z, dtype=np.float64)
    r = np.ascontiguousarray(ratio, dtype=np.float64)
    if not tz.shape == sz.shape == r.shape:
        raise KernelInputError(
            f"state_z, ratio: expected the shape of trajectory_z {tz.shape}, got {sz.shape} and {r.shape}."
        )
    out = np.empty((6, tz.size), dtype=np.int8)
    _classify(
        tz.reshape(-1), sz.reshape(-1), r.reshape(-1), table, Z_SIGNIFICANT, Z_AT_RISK, PERFORMANCE_CUT, out
    )
    return Productivity(tz, sz, r, *(out[i].reshape(tz.shape) for i in range(6)))


def productivity(
    ndvi: ArrayLike,
    years: ArrayLike,
    land_unit: ArrayLike,
    *,
    trajectory_period: Period | None = None,
    state_period: Period | None = None,
    performance_period: Period | None = None,
    lookup: str | ArrayLike = "gpg2",
    min_years: int = 3,
) -> Productivity:
    """Trajectory, state, performance and their lookup for an NDVI cube ``(years, y, x)``.

    ``ndvi``: annual NDVI integrals (NaN = missing year of a pixel). ``years``: one whole year per
    layer, strictly increasing. ``land_unit``: int array of the pixel shape. Periods are
    inclusive ``(first, last)`` years, each defaulting to all years. ``min_years``: fewest valid
    years for a trajectory (else missing). The same as ``period_statistics`` then
    ``performance_ratio`` then ``classify``.
    """
    y = _ndvi(ndvi)
    lu = np.asarray(land_unit)
    if lu.dtype.kind not in "iu":
        raise KernelInputError(
            f"land_unit: expected an integer array of unit ids, got dtype {lu.dtype}. Rasterise the "
            "land units to integer ids (e.g. astype(np.int32))."
        )
    if lu.shape != y.shape[1:]:
        raise KernelInputError(f"land_unit: expected the pixel shape of ndvi {y.shape[1:]}, got {lu.shape}.")
    _lookup_table(lookup)  # fail before the pass
    state_z, mean, traj_z = period_statistics(
        y,
        years,
        trajectory_period=trajectory_period,
        state_period=state_period,
        performance_period=performance_period,
        min_years=min_years,
    )
    ratio = performance_ratio(mean, lu).reshape(mean.shape)
    return classify(traj_z, state_z, ratio, lookup=lookup)


def performance_ratio(mean: F64, land_unit: NDArray[np.integer], q: float = PERFORMANCE_PERCENTILE) -> F64:
    """``mean / percentile_q(mean over the pixel's land unit)`` (numpy linear interpolation);
    NaN where the mean is NaN or the unit's percentile is <= 0."""
    mean = np.asarray(mean, dtype=np.float64).reshape(-1)
    ids = np.asarray(land_unit).reshape(-1)
    uniq, inv = np.unique(ids, return_inverse=True)
    valid = np.isfinite(mean)
    grp, vals = inv[valid], mean[valid]
    order = np.lexsort((vals, grp))
    grp, vals = grp[order], vals[order]
    counts = np.bincount(grp, minlength=uniq.size)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pct = np.full(uniq.size, np.nan)
    has = counts > 0
    pos = (q / 100.0) * (counts[has] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts[has] - 1)
    a, b = vals[starts[has] + lo], vals[starts[has] + hi]
    pct[has] = a + (b - a) * (pos - lo)
    p = pct[inv]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid & (p > 0), mean / np.where(p > 0, p, 1.0), np.nan)


__all__ = [
    "NODATA",
    "Productivity",
    "classify",
    "lookup_productivity",
    "performance_ratio",
    "period_statistics",
    "productivity",
]
