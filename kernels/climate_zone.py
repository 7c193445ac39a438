"""IPCC climate zones from a monthly climatology (the ``climate_zone`` indicator, Tier 1 strata).

IPCC 2019 Refinement to the 2006 Guidelines, Vol. 4 Ch. 3 Annex 3A.5 (the scheme of the 2006
Guidelines, Figure 3A.5.2, unchanged in its thresholds): with MAT the mean annual temperature
(°C), MAP the annual precipitation (mm) and PET the annual potential evapotranspiration (mm),

- MAT > 18 °C: tropical; *montane* where elevation > 1000 m, otherwise *wet* (MAP > 2000 mm),
  *moist* (1000 < MAP <= 2000 mm) or *dry* (MAP <= 1000 mm);
- 10 < MAT <= 18 °C: warm temperate; 0 < MAT <= 10 °C: cool temperate;
- MAT <= 0 °C: boreal where some month is above 10 °C, otherwise polar;
- outside the tropics, *moist* where MAP / PET > 1, otherwise *dry* (PET = 0: moist).

Codes follow the order of :data:`ZONES` from 1; 0 marks a cell with any missing month. Without
an elevation (NaN), no tropical cell is called montane: the caller must say so.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels._validate import as_float_array
from kernels.errors import KernelInputError

ZONES = (
    "tropical_montane",
    "tropical_wet",
    "tropical_moist",
    "tropical_dry",
    "warm_temperate_moist",
    "warm_temperate_dry",
    "cool_temperate_moist",
    "cool_temperate_dry",
    "boreal_moist",
    "boreal_dry",
    "polar_moist",
    "polar_dry",
)
NODATA = 0
MONTANE_M = 1000.0


@nb.njit(parallel=True, cache=True, nogil=True)
def _zones(tas: np.ndarray, pr: np.ndarray, pet: np.ndarray, elev: np.ndarray, out: np.ndarray) -> None:
    months, n = tas.shape
    for i in nb.prange(n):
        t_sum = 0.0
        p_sum = 0.0
        e_sum = 0.0
        warm_month = False
        ok = True
        for m in range(months):
            t, p, e = tas[m, i], pr[m, i], pet[m, i]
            if not (np.isfinite(t) and np.isfinite(p) and np.isfinite(e)):
                ok = False
                break
            t_sum += t
            p_sum += p
            e_sum += e
            if t > 10.0:
                warm_month = True
        if not ok:
            out[i] = 0
            continue
        mat = t_sum / months
        moist = e_sum <= 0.0 or p_sum > e_sum
        if mat > 18.0:
            if elev[i] > 1000.0:
                out[i] = 1
            elif p_sum > 2000.0:
                out[i] = 2
            elif p_sum > 1000.0:
                out[i] = 3
            else:
                out[i] = 4
        elif mat > 10.0:
            out[i] = 5 if moist else 6
        elif mat > 0.0:
            out[i] = 7 if moist else 8
        elif warm_month:
            out[i] = 9 if moist else 10
        else:
            out[i] = 11 if moist else 12


def climate_zone(
    tas: ArrayLike, pr: ArrayLike, pet: ArrayLike, elevation: ArrayLike | None = None
) -> NDArray[np.uint8]:
    """IPCC climate zone codes (1-12, :data:`ZONES`; 0 = no data) of each cell.

    ``tas`` (°C), ``pr`` and ``pet`` (mm/month): 12 monthly means first, then any cell shape.
    ``elevation`` (m, the cells' shape) decides tropical montane; NaN or absent: not montane.
    """
    t = as_float_array("tas", tas)
    p = as_float_array("pr", pr)
    e = as_float_array("pet", pet)
    if t.ndim < 1 or t.shape[0] != 12:
        raise KernelInputError(
            f"tas: expected 12 monthly values first (shape (12, ...)), got shape {t.shape}. "
            "Pass the monthly climatology, months on the first axis."
        )
    for name, a in (("pr", p), ("pet", e)):
        if a.shape != t.shape:
            raise KernelInputError(f"{name}: expected the shape of tas {t.shape}, got {a.shape}.")
    cells = t.shape[1:]
    if elevation is None:
        z = np.full(cells, np.nan)
    else:
        z = as_float_array("elevation", elevation)
        if z.shape != cells:
            raise KernelInputError(f"elevation: expected the cells' shape {cells}, got {z.shape}.")
    with np.errstate(invalid="ignore"):
        if np.any(p < 0) or np.any(e < 0):
            raise KernelInputError("pr, pet: expected amounts >= 0 mm/month; got negative values.")
    n = int(np.prod(cells))
    out = np.empty(n, dtype=np.uint8)
    _zones(t.reshape(12, n), p.reshape(12, n), e.reshape(12, n), z.reshape(n), out)
    return out.reshape(cells)


def zone_name(code: int) -> str | None:
    """The vocabulary name of a code (None for no data)."""
    return ZONES[code - 1] if 1 <= code <= len(ZONES) else None
