"""``zonal_stats`` over a grid fed as strips of rows, bit for bit the whole-grid call.

``kernels.zonal.zonal_stats(values, cov, row_area, strata=..., n_chunks=k)`` splits the grid's
rows into ``k`` parts of ``ceil(ny / k)`` rows and its border cells into ``k`` parts of equal
counts, accumulates each part's cells in order into its own accumulator, then sums the parts in
order. ``StripZonal`` replays exactly those additions while the grid arrives top to bottom in
strips of any height: each strip's rows (and border cells) are added to the accumulators of the
parts they belong to, continuing where the previous strip stopped, with the same numba kernels.
So a caller holds one strip, never the grid, and gets the same float64 sums as the whole-grid
call (the SDG tables rely on it: ``pipeline.indicators.sdg_scratch``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from kernels.errors import KernelInputError
from kernels.zonal import MAX, MIN, STATS, Coverage, border_pass, combine_all, dense_strata, gather_values


def _empty(parts: int, n_regions: int, n_strata: int) -> NDArray[np.float64]:
    acc = np.zeros((parts, n_regions, n_strata + 1, len(STATS)))
    acc[..., MIN] = np.inf
    acc[..., MAX] = -np.inf
    return acc


class StripZonal:
    """Accumulates ``zonal_stats(values, coverage, row_area, strata=, n_strata=, minmax=,
    n_chunks=)`` (no ``nodata``, ``row_offset`` 0) strip by strip: ``add`` every strip in order,
    then ``total``."""

    def __init__(
        self, coverage: Coverage, row_area: NDArray[np.float64], n_strata: int, n_chunks: int, minmax: bool
    ) -> None:
        if not (0 < n_strata < 255) or n_chunks < 1:
            raise KernelInputError(
                f"n_strata, n_chunks: expected 1-254 and >= 1, got {n_strata}, {n_chunks}."
            )
        self.cov, self.n_strata, self.minmax = coverage, n_strata, minmax
        self.row_area = np.ascontiguousarray(row_area, dtype=np.float64)
        ny, nx = coverage.shape
        parts = max(1, min(n_chunks, ny))
        self.rows_per = (ny + parts - 1) // parts
        self.acc = _empty(parts, coverage.n_regions, n_strata)
        self.n_border = int(np.searchsorted(coverage.border_cell, ny * nx))
        b_parts = max(1, min(n_chunks, self.n_border))
        self.border_per = (self.n_border + b_parts - 1) // b_parts
        self.bacc = _empty(b_parts, coverage.n_regions, n_strata) if self.n_border else None
        self.next_row = 0

    def add(self, values: NDArray[Any], strata: NDArray[np.uint8]) -> None:
        """The next strip: rows ``next_row ..`` of the grid (2-D, full width)."""
        ny, nx = self.cov.shape
        v = np.ascontiguousarray(values)
        st = np.ascontiguousarray(strata)
        r0 = self.next_row
        r1 = r0 + v.shape[0]
        if v.ndim != 2 or v.shape[1] != nx or r1 > ny or st.shape != v.shape or st.dtype != np.uint8:
            raise KernelInputError(
                f"values: expected the next rows of the {ny} x {nx} grid from row {r0} with uint8 "
                f"strata of the same shape, got {v.shape} and {st.dtype} {st.shape}."
            )
        ra = np.ascontiguousarray(self.row_area[r0:r1])
        c = r0 // self.rows_per
        while c * self.rows_per < r1:
            a, b = max(r0, c * self.rows_per), min(r1, (c + 1) * self.rows_per)
            labels = np.ascontiguousarray(self.cov.labels[a:b])
            dense_strata(
                np.ascontiguousarray(v[a - r0 : b - r0]),
                labels,
                np.ascontiguousarray(st[a - r0 : b - r0]),
                self.n_strata,
                np.ascontiguousarray(ra[a - r0 : b - r0]),
                0.0,
                False,
                self.minmax,
                self.acc[c : c + 1],
            )
            c += 1
        if self.bacc is not None:
            lo, hi = (int(i) for i in np.searchsorted(self.cov.border_cell, [r0 * nx, r1 * nx]))
            rows, cols = self.cov.border_rc
            k = lo // self.border_per if hi > lo else 0
            while hi > lo and k * self.border_per < hi:
                a, b = max(lo, k * self.border_per), min(hi, (k + 1) * self.border_per)
                rb = np.ascontiguousarray(rows[a:b] - r0)
                cb = np.ascontiguousarray(cols[a:b])
                vals = np.empty(b - a, dtype=v.dtype)
                gather_values(v, rb, cb, vals)
                border_pass(
                    vals,
                    rb,
                    cb,
                    self.cov.border_region[a:b],
                    self.cov.border_frac[a:b],
                    st,
                    True,
                    self.n_strata,
                    ra,
                    0.0,
                    False,
                    self.bacc[k : k + 1],
                )
                k += 1
        self.next_row = r1

    def total(self) -> NDArray[np.float64]:
        """The accumulators (regions, n_strata + 1, stats): ``zonal_stats``' result."""
        if self.next_row != self.cov.shape[0]:
            raise KernelInputError(f"total: expected all {self.cov.shape[0]} rows, got {self.next_row}.")
        parts = self.acc if self.bacc is None else np.concatenate([self.acc, self.bacc])
        return combine_all(parts)


__all__ = ["StripZonal"]
