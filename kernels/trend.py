"""Per-pixel trends over epochs: OLS slope, Theil-Sen slope with its confidence interval, and
the Mann-Kendall test with tie correction. NaN-aware: only valid epochs count, and pixels with
fewer than ``min_count`` of them give NaN.

- Theil (1950) / Sen (1968): the slope is the median of the pairwise slopes
  ``(y_j - y_i) / (t_j - t_i)``, i < j; the confidence interval takes the order statistics of
  the sorted slopes at ranks ``round((N + z sigma) / 2) - 1`` and ``round((N - z sigma) / 2)``
  (0-based; Sen 1968, eq. 2.6), with ``z = Phi^-1((1 - confidence) / 2)``, N the number of
  pairs and ``sigma^2`` the variance of Kendall's S below (ties in y corrected). Rounding is
  half-to-even, as numpy's.
- Mann (1945), Kendall (1975): ``S = sum_{i<j} sign(y_j - y_i)``,
  ``Var(S) = [n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18`` over groups of tied values,
  ``Z = (S - 1)/sigma`` if S > 0, ``(S + 1)/sigma`` if S < 0, 0 otherwise (continuity
  correction; without it ``Z = S/sigma``, which is what ``scipy.stats.kendalltau``'s asymptotic
  test computes), two-sided ``p = erfc(|Z| / sqrt 2)``.

The median and the two interval ranks are found by selection (quickselect) rather than by
sorting the n(n-1)/2 slopes: O(N) instead of O(N log N) per pixel, which is most of the cost.
``mann_kendall`` runs the test alone (no slopes, several times faster); ``trends`` and it share
one per-pixel implementation, ``mann_kendall_pixel``, which other kernels' fused passes call too
(``kernels.sdg_productivity``), so every Mann-Kendall Z of the project is the same arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels._validate import as_float_array
from kernels.errors import KernelInputError

F64 = NDArray[np.float64]


@nb.njit(cache=True, nogil=True)
def _select(a: np.ndarray, lo: int, hi: int, k: int) -> float:
    """Put the k-th smallest of a[lo:hi] at a[k] (lo <= k < hi), with everything before it
    smaller or equal and everything after larger or equal; return it (Hoare quickselect,
    median-of-three pivot)."""
    hi -= 1
    while hi > lo:
        mid = (lo + hi) // 2
        # median of three into a[mid]
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
        pivot = a[mid]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return a[k]
    return a[k]


@nb.njit(cache=True, nogil=True)
def _round_half_even(v: float) -> int:
    r = math.floor(v)
    d = v - r
    if d > 0.5 or (d == 0.5 and r % 2 == 1):
        r += 1
    return int(r)


@nb.njit(cache=True, nogil=True)
def gather_valid(y: np.ndarray, t: np.ndarray, tv: np.ndarray, yv: np.ndarray) -> int:
    """Copy the non-NaN values of one pixel's series ``y`` (and their times) to the front of
    ``yv`` (``tv``); return how many there are."""
    n = 0
    for k in range(y.shape[0]):
        v = y[k]
        if not np.isnan(v):
            tv[n] = t[k]
            yv[n] = v
            n += 1
    return n


@nb.njit(cache=True, nogil=True)
def mann_kendall_pixel(
    yv: np.ndarray, n: int, continuity: bool, scratch: np.ndarray
) -> tuple[float, float, float, float]:
    """Mann-Kendall of the series ``yv[:n]`` (in time order): (S, sigma, Z, p), Z and p NaN when
    Var(S) = 0. ``scratch`` (length >= n) is overwritten. The one implementation of the test:
    ``trends``, ``mann_kendall`` and the SDG productivity pass all call it."""
    s = 0
    for i in range(n):
        a = yv[i]
        for j in range(i + 1, n):
            s += (yv[j] > a) - (yv[j] < a)  # sign(y_j - y_i), branch-free
    # Tie groups in y (n is small: insertion sort of a copy).
    for i in range(n):
        scratch[i] = yv[i]
    for i in range(1, n):
        key = scratch[i]
        j = i - 1
        while j >= 0 and scratch[j] > key:
            scratch[j + 1] = scratch[j]
            j -= 1
        scratch[j + 1] = key
    ties = 0.0
    run = 1
    for i in range(1, n + 1):
        if i < n and scratch[i] == scratch[i - 1]:
            run += 1
        else:
            if run > 1:
                ties += run * (run - 1) * (2 * run + 5)
            run = 1
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    sigma = math.sqrt(var_s) if var_s > 0 else 0.0
    if sigma > 0:
        z = s / sigma
        if continuity:  # move S one step towards 0 (S is discrete, Z continuous)
            z = (s - 1) / sigma if s > 0 else ((s + 1) / sigma if s < 0 else 0.0)
        return float(s), sigma, z, math.erfc(abs(z) / math.sqrt(2.0))
    return float(s), sigma, np.nan, np.nan


@nb.njit(parallel=True, cache=True, nogil=True)
def _mann_kendall(y: np.ndarray, t: np.ndarray, min_count: int, continuity: bool, out: np.ndarray) -> None:
    # out rows: 0 mk_s, 1 mk_z, 2 mk_p, 3 n_valid
    n_pix, n_t = y.shape
    for p in nb.prange(n_pix):
        tv = np.empty(n_t)
        yv = np.empty(n_t)
        scratch = np.empty(n_t)
        n = gather_valid(y[p], t, tv, yv)
        out[3, p] = n
        if n < min_count or n < 2:
            for r in range(3):
                out[r, p] = np.nan
            continue
        s, _, z, pv = mann_kendall_pixel(yv, n, continuity, scratch)
        out[0, p] = s
        out[1, p] = z
        out[2, p] = pv


@nb.njit(parallel=True, cache=True, nogil=True)
def _trends(
    y: np.ndarray,
    t: np.ndarray,
    min_count: int,
    z_ci: float,
    continuity: bool,
    out: np.ndarray,
) -> None:
    # out rows: 0 ols, 1 sen, 2 sen_low, 3 sen_high, 4 mk_s, 5 mk_z, 6 mk_p, 7 n_valid
    n_pix, n_t = y.shape
    n_pairs_max = n_t * (n_t - 1) // 2
    for p in nb.prange(n_pix):
        tv = np.empty(n_t)
        yv = np.empty(n_t)
        scratch = np.empty(n_t)
        n = gather_valid(y[p], t, tv, yv)
        out[7, p] = n
        if n < min_count or n < 2:
            for r in range(7):
                out[r, p] = np.nan
            continue
        # OLS, two-pass for stability (no sum-of-squares cancellation).
        tm = 0.0
        ym = 0.0
        for k in range(n):
            tm += tv[k]
            ym += yv[k]
        tm /= n
        ym /= n
        sxy = 0.0
        sxx = 0.0
        for k in range(n):
            sxy += (tv[k] - tm) * (yv[k] - ym)
            sxx += (tv[k] - tm) * (tv[k] - tm)
        out[0, p] = sxy / sxx
        s, sigma, z, pv = mann_kendall_pixel(yv, n, continuity, scratch)
        out[4, p] = s
        out[5, p] = z
        out[6, p] = pv
        # Pairwise slopes; their median, then the interval ranks, by successive selection.
        slopes = np.empty(n_pairs_max)
        m = 0
        for i in range(n):
            for j in range(i + 1, n):
                slopes[m] = (yv[j] - yv[i]) / (tv[j] - tv[i])
                m += 1
        half = m // 2
        hi_med = _select(slopes, 0, m, half)
        if m % 2 == 1:
            out[1, p] = hi_med
        else:
            lo_med = slopes[0]
            for k in range(1, half):
                lo_med = max(lo_med, slopes[k])
            out[1, p] = 0.5 * (lo_med + hi_med)
        if sigma > 0:
            r_up = min(_round_half_even((m - z_ci * sigma) / 2.0), m - 1)
            r_lo = max(_round_half_even((m + z_ci * sigma) / 2.0) - 1, 0)
            out[2, p] = (
                _select(slopes, 0, half, r_lo)
                if r_lo < half
                else (hi_med if r_lo == half else _select(slopes, half + 1, m, r_lo))
            )
            out[3, p] = (
                _select(slopes, half + 1, m, r_up)
                if r_up > half
                else (hi_med if r_up == half else _select(slopes, 0, half, r_up))
            )
        else:
            out[2, p] = np.nan
            out[3, p] = np.nan


@dataclass(frozen=True)
class Trends:
    """Per-pixel trend statistics, each of the pixel shape (slopes in units of y per unit t)."""

    ols_slope: F64
    sen_slope: F64
    sen_low: F64
    sen_high: F64
    mk_s: F64
    mk_z: F64
    mk_p: F64
    n_valid: F64


def _prepared(
    values: ArrayLike, times: ArrayLike, min_count: int
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Validated input: the pixel-major values (each pixel's epochs contiguous, in time order),
    the sorted times and the pixel shape."""
    y = as_float_array("values", values)
    t = np.atleast_1d(as_float_array("times", times))
    if y.ndim < 1 or t.ndim != 1 or y.shape[0] != t.shape[0]:
        raise KernelInputError(
            f"times: expected one time per epoch along axis 0 of values {y.shape}, got {t.shape}."
        )
    if not np.all(np.isfinite(t)) or np.unique(t).size != t.size:
        raise KernelInputError(
            f"times: expected distinct finite epochs, got {t.tolist()}. Aggregate duplicate epochs first."
        )
    if not (isinstance(min_count, int) and min_count >= 2):
        raise KernelInputError(f"min_count: expected a whole number >= 2, got {min_count!r}.")
    order = np.argsort(t, kind="stable")
    # Pixel-major copy: each pixel's epochs contiguous (the O(T^2) loops read them T times).
    yp = np.ascontiguousarray(y[order].reshape(t.size, -1).T)
    return yp, np.ascontiguousarray(t[order]), y.shape[1:]


