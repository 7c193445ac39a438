"""Inverse mode and GSOCseq-style sequestration scenarios on top of the RothC kernels.

FAO (2020), "GSOCseq: Technical manual - Global Soil Organic Carbon Sequestration Potential
Map", runs RothC per pixel in three phases: a spin-up in inverse mode (the carbon input that
keeps the current stock at equilibrium), a warm-up over past years, and 20-year forward runs
for business as usual (BAU) and sustainable-management scenarios raising the carbon input by
5, 10 and 20 %. The sequestration potential relative to BAU is
``(SOC_scenario(20 y) - SOC_BAU(20 y)) / 20`` t C/ha/yr.

Here the warm-up phase is omitted (the cube carries one climatology, not a climate history):
the forward runs start from the equilibrium that reproduces the current stock, so BAU stays at
that stock when the forward climate equals the spin-up climate. That choice is explicit in the
outputs' ``convention`` attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from kernels._validate import as_float_array, check_range
from kernels.errors import KernelInputError
from kernels.rothc.inputs import FloatArray, Forcing, Soil
from kernels.rothc.model import equilibrium, forward

CONVENTION = "GSOCseq without warm-up: spin-up at the current stock, 20-y forward runs"


def _shares(forcing: Forcing) -> FloatArray:
    year = forcing.c_in[:, :12]
    total = year.sum(axis=1)
    if (total <= 0).any():
        bad = int(np.argmax(total <= 0))
        raise KernelInputError(
            "c_in: in inverse mode the monthly plant input gives the distribution of the "
            f"annual input over the year, but pixel {bad} has none in the first 12 months. "
            "Give positive shares (e.g. 1 in the growing months)."
        )
    return np.asarray(year / total[:, None])


def inverse_input(soil: Soil, forcing: Forcing, soc_target: ArrayLike) -> FloatArray:
    """Annual plant input (t C/ha/yr) whose exact equilibrium SOC equals ``soc_target``.

    ``forcing.c_in`` over the first 12 months gives the monthly distribution (normalised per
    pixel); FYM in ``forcing`` is kept as given. The fixed point is linear in the input, so the
    solve is exact: two equilibria, no iteration. Pixels whose target is below what IOM and FYM
    alone sustain get NaN.
    """
    target = np.ascontiguousarray(np.broadcast_to(as_float_array("soc_target", soc_target), (soil.n,)))
    check_range("soc_target", target, 0.0, None, unit="t C/ha", allow_nan=True)
    shares = _shares(forcing)
    year = forcing.window(0, 12)
    unit = equilibrium(soil, year.scaled_input(shares))
    only_fym = equilibrium(soil, year.scaled_input(0.0))
    active_unit = unit.soc - soil.iom
    need = target - only_fym.soc
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = need / active_unit
    scale = np.where((scale >= 0) & np.isfinite(scale), scale, np.nan)
    return np.asarray(scale)


@dataclass(frozen=True)
class ScenarioResult:
    """GSOCseq-style outputs per pixel.

    ``soc_end[:, 0]`` is BAU; ``soc_end[:, k]`` the scenario with input factor
    ``factors[k]``. Stocks in t C/ha, input in t C/ha/yr.
    """

    c_input: FloatArray
    soc_start: FloatArray
    soc_end: FloatArray
    factors: FloatArray
    years: int
    convention: str = CONVENTION

    @property
    def seq_potential(self) -> FloatArray:
        """(SOC_scenario - SOC_BAU) / years for each non-BAU scenario, t C/ha/yr."""
        return np.asarray((self.soc_end[:, 1:] - self.soc_end[:, :1]) / self.years)

    @property
    def absolute_rate(self) -> FloatArray:
        """(SOC_end - SOC_start) / years for every scenario incl. BAU, t C/ha/yr."""
        return np.asarray((self.soc_end - self.soc_start[:, None]) / self.years)


def scenarios(
    soil: Soil,
    forcing: Forcing,
    soc_stock: ArrayLike,
    *,
    increases: Sequence[float] = (0.05, 0.10, 0.20),
    years: int = 20,
) -> ScenarioResult:
    """Spin-up in inverse mode at ``soc_stock``, then BAU and +x % input runs for ``years``.

    ``forcing`` holds either one year (12 months: repeated for the forward runs) or
    ``12 * years`` months (the first 12 are the spin-up year). Its ``c_in`` gives the monthly
    distribution of plant input (scaled by the inverse solve).
    """
    if not (isinstance(years, int) and years >= 1):
        raise KernelInputError(f"years: expected a positive whole number, got {years!r}.")
    inc = as_float_array("increases", list(increases))
    check_range("increases", inc, -1.0, None, fix="Increases are fractions, e.g. 0.05 for +5 %.")
    months = 12 * years
    if forcing.months not in (12, months):
        raise KernelInputError(
            f"forcing: expected 12 months (a climatology, repeated) or {months} months "
            f"({years} years), got {forcing.months}."
        )
    stock = np.ascontiguousarray(np.broadcast_to(as_float_array("soc_stock", soc_stock), (soil.n,)))
    check_range("soc_stock", stock, 0.0, None, unit="t C/ha", allow_nan=True)
    c_input = inverse_input(soil, forcing, stock)
    shares = _shares(forcing)
    ok = np.isfinite(c_input)
    annual = np.where(ok, c_input, 0.0)
    spin = forcing.window(0, 12).scaled_input(shares * annual[:, None])
    eq = equilibrium(soil, spin)
    if forcing.months == 12:
        fwd = spin  # repeated by the kernel: no 240-month copy of the forcing
    else:
        fwd = forcing.scaled_input(np.tile(shares, (1, years)) * annual[:, None])
    factors = np.concatenate([[1.0], 1.0 + inc])
    pools, _ = forward(soil, fwd, eq.pools, eq.smd, factors, months=months)
    soc_end = pools.sum(axis=2)
    soc_end[~ok] = np.nan
    start = np.where(ok, eq.soc, np.nan)
    return ScenarioResult(c_input, start, soc_end, factors, years)
