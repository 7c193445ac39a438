"""Soil health: the SOC / clay ratio and its classes.

Prout, J. M., Shepherd, K. D., McGrath, S. P., Kirk, G. J. D. & Haefele, S. M. (2021). What
is a good level of soil organic matter? An index based on organic carbon to clay ratios.
European Journal of Soil Science 72, 2493-2503. SOC (%) / clay (%) thresholds:
< 1/13 degraded, 1/13-1/10 moderate, 1/10-1/8 good, >= 1/8 very good. A ratio exactly on a
threshold belongs to the better class.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels._validate import as_float_array
from kernels.errors import KernelInputError

CLASSES = ("degraded", "moderate", "good", "very good")
THRESHOLDS = (1.0 / 13.0, 1.0 / 10.0, 1.0 / 8.0)
NODATA_CLASS = 255


@nb.njit(parallel=True, cache=True, nogil=True)
def _ratio_class(soc: np.ndarray, clay: np.ndarray, ratio: np.ndarray, cls: np.ndarray) -> None:
    t0, t1, t2 = 1.0 / 13.0, 1.0 / 10.0, 1.0 / 8.0
    for i in nb.prange(soc.shape[0]):
        c = clay[i]
        s = soc[i]
        if not (c > 0.0) or not (s >= 0.0):
            ratio[i] = np.nan
            cls[i] = 255
            continue
        r = (s / 10.0) / c  # SOC g/kg -> %
        ratio[i] = r
        cls[i] = 0 if r < t0 else (1 if r < t1 else (2 if r < t2 else 3))


def soc_clay_ratio(soc: ArrayLike, clay: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.uint8]]:
    """SOC (%) / clay (%) and its class (0 degraded ... 3 very good, 255 no data).

    ``soc`` in g/kg (canonical), ``clay`` in %. Pixels without clay or SOC give NaN / 255.
    """
    s = as_float_array("soc", soc)
    c = as_float_array("clay", clay)
    if s.shape != c.shape:
        raise KernelInputError(f"clay: expected the shape of soc {s.shape}, got {c.shape}.")
    with np.errstate(invalid="ignore"):
        if np.any(c > 100) or np.any(c < 0):
            raise KernelInputError(
                "clay: expected a percentage in [0, 100]; got values outside. Convert g/kg to % "
                "(divide by 10) first."
            )
    ratio = np.empty(s.size)
    cls = np.empty(s.size, dtype=np.uint8)
    _ratio_class(s.reshape(-1), c.reshape(-1), ratio, cls)
    return ratio.reshape(s.shape), cls.reshape(s.shape)