def trends(
    values: ArrayLike,
    times: ArrayLike,
    *,
    min_count: int = 3,
    confidence: float = 0.95,
    continuity: bool = True,
) -> Trends:
    """Trends of ``values`` (epochs along axis 0) against ``times`` (e.g. years).

    ``times`` must be distinct; they are sorted (with the values) if they are not increasing.
    ``confidence`` is the Theil-Sen interval's level (scipy's ``alpha``).
    """
    if not (0.0 < confidence < 1.0):
        raise KernelInputError(f"confidence: expected a level in (0, 1), got {confidence!r}.")
    yp, t, pix_shape = _prepared(values, times, min_count)
    z = NormalDist().inv_cdf((1.0 - confidence) / 2.0)
    out = np.empty((8, yp.shape[0]))
    _trends(yp, t, min_count, z, continuity, out)
    return Trends(*(out[i].reshape(pix_shape) for i in range(8)))


@dataclass(frozen=True)
class MannKendall:
    """Per-pixel Mann-Kendall statistics (pixel shape): Kendall's S, Z, two-sided p, valid epochs."""

    s: F64
    z: F64
    p: F64
    n_valid: F64


def mann_kendall(
    values: ArrayLike, times: ArrayLike, *, min_count: int = 3, continuity: bool = True
) -> MannKendall:
    """The Mann-Kendall test alone (no slopes): the same S, tie-corrected variance, continuity
    option and NaN handling as ``trends`` (the same code), at a fraction of its cost."""
    yp, t, pix_shape = _prepared(values, times, min_count)
    out = np.empty((4, yp.shape[0]))
    _mann_kendall(yp, t, min_count, continuity, out)
    return MannKendall(*(out[i].reshape(pix_shape) for i in range(4)))
