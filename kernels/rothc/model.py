"""RothC v2.0.0, vectorised over pixels: the model's numpy entry points (rate modifiers,
equilibrium, monthly runs, end states). Inputs, their units and shapes: ``kernels.rothc.inputs``.
Section numbers in the comments refer to Coleman, Prout & Milne (2025), RothC model description
v2.0.0, Rothamsted Research.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels._validate import as_float_array, check_range
from kernels.errors import KernelInputError
from kernels.rothc import _jit
from kernels.rothc.inputs import FloatArray, Forcing, Soil, check_pixels, clay_partition_ratio

EquilibriumMethod = Literal["exact", "official"]


@dataclass(frozen=True)
class RateModifiers:
    """Monthly rate modifiers and topsoil moisture deficit, each (n, months)."""

    rm_tmp: FloatArray
    rm_moist: FloatArray
    rm_pc: FloatArray
    smd: FloatArray

    @property
    def rate(self) -> FloatArray:
        """The combined modifier a*b*c."""
        return np.asarray(self.rm_tmp * self.rm_moist * self.rm_pc)


def rate_modifiers(soil: Soil, forcing: Forcing, smd0: ArrayLike = 0.0) -> RateModifiers:
    """Temperature, moisture and plant-cover modifiers for every pixel-month (section 1.6).

    ``smd0`` is the deficit (mm, <= 0) before the first month; 0 is field capacity.
    """
    check_pixels(soil, forcing)
    smd_start = np.ascontiguousarray(np.broadcast_to(as_float_array("smd0", smd0), (soil.n,)))
    check_range("smd0", smd_start, None, 0.0, unit="mm", fix="The deficit is 0 or negative.")
    shape = forcing.tas.shape
    rm_t, rm_m, rm_c, smd = (np.empty(shape) for _ in range(4))
    _jit.rate_modifiers(
        forcing.tas,
        forcing.rain,
        forcing.pet,
        forcing.cover,
        smd_start,
        soil.smd_max,
        soil.smd_1bar,
        soil.smd_15bar,
        soil.smd_bare,
        soil.min_rm_moist,
        rm_t,
        rm_m,
        rm_c,
        smd,
    )
    return RateModifiers(rm_t, rm_m, rm_c, smd)


@dataclass(frozen=True)
class Equilibrium:
    """Equilibrium state per pixel: pools (n, 5: DPM, RPM, BIO, HUM, IOM), SOC (n,),
    the months the official shell would have run (NaN for the exact solve), the deficit at
    the end of the spin-up year (the state the forward run continues from)."""

    pools: FloatArray
    soc: FloatArray
    months: FloatArray
    smd: FloatArray


def equilibrium(
    soil: Soil,
    forcing: Forcing,
    *,
    method: EquilibriumMethod = "exact",
    tol: float = 1e-6,
    max_transient_years: int = 1000,
) -> Equilibrium:
    """Pools at equilibrium under the first 12 months of ``forcing`` repeated.

    ``method="exact"`` solves for the fixed point of the periodic year (what an infinitely
    long spin-up converges to). ``method="official"`` reproduces the official shell, which
    starts from empty pools and stops once total active SOC changes by less than ``tol``
    (1e-6 t C/ha) over a year: it stops short of the fixed point (by 1.4e-4 t C/ha of HUM
    in the official example), and this is the mode that matches its output. Neither mode
    iterates the spin-up: their cost does not grow with its length.
    Pixels with no equilibrium (no decomposition in any month) get NaN pools.
    """
    check_pixels(soil, forcing)
    if forcing.months < 12:
        raise KernelInputError(
            f"forcing: the spin-up needs 12 months (January-December), got "
            f"{forcing.months}. Give a full year of monthly forcing."
        )
    if method not in ("exact", "official"):
        raise KernelInputError(f"method: expected 'exact' or 'official', got {method!r}.")
    if not (tol > 0.0 and np.isfinite(tol)):
        raise KernelInputError(f"tol: expected a positive number of t C/ha, got {tol!r}.")
    year = forcing.window(0, 12)
    n = soil.n
    pools = np.empty((n, 4))
    months = np.empty(n)
    smd = np.empty(n)
    _jit.equilibrium(
        year.tas,
        year.rain,
        year.pet,
        year.cover,
        year.c_in,
        year.fym,
        year.f_dpm,
        clay_partition_ratio(soil.clay),
        soil.smd_max,
        soil.smd_1bar,
        soil.smd_15bar,
        soil.smd_bare,
        soil.min_rm_moist,
        method == "official",
        float(tol),
        int(max_transient_years),
        pools,
        months,
        smd,
    )
    full = np.concatenate([pools, soil.iom[:, None]], axis=1)
    return Equilibrium(full, full.sum(axis=1), months, smd)


@dataclass(frozen=True)
class MonthlyRun:
    """Month-by-month forward run: pools (n, months, 5), SOC (n, months), cumulative
    CO2 (n, months), and the rate modifiers used."""

    pools: FloatArray
    soc: FloatArray
    co2: FloatArray
    modifiers: RateModifiers


def run_monthly(soil: Soil, forcing: Forcing, pools0: ArrayLike, smd0: ArrayLike = 0.0) -> MonthlyRun:
    """Forward run keeping every month (for sites and small batches; see ``forward`` for maps).

    ``pools0`` is (n, 4) or (n, 5) t C/ha (DPM, RPM, BIO, HUM[, IOM]); IOM is taken from
    ``soil``.
    """
    check_pixels(soil, forcing)
    p0 = _start_pools(pools0, soil.n)
    mods = rate_modifiers(soil, forcing, smd0)
    rate = mods.rate
    x = clay_partition_ratio(soil.clay)
    n, m = rate.shape
    pools = np.empty((n, m, 5))
    co2 = np.empty((n, m))
    for i in range(n):
        _jit.run_site(
            p0[i],
            rate[i],
            forcing.c_in[i],
            forcing.fym[i],
            forcing.f_dpm[i],
            float(x[i]),
            pools[i, :, :4],
            co2[i],
        )
    pools[:, :, 4] = soil.iom[:, None]
    return MonthlyRun(pools, pools.sum(axis=2), co2, mods)


def _start_pools(pools0: ArrayLike, n: int) -> FloatArray:
    p0 = as_float_array("pools0", pools0)
    if p0.ndim == 1:
        p0 = p0[None, :]
    if p0.ndim != 2 or p0.shape[0] != n or p0.shape[1] not in (4, 5):
        raise KernelInputError(
            f"pools0: expected shape ({n}, 4) or ({n}, 5) (DPM, RPM, BIO, HUM[, IOM] in "
            f"t C/ha), got {p0.shape}."
        )
    check_range("pools0", p0, 0.0, None, unit="t C/ha")
    return np.ascontiguousarray(p0[:, :4])


def forward(
    soil: Soil,
    forcing: Forcing,
    pools0: ArrayLike,
    smd0: ArrayLike = 0.0,
    input_factors: Sequence[float] | NDArray[np.float64] = (1.0,),
    months: int | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Forward runs of many pixels, one per plant-input factor, keeping only the end state.

    ``months`` (default: the forcing's length) may be a multiple of a 12-month forcing, which
    is then repeated; that is exact when the deficit after 12 months returns to ``smd0``, as it
    does from an equilibrium state (otherwise the repeated forcing is materialised).
    Returns ``(pools, co2)`` of shapes (n, len(input_factors), 5) and (n, len(input_factors)):
    the pools after the last month and the cumulative CO2 (t C/ha).
    """
    check_pixels(soil, forcing)
    p0 = _start_pools(pools0, soil.n)
    factors = np.atleast_1d(as_float_array("input_factors", input_factors))
    check_range("input_factors", factors, 0.0, None)
    n_months = forcing.months if months is None else int(months)
    if n_months < 1 or (n_months > forcing.months and n_months % forcing.months):
        raise KernelInputError(
            f"months: expected at most the forcing's {forcing.months} months or a multiple of "
            f"them, got {months!r}."
        )
    if n_months < forcing.months:
        forcing = forcing.window(0, n_months)
    mods = rate_modifiers(soil, forcing, smd0)
    smd_start = np.broadcast_to(np.asarray(smd0, dtype=np.float64), (soil.n,))
    if n_months > forcing.months and not np.allclose(mods.smd[:, -1], smd_start, rtol=0, atol=1e-9):
        reps = n_months // forcing.months
        forcing = Forcing(*(np.ascontiguousarray(np.tile(a, (1, reps))) for a in forcing.__dict__.values()))
        mods = rate_modifiers(soil, forcing, smd0)
    rate = mods.rate
    ns = factors.shape[0]
    pools = np.empty((soil.n, ns, 5))
    co2 = np.empty((soil.n, ns))
    pools4 = np.empty((soil.n, ns, 4))
    _jit.run_pixels(
        p0,
        rate,
        forcing.c_in,
        forcing.fym,
        forcing.f_dpm,
        clay_partition_ratio(soil.clay),
        factors,
        n_months,
        pools4,
        co2,
    )
    pools[:, :, :4] = pools4
    pools[:, :, 4] = soil.iom[:, None]
    return pools, co2
