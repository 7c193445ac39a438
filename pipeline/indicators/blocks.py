"""The indicator job over blocks of rows: what one block computes, and how blocks are combined.

A block is a band of ``rows`` full-width rows of the grid, every new epoch of it: its maps (the
kernels are per pixel), its overview cells and its zonal accumulators. Memory is bounded by the
block, never by the grid: a block reads only its rows of the cube (and, for an incremental run,
of the older stocks), and the job writes each block's maps into the store as it arrives.

Why an explicit block loop and not ``dask.array.map_blocks`` over the cube: each block returns
three kinds of results at once (maps, overview cells, accumulators), its trend needs every
epoch of its rows, and the tables need the blocks' accumulators combined in a fixed order (see
below), which a dask reduction tree does not promise; a graph of 12 maps x epochs x levels of
tasks also cost more to schedule than the numba kernels take on a demo grid. So a block is one
plain task: run by a bounded thread pool by default (numba releases the GIL), or submitted to
an existing dask cluster (``--scheduler``), a bounded number in flight either way, and written
by the job as the results arrive in order.

Bit for bit whatever the block size: every result must equal a whole-grid run's.

- Maps: per pixel, so the same whatever block a cell falls in.
- Overviews: blocks start at multiples of the largest overview factor, so every overview cell
  is computed from one block, summing its cells in the same order.
- Tables: floating-point sums depend on their order, so the order is fixed by the grid alone.
  Rows are reduced in strips of ``STRIP`` rows (each strip with ``ZONAL_CHUNKS`` partial
  accumulators, independent of the machine's thread count), and strips are summed pairwise in
  the fixed binary tree over the grid's strips (padded to a power of two). A block holds
  ``2**k`` strips and starts at a multiple of them, so it is one node of that tree, and the job
  sums the blocks' nodes with the same tree: the same additions in the same order as one block
  covering the whole grid.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from kernels.zonal import Coverage, combine
from pipeline.indicators.maps import all_maps, epoch_maps, overview, trend_maps
from pipeline.indicators.tables import accumulated, leaf_accumulators, strata_map
from pipeline.store import INDICATORS, open_group, open_repo

STRIP = 16  # rows per zonal reduction
ZONAL_CHUNKS = 8  # partial accumulators per strip

Node = dict[str, list[np.ndarray]] | None  # accumulators by grid name, one per coverage


def block_rows(requested: int, factors: list[int]) -> int:
    """The block height: a power of two, at least ``requested``, ``STRIP`` and the largest
    overview factor (so blocks align with both the strips and the overview cells)."""
    need = max(requested, STRIP, *factors, 1)
    return 1 << (need - 1).bit_length()


def rows_of(cov: Coverage, r0: int, r1: int) -> Coverage:
    """The coverage of rows ``r0..r1`` as a coverage of its own (small enough to ship to a worker)."""
    nx = cov.shape[1]
    lo, hi = np.searchsorted(cov.border_cell, [r0 * nx, r1 * nx])
    return Coverage(
        (r1 - r0, nx),
        cov.n_regions,
        cov.labels[r0:r1],
        cov.border_cell[lo:hi] - r0 * nx,
        cov.border_region[lo:hi],
        cov.border_frac[lo:hi],
    )


def plus(a: Node, b: Node) -> Node:
    if a is None:
        return b
    if b is None:
        return a
    return {n: [combine(x, y) for x, y in zip(a[n], b[n], strict=True)] for n in a}


@dataclass
class PairwiseFold:
    """Sums leaves added in order over the binary tree of ``2**k`` slots (missing leaves are
    None), holding only one partial sum per level."""

    _stack: list[tuple[int, Node]] = field(default_factory=list)
    count: int = 0

    def add(self, node: Node) -> None:
        level = 0
        while self._stack and self._stack[-1][0] == level:
            node = plus(self._stack.pop()[1], node)
            level += 1
        self._stack.append((level, node))
        self.count += 1

    def total(self, slots: int) -> Node:
        """The sum over ``slots`` leaves (a power of two, at least the number added)."""
        while self.count < slots:
            self.add(None)
        assert len(self._stack) == 1, "slots must be a power of two"
        return self._stack[0][1]


@dataclass(frozen=True)
class BlockTask:
    store: str
    data_snap: str
    prior_snap: str | None  # the indicator commit holding the older epochs' stocks
    r0: int
    r1: int
    rows: int  # the block height (r1 - r0 but at the grid's bottom edge)
    new_epochs: tuple[int, ...]
    row_area: np.ndarray  # of rows r0..r1
    covs: tuple[Coverage, ...]  # of rows r0..r1
    factors: tuple[int, ...]


@dataclass
class BlockResult:
    r0: int
    r1: int
    maps: list[dict[str, np.ndarray]]  # per new epoch
    overviews: list[dict[int, dict[str, np.ndarray]]]  # per new epoch, by factor
    acc: list[Node]  # per new epoch: this block's node of the strip tree


@functools.lru_cache(maxsize=4)
def _inputs(store: str, snapshot: str) -> xr.Dataset:
    from pipeline.indicators.job import open_inputs

    return open_inputs(store, snapshot)


@functools.lru_cache(maxsize=4)
def _prior(store: str, snapshot: str) -> xr.Dataset:
    ds = open_group(open_repo(store).readonly_session(snapshot_id=snapshot), INDICATORS)
    assert ds is not None  # required=True raises instead
    return ds


def accumulate(t: BlockTask, maps: dict[str, np.ndarray], baseline: np.ndarray) -> Node:
    """This block's node of the strip tree (see the module docstring)."""
    values = accumulated(maps, baseline)
    strata = strata_map(maps["landcover"])
    fold = PairwiseFold()
    slots = t.rows // STRIP
    for s in range(slots):
        a, b = s * STRIP, min((s + 1) * STRIP, t.r1 - t.r0)
        if a >= b:
            fold.add(None)
            continue
        covs = [rows_of(c, a, b) for c in t.covs]
        ra = t.row_area[a:b]
        fold.add(
            {n: leaf_accumulators(covs, v[a:b], strata[a:b], ra, ZONAL_CHUNKS) for n, v in values.items()}
        )
    return fold.total(slots)


def compute_block(t: BlockTask) -> BlockResult:
    """Maps, overview cells and accumulators of every new epoch of one block."""
    cube = _inputs(t.store, t.data_snap).isel(y=slice(t.r0, t.r1))
    epochs = [int(e) for e in cube["epoch"].values]
    stocks: list[np.ndarray] = []
    if t.prior_snap is not None:
        old = _prior(t.store, t.prior_snap)["soc_stock"].isel(y=slice(t.r0, t.r1)).values
        stocks = [np.asarray(s) for s in old]
    out = BlockResult(t.r0, t.r1, [], [], [])
    for e in t.new_epochs:
        em = epoch_maps(cube, e)
        stocks.append(em.stock)
        done = epochs[: epochs.index(e) + 1]
        maps = all_maps(em, stocks[0], float(e - epochs[0]), trend_maps(stocks, done))
        out.maps.append(maps)
        out.overviews.append({f: overview(maps, t.row_area, f) for f in t.factors})
        out.acc.append(accumulate(t, {**maps, "landcover": em.landcover}, stocks[0]))
    return out
