"""Zonal statistics with cached coverage: each reduction reads the values once.

A ``Coverage`` says how the cells of one grid belong to the regions of one set, computed once
per (grid, region set) by the pipeline (exact fractions from exactextract, or cell centres)
and reused for every epoch and variable:

- ``labels`` (ny, nx): the region index of every cell lying wholly inside exactly one region
  (the interior, almost all cells), -1 elsewhere;
- ``border_*``: (cell, region, fraction) triplets for every other covered cell: cells cut by
  a boundary, and cells of overlapping regions (custom sets may overlap).

The reduction streams the values and labels once (memory-bandwidth bound), then walks the
short border list. Accumulation is float64: a float32 sum over a large country drifts by
~6e-4 relative. Statistics per region and stratum, in ``STATS`` order:

count      sum of coverage fractions of valid cells (cells)
sum        sum of fraction * value
min, max   over cells with fraction > 0
area       sum of fraction * cell area of valid cells (m2)
area_sum   sum of fraction * cell area * value
area_total sum of fraction * cell area of all covered cells, valid or not (m2)

All but min and max are additive, so a parent's row is exactly the sum of its children's
(``rollup``): levels are consistent by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels._validate import as_float_array
from kernels.errors import KernelInputError

STATS = ("count", "sum", "min", "max", "area", "area_sum", "area_total")
COUNT, SUM, MIN, MAX, AREA, AREA_SUM, AREA_TOTAL = range(7)
NO_STRATUM = 255


@dataclass(frozen=True)
class Coverage:
    """Cells of one grid in the regions of one set (see the module docstring)."""

    shape: tuple[int, int]
    n_regions: int
    labels: NDArray[np.integer[Any]]
    border_cell: NDArray[np.int64]
    border_region: NDArray[np.int32]
    border_frac: NDArray[np.float64]

    def __post_init__(self) -> None:
        if self.labels.shape != self.shape:
            raise KernelInputError(f"labels: expected the grid shape {self.shape}, got {self.labels.shape}.")
        k = self.border_cell.shape
        if self.border_region.shape != k or self.border_frac.shape != k:
            raise KernelInputError("border_cell, border_region, border_frac: expected equal lengths.")
        if self.labels.dtype.kind != "i":
            raise KernelInputError(f"labels: expected a signed integer array, got {self.labels.dtype}.")

    @classmethod
    def from_labels(cls, labels: ArrayLike, n_regions: int) -> Coverage:
        """Cell-centre coverage: every cell belongs wholly to the region at its centre."""
        lab = np.ascontiguousarray(labels)
        if lab.ndim != 2:
            raise KernelInputError(f"labels: expected a 2-D grid, got shape {lab.shape}.")
        dtype = np.int16 if n_regions < 32767 else np.int32
        empty = np.empty(0)
        return cls(lab.shape, n_regions, lab.astype(dtype, copy=False),
                   empty.astype(np.int64), empty.astype(np.int32), empty)  # fmt: skip


@nb.njit(parallel=True, cache=True, nogil=True)
def _dense(
    values: np.ndarray,
    labels: np.ndarray,
    strata: np.ndarray,
    has_strata: bool,
    n_strata: int,
    row_area: np.ndarray,
    nodata: float,
    use_nodata: bool,
    acc: np.ndarray,
) -> None:
    n_chunks = acc.shape[0]
    ny, nx = values.shape
    rows_per = (ny + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        a = acc[c]
        for r in range(c * rows_per, min(ny, (c + 1) * rows_per)):
            area = row_area[r]
            for x in range(nx):
                lab = labels[r, x]
                if lab < 0:
                    continue
                s = n_strata
                if has_strata:
                    s = strata[r, x]
                    if s >= n_strata:
                        s = n_strata
                v = values[r, x]
                a[lab, s, AREA_TOTAL] += area
                if v != v or (use_nodata and v == nodata):
                    continue
                fv = np.float64(v)
                a[lab, s, COUNT] += 1.0
                a[lab, s, SUM] += fv
                a[lab, s, AREA] += area
                a[lab, s, AREA_SUM] += area * fv
                if fv < a[lab, s, MIN]:
                    a[lab, s, MIN] = fv
                if fv > a[lab, s, MAX]:
                    a[lab, s, MAX] = fv


@nb.njit(cache=True, nogil=True)
def _border(
    values: np.ndarray,
    cells: np.ndarray,
    regions: np.ndarray,
    fracs: np.ndarray,
    strata: np.ndarray,
    has_strata: bool,
    n_strata: int,
    row_area: np.ndarray,
    nodata: float,
    use_nodata: bool,
    a: np.ndarray,
) -> None:
    nx = values.shape[1]
    for k in range(cells.shape[0]):
        idx = cells[k]
        r = idx // nx
        x = idx - r * nx
        f = fracs[k]
        if f <= 0.0:
            continue
        lab = regions[k]
        s = n_strata
        if has_strata:
            s = strata[r, x]
            if s >= n_strata:
                s = n_strata
        area = row_area[r] * f
        a[lab, s, AREA_TOTAL] += area
        v = values[r, x]
        if v != v or (use_nodata and v == nodata):
            continue
        fv = np.float64(v)
        a[lab, s, COUNT] += f
        a[lab, s, SUM] += f * fv
        a[lab, s, AREA] += area
        a[lab, s, AREA_SUM] += area * fv
        if fv < a[lab, s, MIN]:
            a[lab, s, MIN] = fv
        if fv > a[lab, s, MAX]:
            a[lab, s, MAX] = fv


def empty_stats(n_regions: int, n_strata: int = 0) -> NDArray[np.float64]:
    """Accumulators (regions, strata + 1, stats) with min/max at their identities."""
    acc = np.zeros((n_regions, n_strata + 1, len(STATS)))
    acc[..., MIN] = np.inf
    acc[..., MAX] = -np.inf
    return acc


def combine(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Merge two partial accumulators (sums add, min/max combine)."""
    out = a + b
    out[..., MIN] = np.minimum(a[..., MIN], b[..., MIN])
    out[..., MAX] = np.maximum(a[..., MAX], b[..., MAX])
    return out


