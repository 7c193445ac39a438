"""Stock change, annualised rates and progress towards the "4 per 1000" target.

With S0 the baseline stock (t C/ha) at year t0 and S the stock at year t, dt = t - t0:

- change: ``S - S0`` (t C/ha);
- absolute rate: ``(S - S0) / dt`` (t C/ha/yr);
- relative rate: ``1000 * (S - S0) / (S0 * dt)`` (per mille per year, linear convention);
- ``progress_4p1000``, a ratio where 1 means "on target":
  * linear convention: the target path is S0 * (1 + 0.004 dt) (0.4 % of the *baseline* each
    year), so progress = ``(S - S0) / (0.004 * S0 * dt)``;
  * compound convention: the target path is S0 * 1.004**dt (0.4 % of the *current* stock each
    year), so progress = ``((S / S0)**(1 / dt) - 1) / 0.004``, the achieved annual compound
    growth rate over the target's.
  The two agree for small changes and differ by ~0.2 % per decade of accumulation; every
  output names its convention.

The baseline epoch itself (dt = 0) and non-positive baselines give NaN.
"""

from __future__ import annotations

from typing import Literal

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels._validate import as_float_array
from kernels.errors import KernelInputError

TARGET = 0.004
Convention = Literal["linear", "compound"]
CONVENTIONS: tuple[Convention, ...] = ("linear", "compound")


@nb.njit(parallel=True, cache=True, nogil=True)
def _rates(stock: np.ndarray, base: np.ndarray, dt: float, compound: bool, out: np.ndarray) -> None:
    # out rows: change, absolute rate, relative rate (per mille / yr), progress
    n = stock.shape[0]
    for i in nb.prange(n):
        s = stock[i]
        s0 = base[i]
        d = s - s0
        out[0, i] = d
        if dt == 0.0 or not (s0 > 0.0):
            out[1, i] = np.nan
            out[2, i] = np.nan
            out[3, i] = np.nan
            continue
        out[1, i] = d / dt
        out[2, i] = 1000.0 * d / (s0 * dt)
        if compound:
            ratio = s / s0
            out[3, i] = ((ratio ** (1.0 / dt)) - 1.0) / TARGET if ratio > 0 else np.nan
        else:
            out[3, i] = d / (TARGET * s0 * dt)


def change_and_rates(
    stock: ArrayLike,
    baseline: ArrayLike,
    years: float,
    convention: Convention = "linear",
) -> dict[str, NDArray[np.float64]]:
    """Change, absolute and relative rates and 4 per 1000 progress of ``stock`` against
    ``baseline`` over ``years`` (t - t0). Returns arrays of the pixel shape, keyed
    ``soc_stock_change``, ``soc_change_rate``, ``soc_change_rate_permille``, ``progress_4p1000``.
    """
    if convention not in CONVENTIONS:
        raise KernelInputError(f"convention: expected 'linear' or 'compound', got {convention!r}.")
    s = as_float_array("stock", stock)
    b = as_float_array("baseline", baseline)
    if s.shape != b.shape:
        raise KernelInputError(f"baseline: expected the shape of stock {s.shape}, got {b.shape}.")
    dt = float(years)
    if not np.isfinite(dt) or dt < 0:
        raise KernelInputError(f"years: expected the non-negative years since the baseline, got {years!r}.")
    out = np.empty((4, s.size))
    _rates(s.reshape(-1), b.reshape(-1), dt, convention == "compound", out)
    keys = ("soc_stock_change", "soc_change_rate", "soc_change_rate_permille", "progress_4p1000")
    return {k: out[i].reshape(s.shape) for i, k in enumerate(keys)}
