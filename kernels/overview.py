"""Coarser levels of a map for tiles: area-weighted block means and area-weighted block modes.

A level with factor ``f`` covers each block of ``f x f`` cells of the base grid with one cell
(blocks at the grid's right and bottom edges may be partial). The block value is

    mean:  sum(v * w) / sum(w)       over the block's valid cells, w = true cell area
    mode:  the class with the largest sum(w), ties to the smaller class code

so the area-weighted mean of a whole level, weighted by each block's valid area, equals the
base grid's area-weighted mean exactly (up to rounding): the pyramid never invents or loses
carbon. A plain 2x2 average (what image pyramids do) would weight a polar cell like an
equatorial one and shift regional means; nearest-neighbour decimation would drop 3/4 of the
data. Classes cannot be averaged, hence the mode.

Weights are built from the base grid directly for every level (not chained level to level),
so no rounding compounds through the pyramid.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels._validate import as_float_array
from kernels.errors import KernelInputError


@nb.njit(parallel=True, cache=True, nogil=True)
def _block_mean(v: np.ndarray, row_area: np.ndarray, f: int, out: np.ndarray, wout: np.ndarray) -> None:
    ny, nx = v.shape
    oy, ox = out.shape
    for by in nb.prange(oy):
        for bx in range(ox):
            num = 0.0
            den = 0.0
            for y in range(by * f, min(ny, (by + 1) * f)):
                a = row_area[y]
                for x in range(bx * f, min(nx, (bx + 1) * f)):
                    val = v[y, x]
                    if val == val:  # finite check that numba compiles to one compare
                        num += val * a
                        den += a
            wout[by, bx] = den
            out[by, bx] = num / den if den > 0.0 else np.nan


@nb.njit(parallel=True, cache=True, nogil=True)
def _block_mode(
    c: np.ndarray, row_area: np.ndarray, f: int, n_classes: int, nodata: int, out: np.ndarray
) -> None:
    ny, nx = c.shape
    oy, ox = out.shape
    for by in nb.prange(oy):
        w = np.zeros(n_classes)
        for bx in range(ox):
            w[:] = 0.0
            for y in range(by * f, min(ny, (by + 1) * f)):
                a = row_area[y]
                for x in range(bx * f, min(nx, (bx + 1) * f)):
                    k = c[y, x]
                    if k != nodata and k < n_classes:
                        w[k] += a
            best = nodata
            bw = 0.0
            for k in range(n_classes):
                if w[k] > bw:
                    bw = w[k]
                    best = k
            out[by, bx] = best


def _check(shape: tuple[int, ...], row_area: ArrayLike, factor: int) -> NDArray[np.float64]:
    if len(shape) != 2:
        raise KernelInputError(f"values: expected a 2-D grid, got shape {shape}.")
    if not (isinstance(factor, (int, np.integer)) and factor >= 1):
        raise KernelInputError(f"factor: expected a whole number >= 1, got {factor!r}.")
    ra = as_float_array("row_area", row_area)
    if ra.shape != (shape[0],):
        raise KernelInputError(f"row_area: expected one area per row ({shape[0]}), got {ra.shape}.")
    return np.ascontiguousarray(ra)


def block_mean(
    values: ArrayLike, row_area: ArrayLike, factor: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Area-weighted ``factor x factor`` block means of a 2-D grid (NaN = no data).

    Returns ``(means, valid_area)``, both of shape ``ceil(ny / factor), ceil(nx / factor)``;
    ``valid_area`` is the summed true area of each block's valid cells (units of ``row_area``).
    """
    v = as_float_array("values", values)
    ra = _check(v.shape, row_area, factor)
    shape = (-(-v.shape[0] // factor), -(-v.shape[1] // factor))
    out = np.empty(shape)
    wout = np.empty(shape)
    _block_mean(np.ascontiguousarray(v), ra, int(factor), out, wout)
    return out, wout


def block_mode(
    classes: ArrayLike, row_area: ArrayLike, factor: int, n_classes: int, nodata: int = 255
) -> NDArray[np.uint8]:
    """Area-weighted ``factor x factor`` block modes of a uint8 class grid (``nodata`` skipped;
    ties go to the smaller class; a block without data gets ``nodata``)."""
    c = np.asarray(classes)
    if c.dtype != np.uint8:
        raise KernelInputError(f"classes: expected uint8 class codes, got {c.dtype}.")
    ra = _check(c.shape, row_area, factor)
    if not (0 < n_classes <= 255 and 0 <= nodata <= 255):
        raise KernelInputError(f"n_classes/nodata: expected 1-255 and 0-255, got {n_classes}, {nodata}.")
    shape = (-(-c.shape[0] // factor), -(-c.shape[1] // factor))
    out = np.empty(shape, dtype=np.uint8)
    _block_mode(np.ascontiguousarray(c), ra, int(factor), int(n_classes), int(nodata), out)
    return out