def zonal_stats(
    values: NDArray[Any],
    coverage: Coverage,
    row_area: ArrayLike,
    *,
    strata: NDArray[np.uint8] | None = None,
    n_strata: int = 0,
    nodata: float | None = None,
    row_offset: int = 0,
) -> NDArray[np.float64]:
    """Accumulated statistics (regions, n_strata + 1, len(STATS)) of a 2-D ``values`` grid.

    ``strata`` (uint8, same shape) assigns each cell a stratum 0..n_strata-1; any other value
    (e.g. 255) goes to the last slot, so summing over axis 1 gives "all cells". ``row_area``
    (ny,) holds true cell areas per row (``kernels.areas``). ``row_offset`` lets a block of
    rows of a larger grid be reduced on its own (the dask path): ``values`` are then rows
    ``row_offset ...`` of the coverage's grid.
    """
    v = np.asarray(values)
    if v.ndim != 2 or v.dtype.kind not in "iuf":
        raise KernelInputError(f"values: expected a 2-D numeric grid, got {v.dtype} {v.shape}.")
    ny, nx = v.shape
    if nx != coverage.shape[1] or row_offset < 0 or row_offset + ny > coverage.shape[0]:
        raise KernelInputError(
            f"values: expected rows of the coverage grid {coverage.shape}, got {v.shape} at row "
            f"offset {row_offset}. Compute the coverage on the same grid as the values."
        )
    areas = as_float_array("row_area", row_area)
    if areas.shape != (coverage.shape[0],):
        raise KernelInputError(
            f"row_area: expected one area per grid row ({coverage.shape[0]}), got {areas.shape}."
        )
    if strata is not None:
        st = np.asarray(strata)
        if st.shape != v.shape or st.dtype != np.uint8:
            raise KernelInputError(f"strata: expected uint8 of shape {v.shape}, got {st.dtype} {st.shape}.")
        if not (0 < n_strata < 255):
            raise KernelInputError(f"n_strata: expected 1-254 with strata, got {n_strata}.")
    else:
        st = np.zeros((1, 1), dtype=np.uint8)
        n_strata = 0
    labels = coverage.labels[row_offset : row_offset + ny]
    ra = np.ascontiguousarray(areas[row_offset : row_offset + ny])
    n_chunks = max(1, min(nb.get_num_threads() * 4, ny))
    acc = np.zeros((n_chunks, coverage.n_regions, n_strata + 1, len(STATS)))
    acc[..., MIN] = np.inf
    acc[..., MAX] = -np.inf
    use_nd = nodata is not None
    nd = float(nodata) if nodata is not None else 0.0
    vv = np.ascontiguousarray(v)
    _dense(vv, np.ascontiguousarray(labels), st, strata is not None, n_strata, ra, nd, use_nd, acc)
    total = acc[0]
    for c in range(1, n_chunks):
        total = combine(total, acc[c])
    if coverage.border_cell.size:
        lo, hi = np.searchsorted(coverage.border_cell, [row_offset * nx, (row_offset + ny) * nx])
        if hi > lo:
            cells = coverage.border_cell[lo:hi] - row_offset * nx
            _border(vv, cells, coverage.border_region[lo:hi], coverage.border_frac[lo:hi], st,
                    strata is not None, n_strata, ra, nd, use_nd, total)  # fmt: skip
    return total


def finalize(acc: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Named statistics from accumulators: the seven of ``STATS`` plus ``mean``, ``area_mean``
    (area-weighted) and ``valid_fraction`` (valid area / covered area). Empty cells give NaN."""
    out = {name: acc[..., i].copy() for i, name in enumerate(STATS)}
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean"] = out["sum"] / out["count"]
        out["area_mean"] = out["area_sum"] / out["area"]
        out["valid_fraction"] = out["area"] / out["area_total"]
    for k in ("min", "max"):
        out[k][~np.isfinite(out[k])] = np.nan
    return out


def rollup(acc: NDArray[np.float64], parent: ArrayLike, n_parents: int) -> NDArray[np.float64]:
    """Parents' accumulators as exact roll-ups of their children's.

    ``parent[i]`` is the parent index (0..n_parents-1) of child i, or -1 for none. Additive
    statistics are summed (in float64), min/max combined.
    """
    par = np.asarray(parent, dtype=np.int64)
    if par.shape != (acc.shape[0],):
        raise KernelInputError(
            f"parent: expected one parent index per child ({acc.shape[0]}), got {par.shape}."
        )
    if par.size and (par.max() >= n_parents or par.min() < -1):
        raise KernelInputError(f"parent: indices must lie in -1..{n_parents - 1}.")
    out = empty_stats(n_parents, acc.shape[1] - 1)
    ok = par >= 0
    add = [i for i in range(len(STATS)) if i not in (MIN, MAX)]
    for i in add:
        np.add.at(out[..., i], par[ok], acc[ok][..., i])
    np.minimum.at(out[..., MIN], par[ok], acc[ok][..., MIN])
    np.maximum.at(out[..., MAX], par[ok], acc[ok][..., MAX])
    return out
