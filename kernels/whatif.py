"""What-if maps: the IPCC Tier 1 SOC change of applying one practice to every cell of a class.

IPCC 2019 Refinement Vol. 4 Ch. 2 Eq. 2.25: a mineral soil's 0-30 cm stock in a state is
SOC = SOC_REF * F_LU * F_MG * F_I, reached linearly over D = 20 years. A practice moves a cell from
a "from" state (factor product ``F_from``) to a "to" state (``F_to``); both products depend on the
cell's climate zone. Per cell, with ``z`` its zone code (``kernels.climate_zone``: 1-12):

    reference = stock / F_from[z]     ("Tier 1 with measured reference": the cell's measured stock
                                        is taken to be the "from" state's stock), or
    reference = soc_ref[z]            (the IPCC default SOC_REF of the zone for one soil class),
    dSOC      = reference * (F_to[z] - F_from[z]) / D    (t C/ha/yr over the D years)

NaN where the practice does not apply: a land-cover code outside the class, a zone code without
both factors (NaN in the look-up: the tables do not define the state there, or no data), or no
reference (stock NaN or <= 0; SOC_REF NaN). The look-ups are small arrays indexed by zone code
(index 0 and codes past their end: not applicable), built by the caller from the IPCC tables; the
kernel holds no table. One pass: each input is read once and the output written once.

For speed the per-zone part is folded into one coefficient before the pass (measured:
(F_to - F_from) / (F_from * D), multiplied by the stock; default: SOC_REF * (F_to - F_from) / D),
and the look-ups span every uint8 code with NaN for "not applicable" (a single land-cover code is
a compare instead), so the loop has no branch and no division and LLVM vectorises it. It runs in
float32, the stock's and the output's type (the coefficient is rounded to float32 once: within
2e-7 relative of the float64 formula). A branchy float64 loop reached 0.18 of the memory-bandwidth
floor on mixed land cover, this one about 0.9 (tests/benchmarks/whatif.py, 8 M cells).
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels._validate import as_float_array
from kernels.errors import KernelInputError


# Four loops, one per case, each without a branch: the measured stock or the default reference,
# and one land-cover code (a compare) or several (a look-up, NaN outside the class).
@nb.njit(parallel=True, cache=True, nogil=True)
def _measured_one(
    zone: np.ndarray,
    stock: np.ndarray,
    landcover: np.ndarray,
    code: np.uint8,
    coef: np.ndarray,
    out: np.ndarray,
) -> None:
    nan = np.float32(np.nan)
    zero = np.float32(0.0)
    for i in nb.prange(out.shape[0]):
        s = stock[i]
        s = s if (s > zero) & (landcover[i] == code) else nan  # no stock (NaN or <= 0): no reference
        out[i] = s * coef[zone[i]]


@nb.njit(parallel=True, cache=True, nogil=True)
def _measured_any(
    zone: np.ndarray,
    stock: np.ndarray,
    landcover: np.ndarray,
    mask: np.ndarray,
    coef: np.ndarray,
    out: np.ndarray,
) -> None:
    nan = np.float32(np.nan)
    zero = np.float32(0.0)
    for i in nb.prange(out.shape[0]):
        s = stock[i]
        s = s if s > zero else nan
        out[i] = s * coef[zone[i]] * mask[landcover[i]]


@nb.njit(parallel=True, cache=True, nogil=True)
def _default_one(
    zone: np.ndarray, landcover: np.ndarray, code: np.uint8, base: np.ndarray, out: np.ndarray
) -> None:
    nan = np.float32(np.nan)
    for i in nb.prange(out.shape[0]):
        v = base[zone[i]]
        out[i] = v if landcover[i] == code else nan


@nb.njit(parallel=True, cache=True, nogil=True)
def _default_any(
    zone: np.ndarray, landcover: np.ndarray, mask: np.ndarray, base: np.ndarray, out: np.ndarray
) -> None:
    for i in nb.prange(out.shape[0]):
        out[i] = base[zone[i]] * mask[landcover[i]]


def _lookup(name: str, a: ArrayLike) -> NDArray[np.float64]:
    arr = as_float_array(name, a)
    if arr.ndim != 1 or arr.size < 2:
        raise KernelInputError(
            f"{name}: expected a 1-D look-up indexed by zone code (index 0 unused, codes 1..), got "
            f"shape {arr.shape}."
        )
    with np.errstate(invalid="ignore"):
        if np.any(arr <= 0):
            raise KernelInputError(f"{name}: expected factors/stocks > 0 or NaN (undefined), got {arr}.")
    return arr


def whatif_delta(
    zone: ArrayLike,
    stock: ArrayLike,
    landcover: ArrayLike,
    classes: ArrayLike,
    f_from: ArrayLike,
    f_to: ArrayLike,
    *,
    soc_ref: ArrayLike | None = None,
    years: float = 20.0,
    out: NDArray[np.float32] | None = None,
) -> NDArray[np.float32]:
    """Tier 1 dSOC (t C/ha/yr, float32, NaN where not applicable) of every cell (module docstring).

    ``zone``, ``landcover``: uint8 codes; ``stock``: float32 t C/ha (the same shape); ``classes``:
    the land-cover codes the practice is applied to; ``f_from``, ``f_to``: factor products by zone
    code (NaN: undefined); ``soc_ref``: default reference stocks by zone code, or None to use the
    measured ``stock`` as the "from" state's stock; ``years``: D; ``out``: a float32 buffer to
    reuse (the cells' shape)."""
    z, lc = np.asarray(zone), np.asarray(landcover)
    s = np.asarray(stock)
    for name, arr, dt in (("zone", z, np.uint8), ("landcover", lc, np.uint8), ("stock", s, np.float32)):
        if arr.dtype != dt:
            raise KernelInputError(f"{name}: expected {np.dtype(dt).name}, got {arr.dtype}.")
    if lc.shape != z.shape or s.shape != z.shape:
        raise KernelInputError(
            f"zone, stock, landcover: expected one shape, got {z.shape}, {s.shape}, {lc.shape}."
        )
    ff, ft = _lookup("f_from", f_from), _lookup("f_to", f_to)
    if ff.shape != ft.shape:
        raise KernelInputError(f"f_from, f_to: expected one length, got {ff.size} and {ft.size}.")
    ref = np.full(ff.shape, np.nan) if soc_ref is None else _lookup("soc_ref", soc_ref)
    if ref.shape != ff.shape:
        raise KernelInputError(f"soc_ref: expected the factors' length {ff.size}, got {ref.size}.")
    if not (np.isfinite(years) and years > 0):
        raise KernelInputError(f"years: expected a finite D > 0, got {years!r}.")
    codes = np.asarray(classes, dtype=np.int64).ravel()
    if np.any((codes < 0) | (codes > 255)):
        raise KernelInputError(f"classes: expected land-cover codes 0-255, got {codes.tolist()}.")
    # Look-ups over every uint8 code, so the loops need no bounds checks and no branches: NaN
    # marks "not applicable" and propagates through the products.
    mask = np.full(256, np.nan, dtype=np.float32)
    mask[codes] = 1.0
    nz = min(ff.size, 256)
    with np.errstate(invalid="ignore"):
        per_zone = (ft[:nz] - ff[:nz]) / float(years)  # dSOC per unit of reference
        coef = np.full(256, np.nan, dtype=np.float32)
        coef[1:nz] = (per_zone / ff[:nz])[1:] if soc_ref is None else (per_zone * ref[:nz])[1:]
    if out is None:
        buf = np.empty(z.shape, dtype=np.float32)
    else:
        if out.dtype != np.float32 or out.shape != z.shape or not out.flags.c_contiguous:
            raise KernelInputError(f"out: expected a C-contiguous float32 array of shape {z.shape}.")
        buf = out
    n = z.size
    zf, lf, of = np.ascontiguousarray(z).reshape(n), np.ascontiguousarray(lc).reshape(n), buf.reshape(n)
    one = np.unique(codes)
    if soc_ref is None:
        sf = np.ascontiguousarray(s).reshape(n)
        if one.size == 1:
            _measured_one(zf, sf, lf, np.uint8(one[0]), coef, of)
        else:
            _measured_any(zf, sf, lf, mask, coef, of)
    elif one.size == 1:
        _default_one(zf, lf, np.uint8(one[0]), coef, of)
    else:
        _default_any(zf, lf, mask, coef, of)
    return buf
