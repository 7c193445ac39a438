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
from functools import cached_property
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

    @cached_property
    def runs(self) -> NDArray[np.int64]:
        """The interior as runs (row, x0, x1, region) of equal labels along rows, sorted by row.

        A country is thousands of cells wide, so a global grid has ~1e5 runs for ~1e8 cells:
        with them a reduction streams the values alone and never re-reads the labels.
        """
        n = _count_runs(self.labels)
        out = np.empty((n, 4), dtype=np.int64)
        _fill_runs(self.labels, out)
        return out

    def run_chunks(
        self, row_offset: int, ny: int, n_chunks: int
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The runs of rows [row_offset, row_offset + ny) and their split into about
        ``n_chunks`` pieces of equal cell counts (cached: the coverage is reused every epoch)."""
        cache: dict[tuple[int, int, int], Any] = self.__dict__.setdefault("_chunks", {})
        key = (row_offset, ny, n_chunks)
        if key not in cache:
            runs = self.runs
            lo, hi = np.searchsorted(runs[:, 0], [row_offset, row_offset + ny])
            block = runs[lo:hi]
            k = max(1, min(n_chunks, block.shape[0]))
            cells = np.cumsum(block[:, 2] - block[:, 1])
            total = int(cells[-1]) if cells.size else 0
            cuts = np.searchsorted(cells, np.linspace(0, total, k + 1)[1:-1], side="right")
            cache[key] = (block, np.concatenate([[0], cuts, [block.shape[0]]]).astype(np.int64))
        return cache[key]

    @cached_property
    def border_rc(self) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """Rows and columns of the border cells (no division in the reduction loop)."""
        r, c = np.divmod(self.border_cell, self.shape[1])
        return r.astype(np.int32), c.astype(np.int32)

    @classmethod
    def from_labels(cls, labels: ArrayLike, n_regions: int) -> Coverage:
        """Cell-centre coverage: every cell belongs wholly to the region at its centre."""
        lab = np.ascontiguousarray(labels)
        if lab.ndim != 2:
            raise KernelInputError(f"labels: expected a 2-D grid, got shape {lab.shape}.")
        dtype = np.int16 if n_regions < 32767 else np.int32
        empty = np.empty(0)
        return cls(
            lab.shape,
            n_regions,
            lab.astype(dtype, copy=False),
            empty.astype(np.int64),
            empty.astype(np.int32),
            empty,
        )


# Only reassociation-type flags: NaN checks must survive (no "nnan"), but the run reductions
# may be reordered so LLVM can vectorise them.
_FM = {"reassoc", "nsz", "contract", "arcp"}


@nb.njit(cache=True, nogil=True)
def _count_runs(labels: np.ndarray) -> int:
    ny, nx = labels.shape
    n = 0
    for r in range(ny):
        prev = -1
        for x in range(nx):
            lab = labels[r, x]
            if lab >= 0 and lab != prev:
                n += 1
            prev = lab
    return n


@nb.njit(cache=True, nogil=True)
def _fill_runs(labels: np.ndarray, out: np.ndarray) -> None:
    ny, nx = labels.shape
    k = 0
    for r in range(ny):
        x = 0
        while x < nx:
            lab = labels[r, x]
            x0 = x
            x += 1
            while x < nx and labels[r, x] == lab:
                x += 1
            if lab >= 0:
                out[k, 0] = r
                out[k, 1] = x0
                out[k, 2] = x
                out[k, 3] = lab
                k += 1


@nb.njit(cache=True, nogil=True, fastmath=_FM, inline="always")
def _reduce_sum(row: np.ndarray, x0: int, x1: int, nodata: float, use_nodata: bool) -> tuple[int, float]:
    # Branch-free body so LLVM vectorises it (~0.35 ns/cell); the nodata test is hoisted.
    cnt = 0
    tot = 0.0
    if use_nodata:
        for x in range(x0, x1):
            v = np.float64(row[x])
            ok = (v == v) & (v != nodata)
            cnt += int(ok)
            tot += v if ok else 0.0
    else:
        for x in range(x0, x1):
            v = np.float64(row[x])
            ok = v == v
            cnt += int(ok)
            tot += v if ok else 0.0
    return cnt, tot


@nb.njit(cache=True, nogil=True, fastmath=_FM, inline="always")
def _reduce_minmax(row: np.ndarray, x0: int, x1: int, nodata: float, use_nodata: bool) -> tuple[float, float]:
    # Separate and opt-in: a min/max reduction does not vectorise unless NaNs may be assumed
    # away ("nnan"), which they may not, and in the same loop it slows the sums threefold.
    mn = np.inf
    mx = -np.inf
    for x in range(x0, x1):
        v = np.float64(row[x])
        if use_nodata and v == nodata:
            continue
        mn = v if v < mn else mn  # NaN compares false: skipped without a test
        mx = v if v > mx else mx
    return mn, mx


@nb.njit(cache=True, nogil=True, inline="always")
def _reduce_run(
    row: np.ndarray, x0: int, x1: int, nodata: float, use_nodata: bool, minmax: bool
) -> tuple[int, float, float, float]:
    cnt, tot = _reduce_sum(row, x0, x1, nodata, use_nodata)
    if minmax and cnt > 0:
        mn, mx = _reduce_minmax(row, x0, x1, nodata, use_nodata)
        return cnt, tot, mn, mx
    return cnt, tot, np.inf, -np.inf


@nb.njit(cache=True, nogil=True, inline="always")
def _flush(
    a: np.ndarray, lab: int, s: int, area: float, n_all: int, cnt: int, tot: float, mn: float, mx: float
) -> None:
    a[lab, s, AREA_TOTAL] += area * n_all
    if cnt > 0:
        a[lab, s, COUNT] += cnt
        a[lab, s, SUM] += tot
        a[lab, s, AREA] += area * cnt
        a[lab, s, AREA_SUM] += area * tot
        if mn < a[lab, s, MIN]:
            a[lab, s, MIN] = mn
        if mx > a[lab, s, MAX]:
            a[lab, s, MAX] = mx


@nb.njit(parallel=True, cache=True, nogil=True, fastmath=_FM)
def _dense_runs(
    values: np.ndarray,
    runs: np.ndarray,
    bounds: np.ndarray,
    row_offset: int,
    n_strata: int,
    row_area: np.ndarray,
    nodata: float,
    use_nodata: bool,
    minmax: bool,
    acc: np.ndarray,
) -> None:
    # Interior without strata: stream the values run by run (the labels are not read again).
    # The simpler version, reading every label and updating the table per cell, was 3-5x
    # slower: it turned a streaming reduction into scattered read-modify-writes.
    for c in nb.prange(bounds.shape[0] - 1):
        a = acc[c]
        for k in range(bounds[c], bounds[c + 1]):
            r = runs[k, 0] - row_offset
            x0 = runs[k, 1]
            x1 = runs[k, 2]
            cnt, tot, mn, mx = _reduce_run(values[r], x0, x1, nodata, use_nodata, minmax)
            _flush(a, runs[k, 3], n_strata, row_area[r], x1 - x0, cnt, tot, mn, mx)


@nb.njit(parallel=True, cache=True, nogil=True, fastmath=_FM)
def dense_strata(
    values: np.ndarray,
    labels: np.ndarray,
    strata: np.ndarray,
    n_strata: int,
    row_area: np.ndarray,
    nodata: float,
    use_nodata: bool,
    minmax: bool,
    acc: np.ndarray,
) -> None:
    # With strata (land cover changes every epoch, so it cannot be cached): runs of equal
    # (label, stratum) are found on the fly, then reduced like the cached runs.
    n_chunks = acc.shape[0]
    ny, nx = values.shape
    rows_per = (ny + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        a = acc[c]
        for r in range(c * rows_per, min(ny, (c + 1) * rows_per)):
            lr = labels[r]
            sr = strata[r]
            x = 0
            while x < nx:
                lab = lr[x]
                st = min(sr[x], n_strata)
                x0 = x
                x += 1
                while x < nx and lr[x] == lab and min(sr[x], n_strata) == st:
                    x += 1
                if lab < 0:
                    continue
                cnt, tot, mn, mx = _reduce_run(values[r], x0, x, nodata, use_nodata, minmax)
                _flush(a, lab, st, row_area[r], x - x0, cnt, tot, mn, mx)


@nb.njit(parallel=True, cache=True, nogil=True)
def gather_values(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> None:
    # Independent loads only: the memory system keeps many of these scattered reads in flight,
    # which it cannot do when each read feeds a read-modify-write of the accumulators.
    for k in nb.prange(rows.shape[0]):
        out[k] = values[rows[k], cols[k]]


@nb.njit(parallel=True, cache=True, nogil=True)
def border_pass(
    vals: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    regions: np.ndarray,
    fracs: np.ndarray,
    strata: np.ndarray,
    has_strata: bool,
    n_strata: int,
    row_area: np.ndarray,
    nodata: float,
    use_nodata: bool,
    acc: np.ndarray,
) -> None:
    n_chunks = acc.shape[0]
    n = rows.shape[0]
    per = (n + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        a = acc[c]
        for k in range(c * per, min(n, (c + 1) * per)):
            f = fracs[k]
            if f <= 0.0:
                continue
            r = rows[k]
            lab = regions[k]
            s = min(strata[r, cols[k]], n_strata) if has_strata else n_strata
            area = row_area[r] * f
            a[lab, s, AREA_TOTAL] += area
            v = vals[k]
            if v != v or (use_nodata and v == nodata):
                continue
            a[lab, s, COUNT] += f
            a[lab, s, SUM] += f * v
            a[lab, s, AREA] += area
            a[lab, s, AREA_SUM] += area * v
            if v < a[lab, s, MIN]:
                a[lab, s, MIN] = v
            if v > a[lab, s, MAX]:
                a[lab, s, MAX] = v


def empty_stats(n_regions: int, n_strata: int = 0) -> NDArray[np.float64]:
    """Accumulators (regions, strata + 1, stats) with min/max at their identities."""
    acc = np.zeros((n_regions, n_strata + 1, len(STATS)))
    acc[..., MIN] = np.inf
    acc[..., MAX] = -np.inf
    return acc


def combine_all(parts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Merge partial accumulators stacked along axis 0."""
    out = parts.sum(axis=0)
    out[..., MIN] = parts[..., MIN].min(axis=0)
    out[..., MAX] = parts[..., MAX].max(axis=0)
    return out


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
    minmax: bool = True,
    n_chunks: int | None = None,
) -> NDArray[np.float64]:
    """Accumulated statistics (regions, n_strata + 1, len(STATS)) of a 2-D ``values`` grid.

    ``strata`` (uint8, same shape) assigns each cell a stratum 0..n_strata-1; any other value
    (e.g. 255) goes to the last slot, so summing over axis 1 gives "all cells". ``row_area``
    (ny,) holds true cell areas per row (``kernels.areas``). ``row_offset`` lets a block of
    rows of a larger grid be reduced on its own (the dask path): ``values`` are then rows
    ``row_offset ...`` of the coverage's grid. ``n_chunks``: how many partial accumulators the
    reduction splits the rows into (default 4 per numba thread); a fixed value makes the float64
    sums independent of the machine's thread count (the chunked indicator job relies on it).
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
    ra = np.ascontiguousarray(areas[row_offset : row_offset + ny])
    use_nd = nodata is not None
    nd = float(nodata) if nodata is not None else 0.0
    vv = np.ascontiguousarray(v)
    n_threads = nb.get_num_threads()
    if n_chunks is not None and n_chunks < 1:
        raise KernelInputError(f"n_chunks: expected at least 1, got {n_chunks}.")
    split = 4 * n_threads if n_chunks is None else int(n_chunks)
    if strata is None:
        block, bounds = coverage.run_chunks(row_offset, ny, split)
        acc = np.zeros((bounds.size - 1, coverage.n_regions, 1, len(STATS)))
        acc[..., MIN] = np.inf
        acc[..., MAX] = -np.inf
        _dense_runs(vv, block, bounds, row_offset, 0, ra, nd, use_nd, minmax, acc)
    else:
        parts = max(1, min(split, ny))
        acc = np.zeros((parts, coverage.n_regions, n_strata + 1, len(STATS)))
        acc[..., MIN] = np.inf
        acc[..., MAX] = -np.inf
        labels = np.ascontiguousarray(coverage.labels[row_offset : row_offset + ny])
        dense_strata(vv, labels, st, n_strata, ra, nd, use_nd, minmax, acc)
    if coverage.border_cell.size:
        lo, hi = np.searchsorted(coverage.border_cell, [row_offset * nx, (row_offset + ny) * nx])
        if hi > lo:
            rows, cols = coverage.border_rc
            r_b = rows[lo:hi] - row_offset if row_offset else rows[lo:hi]
            vals = np.empty(hi - lo, dtype=vv.dtype)
            gather_values(vv, r_b, cols[lo:hi], vals)
            bacc = np.zeros((max(1, min(split, hi - lo)), *acc.shape[1:]))
            bacc[..., MIN] = np.inf
            bacc[..., MAX] = -np.inf
            border_pass(
                vals,
                r_b,
                cols[lo:hi],
                coverage.border_region[lo:hi],
                coverage.border_frac[lo:hi],
                st,
                strata is not None,
                n_strata,
                ra,
                nd,
                use_nd,
                bacc,
            )
            acc = np.concatenate([acc, bacc])
    total = combine_all(acc)
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
