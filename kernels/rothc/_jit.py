"""Compiled inner loops of RothC v2.0.0 (Coleman, Prout & Milne 2025, "RothC - A model for the
turnover of carbon in soil, Model description, Version 2.0.0").

Pool order everywhere: 0 DPM, 1 RPM, 2 BIO, 3 HUM. IOM is inert and added outside.
Nothing here validates input: the numpy entry points in ``model.py`` do that first.

One month (description section 1.4 and the official ``decomp`` routine): every active pool
decays by ``exp(-a*b*c*k/12)``; what decomposed is split into CO2 and BIO+HUM by the clay
ratio ``x`` (eq. 13-16), BIO+HUM as 46 % / 54 %; the month's plant input (split DPM/RPM by the
DPM/RPM ratio) and FYM (49 % DPM, 49 % RPM, 2 % HUM) are added *after* decomposition, so they
start decaying next month. This order is what makes the official output reproducible.

Because the step is affine in the pool vector, a whole year of fixed weather is an affine
map ``p -> A p + b`` with ``A >= 0`` entrywise and column sums ``<= 1`` (carbon is only lost,
as CO2). That is what the equilibrium solvers below exploit.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

K_DPM = 10.0
K_RPM = 0.3
K_BIO = 0.66
K_HUM = 0.02
FYM_DPM = 0.49
FYM_RPM = 0.49
FYM_HUM = 0.02
BIO_SHARE = 0.46
HUM_SHARE = 0.54
# Doubling steps tried by the official-spin-up emulation: 2**40 years is far beyond any
# finite spin-up; a pixel that has not converged by then never will (e.g. no decay at all).
_LIFT_LEVELS = 40

_jit = nb.njit(cache=True, fastmath=False, nogil=True)
_pjit = nb.njit(cache=True, fastmath=False, nogil=True, parallel=True)


@_jit
def rm_temperature(tas: float) -> float:
    """Temperature rate modifier (eq. 1); 0 below -5 degC as in the official code."""
    if tas < -5.0:
        return 0.0
    return 47.91 / (math.exp(106.06 / (tas + 18.27)) + 1.0)


@_jit
def smd_step(smd: float, rain: float, pet: float, covered: bool, smd_max: float, smd_bare: float) -> float:
    """Advance the accumulated topsoil moisture deficit (mm, <= 0) by one month."""
    df = rain - 0.75 * pet
    if covered:
        return max(smd_max, min(0.0, smd + df))
    # Bare soil does not dry beyond smd_bare, unless it is already drier than that.
    return max(min(smd_bare, smd), min(0.0, smd + df))


@_jit
def rm_moisture(smd: float, smd_1bar: float, smd_15bar: float, min_rm: float) -> float:
    """Moisture rate modifier (eq. 3-4; for opt_RMmoist=2 constant below -15 bar).

    With opt_RMmoist 1 or 3 the deficit never passes ``smd_15bar`` (it is the floor), so the
    single three-branch form serves all options.
    """
    if smd > smd_1bar:
        return 1.0
    if smd > smd_15bar:
        return min_rm + (1.0 - min_rm) * (smd_15bar - smd) / (smd_15bar - smd_1bar)
    return min_rm


@_pjit
def rate_modifiers(
    tas: np.ndarray,
    rain: np.ndarray,
    pet: np.ndarray,
    cover: np.ndarray,
    smd0: np.ndarray,
    smd_max: np.ndarray,
    smd_1bar: np.ndarray,
    smd_15bar: np.ndarray,
    smd_bare: np.ndarray,
    min_rm: np.ndarray,
    rm_t: np.ndarray,
    rm_m: np.ndarray,
    rm_c: np.ndarray,
    smd_out: np.ndarray,
) -> None:
    """Per pixel (rows) and month (columns): the three rate modifiers and the deficit."""
    n, m = tas.shape
    for i in nb.prange(n):
        smd = smd0[i]
        for t in range(m):
            covered = cover[i, t] > 0.5
            smd = smd_step(smd, rain[i, t], pet[i, t], covered, smd_max[i], smd_bare[i])
            smd_out[i, t] = smd
            rm_t[i, t] = rm_temperature(tas[i, t])
            rm_m[i, t] = rm_moisture(smd, smd_1bar[i], smd_15bar[i], min_rm[i])
            rm_c[i, t] = 0.6 if covered else 1.0


@_jit
def _month(p: np.ndarray, rate: float, c_in: float, fym: float, f_dpm: float, x: float) -> float:
    """One month in place on the 4-pool vector ``p``; returns the CO2 released."""
    e0 = math.exp(-rate * K_DPM / 12.0)
    e1 = math.exp(-rate * K_RPM / 12.0)
    e2 = math.exp(-rate * K_BIO / 12.0)
    e3 = math.exp(-rate * K_HUM / 12.0)
    d = p[0] * (1.0 - e0) + p[1] * (1.0 - e1) + p[2] * (1.0 - e2) + p[3] * (1.0 - e3)
    to_bh = d / (x + 1.0)
    p[0] = p[0] * e0 + f_dpm * c_in + FYM_DPM * fym
    p[1] = p[1] * e1 + (1.0 - f_dpm) * c_in + FYM_RPM * fym
    p[2] = p[2] * e2 + BIO_SHARE * to_bh
    p[3] = p[3] * e3 + HUM_SHARE * to_bh + FYM_HUM * fym
    return d * x / (x + 1.0)


@_jit
def _month_matrix(rate: float, x: float, out: np.ndarray) -> None:
    """The linear part of one month (4x4) written to ``out``."""
    e = np.empty(4)
    e[0] = math.exp(-rate * K_DPM / 12.0)
    e[1] = math.exp(-rate * K_RPM / 12.0)
    e[2] = math.exp(-rate * K_BIO / 12.0)
    e[3] = math.exp(-rate * K_HUM / 12.0)
    out[:, :] = 0.0
    for c in range(4):
        out[c, c] = e[c]
        out[2, c] += BIO_SHARE * (1.0 - e[c]) / (x + 1.0)
        out[3, c] += HUM_SHARE * (1.0 - e[c]) / (x + 1.0)


@_jit
def _year_map(
    rate: np.ndarray,
    c_in: np.ndarray,
    fym: np.ndarray,
    f_dpm: np.ndarray,
    x: float,
    a_out: np.ndarray,
    b_out: np.ndarray,
) -> None:
    """Compose 12 (or any number of) months into one affine map ``p -> A p + b``."""
    m = np.empty((4, 4))
    tmp = np.empty((4, 4))
    a_out[:, :] = 0.0
    for c in range(4):
        a_out[c, c] = 1.0
    b_out[:] = 0.0
    for t in range(rate.shape[0]):
        _month_matrix(rate[t], x, m)
        tmp[:, :] = m @ a_out
        a_out[:, :] = tmp
        nb_ = m @ b_out
        nb_[0] += f_dpm[t] * c_in[t] + FYM_DPM * fym[t]
        nb_[1] += (1.0 - f_dpm[t]) * c_in[t] + FYM_RPM * fym[t]
        nb_[3] += FYM_HUM * fym[t]
        b_out[:] = nb_


@_jit
def _fixed_point(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> bool:
    """Solve ``p = A p + b``. ``A`` is lower block-triangular (DPM and RPM receive nothing
    from other pools), so the solve is two scalars and one 2x2 system, no pivoting needed.
    Returns False when ``I - A`` is singular (no decomposition: no equilibrium exists)."""
    d0 = 1.0 - a[0, 0]
    d1 = 1.0 - a[1, 1]
    if d0 <= 1e-300 or d1 <= 1e-300:
        return False
    out[0] = b[0] / d0
    out[1] = b[1] / d1
    r2 = b[2] + a[2, 0] * out[0] + a[2, 1] * out[1]
    r3 = b[3] + a[3, 0] * out[0] + a[3, 1] * out[1]
    m00 = 1.0 - a[2, 2]
    m01 = -a[2, 3]
    m10 = -a[3, 2]
    m11 = 1.0 - a[3, 3]
    det = m00 * m11 - m01 * m10
    if det <= 1e-300:
        return False
    out[2] = (r2 * m11 - m01 * r3) / det
    out[3] = (m00 * r3 - m10 * r2) / det
    return True


@_jit
def _official_lift(a: np.ndarray, b: np.ndarray, p: np.ndarray, d: np.ndarray, tol: float) -> float:
    """Emulate the official stopping rule from a state in the periodic regime.

    ``p`` holds the pools after some year y and ``d = p_y - p_{y-1} >= 0`` with
    ``|sum(d)| >= tol``. The yearly TOC change is then ``1^T A^m d``, non-increasing in m
    because ``A >= 0`` has column sums <= 1. Binary lifting over ``A^(2^j)`` finds the last
    year whose change is still >= tol in O(log n) 4x4 products, instead of the ~1e3-1e4
    years the official shell iterates; one more year is then the year the shell stops after.
    Updates ``p`` in place and returns the number of extra years, or -1 if it never stops.
    """
    pa = np.empty((_LIFT_LEVELS, 4, 4))
    pb = np.empty((_LIFT_LEVELS, 4))
    pa[0] = a
    pb[0] = b
    for j in range(1, _LIFT_LEVELS):
        pa[j] = pa[j - 1] @ pa[j - 1]
        pb[j] = pa[j - 1] @ pb[j - 1] + pb[j - 1]
    top = pa[_LIFT_LEVELS - 1] @ d
    if top.sum() >= tol:
        return -1.0
    years = 0.0
    v = d.copy()
    for j in range(_LIFT_LEVELS - 1, -1, -1):
        cand = pa[j] @ v
        if cand.sum() >= tol:
            v = cand
            p[:] = pa[j] @ p + pb[j]
            years += 2.0**j
    p[:] = a @ p + b
    return years + 1.0


@_pjit
def equilibrium(
    tas: np.ndarray,
    rain: np.ndarray,
    pet: np.ndarray,
    cover: np.ndarray,
    c_in: np.ndarray,
    fym: np.ndarray,
    f_dpm: np.ndarray,
    x: np.ndarray,
    smd_max: np.ndarray,
    smd_1bar: np.ndarray,
    smd_15bar: np.ndarray,
    smd_bare: np.ndarray,
    min_rm: np.ndarray,
    official: bool,
    tol: float,
    max_explicit_years: int,
    pools_out: np.ndarray,
    months_out: np.ndarray,
    smd_out: np.ndarray,
) -> None:
    """Pools at equilibrium under one repeated year of forcing (12 columns), per pixel.

    ``official=False``: the exact fixed point of the periodic year (a linear solve).
    ``official=True``: the state the official shell stops at (TOC change over a year
    < ``tol``, starting from empty pools), found by binary lifting rather than iteration.
    Both first step through the few transient years until the moisture deficit at the end of
    December repeats, because the rate modifiers of a year depend on the deficit it starts with.
    ``months_out`` gets the months the official shell would run (NaN for the exact solve or
    when there is no equilibrium, e.g. no decomposition all year: pools are then NaN).
    """
    n = tas.shape[0]
    for i in nb.prange(n):
        a = np.empty((4, 4))
        b = np.empty(4)
        rate = np.empty(12)
        p = np.zeros(4)
        smd = 0.0
        months = np.nan
        done = False
        for year in range(1, max_explicit_years + 1):
            smd_start = smd
            for t in range(12):
                covered = cover[i, t] > 0.5
                smd = smd_step(smd, rain[i, t], pet[i, t], covered, smd_max[i], smd_bare[i])
                rate[t] = (
                    rm_temperature(tas[i, t])
                    * rm_moisture(smd, smd_1bar[i], smd_15bar[i], min_rm[i])
                    * (0.6 if covered else 1.0)
                )
            _year_map(rate, c_in[i], fym[i], f_dpm[i], x[i], a, b)
            periodic = smd == smd_start or year == max_explicit_years
            if not official:
                if periodic:
                    if not _fixed_point(a, b, p):
                        p[:] = np.nan
                    done = True
                    break
                continue
            p_new = a @ p + b
            d = p_new - p
            delta = (p_new[0] + p_new[1] + p_new[2] + p_new[3]) - (p[0] + p[1] + p[2] + p[3])
            p[:] = p_new
            if abs(delta) < tol:
                months = 12.0 * year
                done = True
                break
            if periodic and d.min() >= 0.0:
                extra = _official_lift(a, b, p, d, tol)
                if extra < 0.0:
                    p[:] = np.nan
                else:
                    months = 12.0 * (year + extra)
                done = True
                break
        if not done:
            p[:] = np.nan
        pools_out[i, :] = p
        months_out[i] = months
        smd_out[i] = smd


@_jit
def run_site(
    pools0: np.ndarray,
    rate: np.ndarray,
    c_in: np.ndarray,
    fym: np.ndarray,
    f_dpm: np.ndarray,
    x: float,
    pools_out: np.ndarray,
    co2_out: np.ndarray,
) -> None:
    """Forward run of one site, keeping every month (pools and cumulative CO2)."""
    p = pools0.copy()
    co2 = 0.0
    for t in range(rate.shape[0]):
        co2 += _month(p, rate[t], c_in[t], fym[t], f_dpm[t], x)
        pools_out[t, :] = p
        co2_out[t] = co2


@_pjit
def run_pixels(
    pools0: np.ndarray,
    rate: np.ndarray,
    c_in: np.ndarray,
    fym: np.ndarray,
    f_dpm: np.ndarray,
    x: np.ndarray,
    input_factor: np.ndarray,
    n_months: int,
    pools_out: np.ndarray,
    co2_out: np.ndarray,
) -> None:
    """Forward runs of many pixels under several input factors at once.

    The forcing columns repeat cyclically when ``n_months`` exceeds them (a climatology run
    for 20 years reads 12 columns, not 240 materialised ones).

    ``pools_out[i, s]`` is pixel i's pools after the last month when the plant input is
    multiplied by ``input_factor[s]``; ``co2_out[i, s]`` its cumulative CO2. The four
    exponentials of a month depend only on the rate, so they are computed once per pixel-month
    and shared by every scenario, rather than once per scenario.
    """
    n, period = rate.shape
    ns = input_factor.shape[0]
    for i in nb.prange(n):
        p = np.empty((ns, 4))
        for s in range(ns):
            p[s, :] = pools0[i]
        co2 = np.zeros(ns)
        xi = x[i]
        for tt in range(n_months):
            t = tt % period
            r = rate[i, t]
            e0 = math.exp(-r * K_DPM / 12.0)
            e1 = math.exp(-r * K_RPM / 12.0)
            e2 = math.exp(-r * K_BIO / 12.0)
            e3 = math.exp(-r * K_HUM / 12.0)
            fd = f_dpm[i, t]
            fy = fym[i, t]
            for s in range(ns):
                ci = c_in[i, t] * input_factor[s]
                d = p[s, 0] * (1.0 - e0) + p[s, 1] * (1.0 - e1) + p[s, 2] * (1.0 - e2) + p[s, 3] * (1.0 - e3)
                to_bh = d / (xi + 1.0)
                p[s, 0] = p[s, 0] * e0 + fd * ci + FYM_DPM * fy
                p[s, 1] = p[s, 1] * e1 + (1.0 - fd) * ci + FYM_RPM * fy
                p[s, 2] = p[s, 2] * e2 + BIO_SHARE * to_bh
                p[s, 3] = p[s, 3] * e3 + HUM_SHARE * to_bh + FYM_HUM * fy
                co2[s] += d * xi / (xi + 1.0)
        for s in range(ns):
            pools_out[i, s, :] = p[s]
            co2_out[i, s] = co2[s]
