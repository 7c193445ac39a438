"""Monthly signals from a monthly NDVI series: anomaly, bare-soil frequency, cumulative productivity.

Inputs are (time, y, x) float32 NDVI (NaN = no observation) and, for every time step, its
*month index* ``year * 12 + (month - 1)`` (strictly increasing; gaps are allowed and count as
missing months). Definitions, per pixel, for a target month ``t`` (calendar month ``m``, year ``Y``):

Climatology (``climatology``)
    For each calendar month, over the valid values of that month in the baseline years
    ``[start, end]``: the mean and the sample standard deviation (ddof = 1). The mean is missing
    without any value, the standard deviation with fewer than 2 values. Both are returned as
    float32 (what the store keeps), and every signal below reads those float32 values, so a
    signal computed from a stored climatology equals one computed from a fresh one.

``anomaly`` (z-score, unitless)
    ``(ndvi[t] - mean[m]) / std[m]``, computed in float64. Missing when ``ndvi[t]`` is missing,
    when the month has fewer than 2 baseline values, or when ``std[m] == 0`` (a constant
    baseline has no scale to measure a departure against).

``bare_frequency`` (fraction 0-1)
    Among the months of the 12-month window ending at ``t`` (month indices ``t - 11 .. t``)
    that have a valid NDVI, the fraction whose NDVI is below ``threshold``: a month counts as
    bare soil when NDVI < 0.2 by default (the NDVI of bare soil in the threshold method of
    Sobrino, Jimenez-Munoz & Paolini, 2004, "Land surface temperature retrieval from LANDSAT
    TM 5", Remote Sensing of Environment 90: 434-440: NDVI < 0.2 bare soil, > 0.5 full
    vegetation). Missing when the window holds no valid month. Months absent from the series
    (before its start, or gaps) simply do not count. Soil-cover frequency = 1 - this.

``cumulative`` / ``cumulative_baseline`` / ``productivity_ratio``
    ``cumulative``: the sum of the NDVI of January..m of year Y; missing unless all m months are
    in the series and valid (a partial sum is not comparable with the baseline).
    ``cumulative_baseline``: the sum of the climatological means of January..m (float64 sum of
    the float32 means), the baseline's expected Jan..m integral (equal to the mean over baseline
    years of their Jan..m sums when the baseline is complete); missing if any of those means is.
    ``productivity_ratio`` = cumulative / cumulative_baseline, the *ratio* (1 = as productive
    as the baseline so far this year, 0.8 = 20 % below): unitless and comparable across
    regions. Missing when either part is, or when the baseline integral is <= 0 (water, ice
    and bare ground have no productivity to compare against).

No I/O here: the monthly job (``pipeline.monthly``) reads tiles and stores the results.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels.errors import KernelInputError

BARE_NDVI = 0.2  # Sobrino et al. 2004 (see the module docstring)
WINDOW = 12  # months of the bare-soil frequency


class Climatology(NamedTuple):
    mean: NDArray[np.float32]  # (12, y, x), calendar month 1 at index 0
    std: NDArray[np.float32]  # (12, y, x), sample std (ddof = 1)
    n_values: NDArray[np.int32]  # (12, y, x), valid baseline values


class Signals(NamedTuple):
    anomaly: NDArray[np.float32]  # (targets, y, x)
    bare_frequency: NDArray[np.float32]
    cumulative: NDArray[np.float32]
    cumulative_baseline: NDArray[np.float32]
    productivity_ratio: NDArray[np.float32]


def month_index(year: int, month: int) -> int:
    """``year * 12 + (month - 1)``: consecutive months have consecutive indices."""
    return year * 12 + month - 1


def _check_series(ndvi: ArrayLike, months: ArrayLike) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    v = np.asarray(ndvi)
    if v.ndim != 3 or v.dtype.kind != "f":
        raise KernelInputError(
            f"ndvi: expected a (time, y, x) float array, got {v.dtype} with shape {v.shape}. "
            "Pass the monthly NDVI of a tile, NaN where missing."
        )
    mi = np.ascontiguousarray(months, dtype=np.int64)
    if mi.shape != (v.shape[0],):
        raise KernelInputError(
            f"months: expected one month index per time step ({v.shape[0]}), got shape {mi.shape}."
        )
    if mi.size > 1 and np.any(np.diff(mi) <= 0):
        raise KernelInputError(
            f"months: expected strictly increasing month indices, got {mi.tolist()[:24]}. Sort the "
            "series by time and drop duplicate months."
        )
    return np.ascontiguousarray(v, dtype=np.float32), mi


@nb.njit(parallel=True, cache=True, nogil=True)
def _climatology(
    v: np.ndarray, cal: np.ndarray, use: np.ndarray, mean: np.ndarray, std: np.ndarray, cnt: np.ndarray
) -> None:
    nt, ny, nx = v.shape
    for r in nb.prange(ny):
        s = np.zeros(12)
        n = np.zeros(12, dtype=np.int64)
        ss = np.zeros(12)
        for c in range(nx):
            s[:] = 0.0
            n[:] = 0
            ss[:] = 0.0
            for t in range(nt):
                x = v[t, r, c]
                if use[t] and not np.isnan(x):
                    s[cal[t]] += x
                    n[cal[t]] += 1
            for m in range(12):
                cnt[m, r, c] = n[m]
                mean[m, r, c] = s[m] / n[m] if n[m] > 0 else np.nan
            for t in range(nt):  # second pass: squared deviations from the float64 mean
                x = v[t, r, c]
                if use[t] and not np.isnan(x):
                    d = x - s[cal[t]] / n[cal[t]]
                    ss[cal[t]] += d * d
            for m in range(12):
                std[m, r, c] = np.sqrt(ss[m] / (n[m] - 1)) if n[m] >= 2 else np.nan


def climatology(ndvi: ArrayLike, months: ArrayLike, start: int, end: int) -> Climatology:
    """Per calendar month: mean, sample std (ddof = 1) and count of the valid NDVI values of
    the baseline years ``start..end`` (inclusive)."""
    v, mi = _check_series(ndvi, months)
    if end < start:
        raise KernelInputError(f"baseline: expected start <= end, got {start}-{end}.")
    years = mi // 12
    use = (years >= start) & (years <= end)
    shape = (12, v.shape[1], v.shape[2])
    mean = np.empty(shape, dtype=np.float32)
    std = np.empty(shape, dtype=np.float32)
    cnt = np.empty(shape, dtype=np.int32)
    _climatology(v, (mi % 12).astype(np.int64), use, mean, std, cnt)
    return Climatology(mean, std, cnt)


@nb.njit(parallel=True, cache=True, nogil=True)
def _signals(
    v: np.ndarray,
    mi: np.ndarray,
    targets: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    threshold: float,
    z: np.ndarray,
    bare: np.ndarray,
    cum: np.ndarray,
    base: np.ndarray,
    ratio: np.ndarray,
) -> None:
    _, ny, nx = v.shape
    for r in nb.prange(ny):
        for c in range(nx):
            for k in range(targets.size):
                t = targets[k]
                m = mi[t] % 12
                x = v[t, r, c]
                mu = mean[m, r, c]
                sd = std[m, r, c]
                if np.isnan(x) or np.isnan(mu) or np.isnan(sd) or sd == 0.0:
                    z[k, r, c] = np.nan
                else:
                    z[k, r, c] = (np.float64(x) - np.float64(mu)) / np.float64(sd)
                valid = 0
                low = 0
                s = t
                while s >= 0 and mi[s] > mi[t] - 12:  # the 12-month window ending at t
                    y = v[s, r, c]
                    if not np.isnan(y):
                        valid += 1
                        if y < threshold:
                            low += 1
                    s -= 1
                bare[k, r, c] = low / valid if valid > 0 else np.nan
                jan = mi[t] - m  # January of t's year
                total = 0.0
                have = 0
                s = t
                while s >= 0 and mi[s] >= jan:
                    y = v[s, r, c]
                    if not np.isnan(y):
                        total += y
                        have += 1
                    s -= 1
                cur = total if have == m + 1 else np.nan
                b = 0.0
                for q in range(m + 1):
                    b += np.float64(mean[q, r, c])  # NaN propagates: a missing month's mean
                cum[k, r, c] = cur
                base[k, r, c] = b
                if np.isnan(cur) or np.isnan(b) or b <= 0.0:
                    ratio[k, r, c] = np.nan
                else:
                    ratio[k, r, c] = cur / b


def signals(
    ndvi: ArrayLike,
    months: ArrayLike,
    targets: ArrayLike,
    mean: ArrayLike,
    std: ArrayLike,
    threshold: float = BARE_NDVI,
) -> Signals:
    """The signals of the time steps ``targets`` (indices into ``ndvi``'s time axis) against a
    climatology (``mean``/``std`` as ``climatology`` returns them). ``ndvi`` must reach back
    far enough for each target: the 11 months before it (bare-soil window) and January of its
    year (cumulative productivity); what it lacks counts as missing months."""
    v, mi = _check_series(ndvi, months)
    tg = np.ascontiguousarray(targets, dtype=np.int64)
    if tg.ndim != 1 or (tg.size and (tg.min() < 0 or tg.max() >= v.shape[0])):
        raise KernelInputError(
            f"targets: expected time indices in 0..{v.shape[0] - 1}, got {tg.tolist()[:24]}."
        )
    want = (12, v.shape[1], v.shape[2])
    mu = np.ascontiguousarray(mean, dtype=np.float32)
    sd = np.ascontiguousarray(std, dtype=np.float32)
    if mu.shape != want or sd.shape != want:
        raise KernelInputError(
            f"mean, std: expected the climatology's shape {want}, got {mu.shape} and {sd.shape}. "
            "Compute it with kernels.monthly.climatology over the same tile."
        )
    if not np.isfinite(threshold):
        raise KernelInputError(f"threshold: expected a finite NDVI value, got {threshold}.")
    shape = (tg.size, v.shape[1], v.shape[2])
    out = [np.empty(shape, dtype=np.float32) for _ in range(5)]
    _signals(v, mi, tg, mu, sd, float(threshold), *out)
    return Signals(*out)
