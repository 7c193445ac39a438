"""The Tier 1 balance of one activity, exact for a continuous adoption curve.

Eq. 2.25 gives each state an equilibrium stock SOC = SOC_REF * F_LU * F_MG * F_I (0-30 cm). A
change of state moves a hectare's stock linearly towards the new equilibrium over D = 20 years
(the IPCC default transition time): (SOC_new - SOC_old) / D per year for D years, then nothing.

States: B (baseline, today), W (without project, business as usual) and P (with project). The
whole area makes the B -> W transition at t = 0 (nothing when W = B). The project is adopted
along a curve F(t) (share of the area adopted by time t, years from the start; F = 1 after the
implementation phase of I years). Each hectare adopted at time a changes W -> P over [a, a + D]
only: each hectare's change is capped at D years, so the area in transition at time t is
F(t) - F(t - D). Per hectare of the activity, with G(t) = integral of F from 0 to t:

    without(t) = B + (W - B) * min(t, D) / D
    with(t)    = without(t) + (P - W) * (G(t) - G(t - D)) / D        (G = 0 for t < 0)

and the balance is with - without; a year's balance uses G at the year's two ends, so it is
exact (no time step). Adoption curves:
- immediate (or I = 0): F(t) = 1;
- linear (default, as EX-ACT): F(t) = t / I during implementation;
- exponential (EX-ACT's: fast at first, slowing down): F(t) = (1 - e^{kt}) / (1 - e^{kI}),
  k = -0.519349 per year, the constant of FAO's EX-ACT web application.

EX-ACT variants. EX-ACT's workbook and its web application disagree when 20 < period <
implementation + 20, i.e. when the hectares adopted late have not finished their 20 years at the
end while the early ones have. We follow the web application (un-fao/exact-django-webapp,
``math_model/.../general_functions.py``: the area still in transition is the area adopted by t
minus the area adopted by t - 20, averaged over each year between its two ends): it is what Eq.
2.25 says for each hectare (its stock stops changing D years after its own change of state), and
for linear adoption its year-end averaging is exactly the integral above. The workbook's formula
was not available to us; a variant that caps the project as a whole instead of each hectare
would agree with this one whenever period <= 20 or period >= I + 20.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

EXACT_K = -0.519349  # per year, EX-ACT's exponential adoption constant


def adopted(t: NDArray[np.float64], implementation_years: int, adoption: str) -> NDArray[np.float64]:
    """F(t): the share of the area adopted by time ``t`` (years)."""
    n = implementation_years
    t = np.asarray(t, dtype=np.float64)
    if adoption == "immediate" or n == 0:
        return np.where(t >= 0, 1.0, 0.0)
    tc = np.clip(t, 0.0, float(n))
    if adoption == "linear":
        out = tc / n
    elif adoption == "exponential":
        out = (1.0 - np.exp(EXACT_K * tc)) / (1.0 - math.exp(EXACT_K * n))
    else:
        raise ValueError(f"unknown adoption {adoption!r}")
    return np.where(t >= 0, out, 0.0)


def cumulative(t: NDArray[np.float64], implementation_years: int, adoption: str) -> NDArray[np.float64]:
    """G(t) = integral of F from 0 to ``t`` (hectare-years per hectare), exact."""
    n = implementation_years
    t = np.maximum(np.asarray(t, dtype=np.float64), 0.0)
    if adoption == "immediate" or n == 0:
        return t
    tc = np.minimum(t, float(n))
    if adoption == "linear":
        inside = tc * tc / (2.0 * n)
    elif adoption == "exponential":
        inside = (tc - (np.exp(EXACT_K * tc) - 1.0) / EXACT_K) / (1.0 - math.exp(EXACT_K * n))
    else:
        raise ValueError(f"unknown adoption {adoption!r}")
    return inside + (t - tc)


def realised(t: NDArray[np.float64], d: int, implementation_years: int, adoption: str) -> NDArray[np.float64]:
    """Share of the full W -> P change realised by time ``t``: (G(t) - G(t - D)) / D."""
    t = np.asarray(t, dtype=np.float64)
    g = cumulative(t, implementation_years, adoption) - cumulative(t - d, implementation_years, adoption)
    return np.asarray(g / d, dtype=np.float64)


def trajectories(
    b: float, w: float, p: float, years: int, d: int, implementation_years: int, adoption: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-hectare stocks without and with the project at t = 0, 1, ..., years (t C/ha)."""
    t = np.arange(years + 1, dtype=np.float64)
    without = b + (w - b) * np.minimum(t, d) / d
    return without, without + (p - w) * realised(t, d, implementation_years, adoption)
