"""SOC stock (t C/ha) over a depth range from layered or point-depth soil properties.

Per layer l overlapping the range [d0, d1] cm by ``h_l`` cm:

    stock = sum_l soc_l [g/kg] * bdod_l [g/cm3] * (1 - cfvo_l) * h_l [cm] * 0.1

The factor 0.1 is the unit conversion that is easy to get wrong by ten:
g/kg * g/cm3 * cm = 1e-3 g C per cm2 = 1e-3 * 1e8 g/ha / 1e6 g/t ... = 0.1 t C/ha. The classic
check: 0.65 % C (6.5 g/kg), 1.45 g/cm3, 30 cm, no coarse fragments -> 28.3 t C/ha.

Inputs may be floats in canonical units or the integers a source stores (e.g. SoilGrids
int16 dg/kg, cg/cm3, cm3/dm3) together with their scale factors and nodata value: the
compiled loop decodes in registers, so nine int16 layers are read once and never expanded to
float arrays in memory (a 14400x7200 float64 copy per layer would cost more than the sum).
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels._validate import as_float_array, check_range
from kernels.errors import KernelInputError

STOCK_FACTOR = 0.1  # (g/kg)(g/cm3)(cm) -> t C/ha


@nb.njit(parallel=True, cache=True, nogil=True)
def _layered(
    soc: np.ndarray,
    bdod: np.ndarray,
    cfvo: np.ndarray,
    weights: np.ndarray,
    scales: np.ndarray,
    nodata: np.ndarray,
    use_nodata: bool,
    out: np.ndarray,
) -> None:
    n_layers, n = soc.shape
    s_soc, s_bd, s_cf = scales[0], scales[1], scales[2]
    for i in nb.prange(n):
        acc = 0.0
        for layer in range(n_layers):
            w = weights[layer]
            if w == 0.0:
                continue
            a = soc[layer, i]
            b = bdod[layer, i]
            c = cfvo[layer, i]
            if use_nodata and (a == nodata[0] or b == nodata[1] or c == nodata[2]):
                acc = np.nan
                break
            acc += (a * s_soc) * (b * s_bd) * (1.0 - c * s_cf) * w
        out[i] = acc


def layer_weights(
    top: ArrayLike, bottom: ArrayLike, depth_range: tuple[float, float] = (0.0, 30.0)
) -> NDArray[np.float64]:
    """Thickness (cm) of each layer inside ``depth_range``, times the 0.1 unit factor.

    Raises if the layers leave part of the range uncovered (a stock over 0-30 cm from layers
    that stop at 15 cm would silently be half a stock).
    """
    t = np.atleast_1d(as_float_array("depth_top", top))
    b = np.atleast_1d(as_float_array("depth_bottom", bottom))
    d0, d1 = (float(v) for v in depth_range)
    if t.shape != b.shape or t.ndim != 1:
        raise KernelInputError(
            f"depth_top/depth_bottom: expected two 1-D arrays of the same length, got "
            f"{t.shape} and {b.shape}."
        )
    if not (d1 > d0 >= 0):
        raise KernelInputError(f"depth_range: expected 0 <= top < bottom (cm), got {depth_range}.")
    if np.any(b <= t):
        raise KernelInputError(
            f"depth intervals: expected top < bottom for every layer, got {list(zip(t, b, strict=True))}."
        )
    overlap = np.clip(np.minimum(b, d1) - np.maximum(t, d0), 0.0, None)
    if abs(overlap.sum() - (d1 - d0)) > 1e-9:
        raise KernelInputError(
            f"depth_range {d0:g}-{d1:g} cm: the layers {list(zip(t.tolist(), b.tolist(), strict=True))} "
            f"cover {overlap.sum():g} cm of it. Expected layers that tile the range without "
            "gaps or overlaps; choose a range the source covers."
        )
    return np.asarray(overlap * STOCK_FACTOR)


def soc_stock(
    soc: ArrayLike,
    bdod: ArrayLike,
    cfvo: ArrayLike,
    depth_top: ArrayLike,
    depth_bottom: ArrayLike,
    depth_range: tuple[float, float] = (0.0, 30.0),
    *,
    scales: tuple[float, float, float] = (1.0, 1.0, 1.0),
    nodata: tuple[float, float, float] | None = None,
    out: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """SOC stock (t C/ha) over ``depth_range`` (cm) from layers along axis 0.

    Parameters
    ----------
    soc, bdod, cfvo
        Arrays of shape (layers, ...): organic carbon (g/kg), bulk density (g/cm3), coarse
        fragments (volume fraction 0-1), or stored integers decoded by ``scales``.
    depth_top, depth_bottom
        Layer limits in cm, shape (layers,). Partial overlaps with the range count by the
        overlapping thickness.
    scales
        Multipliers turning stored values into canonical units (e.g. SoilGrids
        ``(0.1, 0.01, 0.001)``).
    nodata
        Stored values meaning "no data" for (soc, bdod, cfvo); such pixels give NaN. NaN in float
        inputs propagates to NaN.
    out
        Preallocated float32 or float64 array of the pixel shape, reused across calls.

    Returns
    -------
    The stock, shape ``soc.shape[1:]``.
    """
    arrays = [np.asarray(a) for a in (soc, bdod, cfvo)]
    for name, arr in zip(("soc", "bdod", "cfvo"), arrays, strict=True):
        if arr.ndim < 1 or arr.shape != arrays[0].shape:
            raise KernelInputError(
                f"{name}: expected shape {arrays[0].shape} (layers first) like soc, got {arr.shape}."
            )
        if arr.dtype.kind not in "iuf":
            raise KernelInputError(f"{name}: expected a numeric array, got dtype {arr.dtype}.")
    w = layer_weights(depth_top, depth_bottom, depth_range)
    if w.shape[0] != arrays[0].shape[0]:
        raise KernelInputError(
            f"depth intervals: {w.shape[0]} layers given, but soc has {arrays[0].shape[0]} along "
            "axis 0. Give one (top, bottom) per layer."
        )
    sc = as_float_array("scales", scales)
    check_range("scales", sc, 0.0, None)
    pixel_shape = arrays[0].shape[1:]
    flat = [np.ascontiguousarray(a.reshape(a.shape[0], -1)) for a in arrays]
    if out is None:
        out = np.empty(pixel_shape, dtype=np.float32 if flat[0].dtype.itemsize <= 4 else np.float64)
    if out.shape != pixel_shape or out.dtype not in (np.float32, np.float64) or not out.flags.c_contiguous:
        raise KernelInputError(
            f"out: expected a C-contiguous float32/float64 array of shape {pixel_shape}, got "
            f"{out.dtype} {out.shape}."
        )
    nd = np.zeros(3) if nodata is None else as_float_array("nodata", nodata)
    _layered(flat[0], flat[1], flat[2], w, sc, nd, nodata is not None, out.reshape(-1))
    return out


def soc_stock_points(
    soc: ArrayLike,
    bdod: ArrayLike,
    cfvo: ArrayLike,
    depths: ArrayLike,
    depth_range: tuple[float, float] = (0.0, 30.0),
) -> NDArray[np.float64]:
    """SOC stock (t C/ha) from properties at point depths (e.g. OpenLandMap 0, 10, 30 cm).

    The carbon density ``soc * bdod * (1 - cfvo)`` is taken as linear between the points and
    integrated over ``depth_range`` by the trapezoidal rule (exact for a piecewise-linear
    profile; at a range limit between two points the density is interpolated there).
    """
    z = np.atleast_1d(as_float_array("depths", depths))
    if z.ndim != 1 or z.shape[0] < 2 or np.any(np.diff(z) <= 0):
        raise KernelInputError(f"depths: expected at least two increasing depths in cm, got {z.tolist()}.")
    d0, d1 = (float(v) for v in depth_range)
    if not (z[0] <= d0 < d1 <= z[-1]):
        raise KernelInputError(
            f"depth_range {d0:g}-{d1:g} cm lies outside the measured depths {z.tolist()} cm; "
            "point data cannot be extrapolated. Choose a range within them."
        )
    s, b, c = (as_float_array(n, v) for n, v in (("soc", soc), ("bdod", bdod), ("cfvo", cfvo)))
    if not (s.shape == b.shape == c.shape) or s.shape[0] != z.shape[0]:
        raise KernelInputError(
            f"soc/bdod/cfvo: expected shape ({z.shape[0]}, ...) each (one slice per depth), got "
            f"{s.shape}, {b.shape}, {c.shape}."
        )
    dens = s * b * (1.0 - c)  # (points, ...)
    # Sample the density at the range limits and every point strictly inside, then trapezoids.
    knots = np.unique(np.concatenate([[d0, d1], z[(z > d0) & (z < d1)]]))
    flat = dens.reshape(dens.shape[0], -1)
    at = np.stack([np.array([np.interp(k, z, col) for col in flat.T]) for k in knots])
    total = np.trapezoid(at, knots, axis=0) * STOCK_FACTOR
    return np.asarray(total.reshape(dens.shape[1:]))


def stock_bounds(
    soc_low: ArrayLike,
    soc_high: ArrayLike,
    bdod: ArrayLike,
    cfvo: ArrayLike,
    depth_top: ArrayLike,
    depth_bottom: ArrayLike,
    depth_range: tuple[float, float] = (0.0, 30.0),
    **kwargs: Any,
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Stock bounds from the quantiles of SOC (e.g. q05 and q95), bulk density and coarse
    fragments held at their means (the sources publish quantiles for SOC only).

    Carrying them to regional totals: the observatory sums the pixel bounds (area-weighted),
    i.e. it assumes the errors are fully correlated within a region. This is conservative
    (independent errors would shrink as 1/sqrt(n), which spatially correlated map errors do
    not) and it rolls up exactly, since a parent's bound is the sum of its children's.
    """
    lo = soc_stock(soc_low, bdod, cfvo, depth_top, depth_bottom, depth_range, **kwargs)
    hi = soc_stock(soc_high, bdod, cfvo, depth_top, depth_bottom, depth_range, **kwargs)
    return lo, hi
