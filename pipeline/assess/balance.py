"""The Tier 1 balance of one activity, exact for a continuous adoption curve.

Eq. 2.25 gives each state an equilibrium stock SOC = SOC_REF * F_LU * F_MG * F_I (0-30 cm). A
change of state moves a hectare's stock linearly towards the new equilibrium over D = 20 years
(the IPCC default transition time): (SOC_new - SOC_old) / D per year for D years, then nothing.

States: B (baseline, today), W (without project, business as usual) and P (with project). Both
scenarios' changes of state follow the same adoption curve F(t) (share of the area changed by
time t, years from the start; F = 1 after the implementation phase of I years), as EX-ACT does
(its "Rate" of each scenario, linear by default): B -> W without the project, B -> P with it,
so that the balance is the W -> P change alone. Each hectare changed at time a moves over
[a, a + D] only: each hectare's change is capped at D years, so the area in transition at time t
is F(t) - F(t - D). Per hectare of the activity, with G(t) = integral of F from 0 to t and
R(t) = (G(t) - G(t - D)) / D the share of the change realised by t (G = 0 for t < 0):

    without(t) = B + (W - B) * R(t)
    with(t)    = B + (P - B) * R(t)      (= without(t) + (P - W) * R(t))

and the balance is with - without; a year's balance uses G at the year's two ends, so it is
exact (no time step). Adoption curves:
- immediate (or I = 0): F(t) = 1, R(t) = min(t, D) / D;
- linear (default, as EX-ACT): F(t) = t / I during implementation;
- exponential (EX-ACT's: fast at first, slowing down): F(t) = (1 - e^{kt}) / (1 - e^{kI}),
  k = -0.519349 per year, the constant of FAO's EX-ACT web application.

EX-ACT variants (checked against FAO's own files, un-fao/exact-django-webapp @ beb7fe10; facts
only, no code taken). The two EX-ACT implementations disagree when 20 < period < I + 20, i.e.
when the hectares adopted first have finished their 20 years at the end and the last ones have
not:
- the v9.4 workbook caps each hectare: in its saved example ``math_model/excel_reference_version/
  reference_version.xlsb`` (Kenya, tropical wet, sandy, I = 20, period 29, 100 ha of grassland
  from high intensity grazing to non-degraded, linear) sheet ``grass`` cell H34 holds the
  without-project soil flux -1431.558 t CO2 = -0.8433 t CO2/ha/yr x 100 ha x 16.975 years, and
  16.975 = G(29) - G(9) for F(t) = t/20: exactly R(t) above;
- the web application (``math_model/no_time_dependency_final/general_functions.py``,
  ``soil_emissions``) multiplies the yearly change by the area-years adopted, min(sum of the
  mid-year adopted area, 20 x area), i.e. it caps the project as a whole: 19 years there
  (29 - 20/2), -1602.3 t CO2, 12 % more; its per-year breakdown uses the per-hectare shape.
We follow the workbook: it is what Eq. 2.25 says for each hectare (a hectare's stock stops
changing D years after its own change of state), and the issue asks for exact cohorts. Outside
that range the variants agree (period <= 20: both sum G(t); period >= I + 20: all of it), and
``tests/pipeline/test_assess_exact.py`` reproduces the workbook's saved examples.
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
    share = realised(t, d, implementation_years, adoption)
    return b + (w - b) * share, b + (p - b) * share
