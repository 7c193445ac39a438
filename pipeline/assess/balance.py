"""The Tier 1 balance of one activity, exact per adoption cohort.

Eq. 2.25 gives each state an equilibrium stock SOC = SOC_REF * F_LU * F_MG * F_I (0-30 cm). A
change of state moves a hectare's stock linearly towards the new equilibrium over D = 20 years
(the IPCC default transition time): (SOC_new - SOC_old) / D per year for D years, then nothing.

States: B (baseline, today), W (without project, business as usual) and P (with project). The
whole area makes the B -> W transition at t = 0 (nothing when W = B). Adoption of P happens in
cohorts: cohort k, a share s_k of the area, changes W -> P at time a_k and its change runs over
[a_k, a_k + D] only - each hectare's change is capped at D years. Transitions superpose (IPCC's
inventory convention), so per hectare

    without(t) = B + (W - B) * min(t, D) / D
    with(t)    = without(t) + (P - W) * sum_k s_k * clip(t - a_k, 0, D) / D

and the balance is with - without. Cohorts (implementation phase of I years, annual steps):
- immediate (or I = 0): the whole area at t = 0;
- linear (default, as EX-ACT): s_k = 1/I at a_k = k, k = 0..I-1 (1/I of the area adopts at the
  start of each implementation year);
- exponential: cumulative adoption F(k) = (e^{r k/I} - 1) / (e^r - 1), r = 3 (slow start,
  accelerating: F(I/2) ~ 18 %), s_k = F(k+1) - F(k) at a_k = k.

EX-ACT variants. EX-ACT's workbook and its web application disagree when 20 < period <
implementation + 20, i.e. when late cohorts have not finished their 20 years by the end while
early ones have. A closed form "rate x area x (period - I/2), capped at 20 years of change"
caps the project as a whole; the per-cohort sum above caps each hectare. We follow the
per-cohort form: it is what Eq. 2.25 says for each hectare (a stock stops changing D years
after its own change of state), it is exact for any period, and it agrees with the closed form
whenever every cohort is either complete or has not reached D (period <= 20 or period >=
I + 20). Which of EX-ACT's two doors uses which form was not verified here (open work).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

EXP_RATE = 3.0


def cohorts(implementation_years: int, adoption: str) -> list[tuple[int, float]]:
    """(adoption time in years from the start, share of the area) per cohort; shares sum to 1."""
    n = implementation_years
    if adoption == "immediate" or n == 0:
        return [(0, 1.0)]
    if adoption == "linear":
        return [(k, 1.0 / n) for k in range(n)]
    if adoption == "exponential":
        cum = [(math.exp(EXP_RATE * k / n) - 1.0) / (math.exp(EXP_RATE) - 1.0) for k in range(n + 1)]
        return [(k, cum[k + 1] - cum[k]) for k in range(n)]
    raise ValueError(f"unknown adoption {adoption!r}")


def realised(cohort_list: list[tuple[int, float]], t: NDArray[np.float64], d: int) -> NDArray[np.float64]:
    """Share of the full W -> P change realised at times ``t`` (years), summed over cohorts."""
    out = np.zeros_like(t, dtype=np.float64)
    for a, s in cohort_list:
        out += s * np.clip(t - a, 0.0, d) / d
    return out


def adopted(cohort_list: list[tuple[int, float]], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Share of the area that has adopted the project by time ``t`` (start-of-year adoption)."""
    out = np.zeros_like(t, dtype=np.float64)
    for a, s in cohort_list:
        out += s * (t > a)
    return out


def trajectories(
    b: float, w: float, p: float, years: int, cohort_list: list[tuple[int, float]], d: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-hectare stocks without and with the project at t = 0, 1, ..., years (t C/ha)."""
    t = np.arange(years + 1, dtype=np.float64)
    without = b + (w - b) * np.minimum(t, d) / d
    return without, without + (p - w) * realised(cohort_list, t, d)
