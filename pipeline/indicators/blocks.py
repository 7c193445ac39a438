"""The indicator job over 2-D tiles: what one tile computes, and how tiles are combined.

A tile is a window of rows x columns of the grid (powers of two, aligned to multiples of its
size, so to the cube's chunks), every new epoch of it: its maps (the kernels are per pixel), its
overview cells and its zonal accumulators. Memory is bounded by the tile, never by the grid: a
tile reads only its window of the cube (and, for an incremental run, of the older stocks), the
region coverage of that window only, and the job writes each tile's maps into the store as it
arrives.

Why an explicit tile loop and not ``dask.array.map_blocks`` over the cube: each tile returns
three kinds of results at once (maps, overview cells, accumulators), its trend needs every
epoch of its window, and the tables need the tiles' accumulators combined in a fixed order (see
below), which a dask reduction tree does not promise; a graph of 12 maps x epochs x levels of
tasks also cost more to schedule than the numba kernels take on a demo grid. So a tile is one
plain task: run by a bounded thread pool by default (numba releases the GIL), or submitted to
an existing dask cluster (``--scheduler``), a bounded number in flight either way, and written
by the job as the results arrive in order (tile rows top to bottom, left to right).

Bit for bit whatever the tile size: every result must equal a one-tile run's.

- Maps: per pixel, so the same whatever tile a cell falls in.
- Overviews: tiles start at multiples of the largest overview factor in both directions, so
  every overview cell is computed from one tile, summing its cells in the same order.
- Tables: floating-point sums depend on their order, so the order is fixed by the grid alone.
  The grid is cut into leaves of ``STRIP`` rows x ``LEAF_COLS`` columns, each reduced with
  ``ZONAL_CHUNKS`` partial accumulators (independent of the machine's thread count). Within a
  strip (a row of leaves) the leaves are summed pairwise over the fixed binary tree of the
  grid's leaf columns (padded to a power of two); the strips' sums are then summed pairwise over
  the binary tree of the grid's strips. A tile holds ``2**a`` strips x ``2**b`` leaf columns and
  starts at a multiple of them, so for each of its strips it returns one node of that strip's
  column tree; the job folds those nodes across a row of tiles, then the strips down the grid:
  the same additions in the same order as one tile covering the whole grid.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from kernels.zonal import Coverage, combine
from pipeline.indicators.inputs import Inputs, open_inputs
from pipeline.indicators.maps import all_maps, epoch_maps, overview, trend_maps
from pipeline.indicators.tables import accumulated, leaf_accumulators, strata_map
from pipeline.regions.zonal import label_window
from pipeline.store import INDICATORS, open_group, open_repo

STRIP = 64  # rows of a zonal leaf
LEAF_COLS = 256  # columns of a zonal leaf
ZONAL_CHUNKS = 8  # partial accumulators per leaf

Node = dict[str, list[np.ndarray]] | None  # accumulators by grid name, one per coverage


def _pow2(n: int) -> int:
    return 1 << (max(n, 1) - 1).bit_length()


def tile_shape(requested: int, factors: list[int]) -> tuple[int, int]:
    """The tile's (rows, columns): powers of two, at least ``requested`` and the largest overview
    factor (so tiles align with the overview cells), and whole leaves (``STRIP`` x ``LEAF_COLS``)."""
    side = _pow2(max(requested, *factors, 1))
    return max(side, STRIP), max(side, LEAF_COLS)


def window_of(cov: Coverage, r0: int, r1: int, c0: int, c1: int) -> Coverage:
    """The coverage of rows ``r0..r1`` x columns ``c0..c1`` as a coverage of its own (small
    enough to ship to a worker); its border cells keep their order (row-major either way)."""
    nx = cov.shape[1]
    lo, hi = np.searchsorted(cov.border_cell, [r0 * nx, r1 * nx])
    r, c = np.divmod(cov.border_cell[lo:hi], nx)
    keep = (c >= c0) & (c < c1)
    w = c1 - c0
    return Coverage(
        (r1 - r0, w),
        cov.n_regions,
        label_window(cov, r0, r1, c0, c1),
        ((r[keep] - r0) * w + (c[keep] - c0)).astype(np.int64),
        cov.border_region[lo:hi][keep],
        cov.border_frac[lo:hi][keep],
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


@dataclass
class TableFold:
    """The tiles' accumulators of one epoch folded in the grid's fixed order (see the module
    docstring): across a row of tiles per strip, then down the strips."""

    col_slots: int
    strips: list[PairwiseFold] = field(default_factory=list)
    down: PairwiseFold = field(default_factory=PairwiseFold)

    def add(self, nodes: list[Node], last_in_row: bool) -> None:
        if not self.strips:
            self.strips = [PairwiseFold() for _ in nodes]
        for fold, node in zip(self.strips, nodes, strict=True):
            fold.add(node)
        if last_in_row:
            for fold in self.strips:
                self.down.add(fold.total(self.col_slots))
            self.strips = []


@dataclass(frozen=True)
class BlockTask:
    """One tile: rows ``r0..r1`` x columns ``c0..c1`` (``rows`` x ``cols`` but at the grid's
    bottom and right edges)."""

    store: str
    data_snap: str
    prior_snap: str | None  # the indicator commit holding the older epochs' stocks
    r0: int
    r1: int
    c0: int
    c1: int
    rows: int
    cols: int
    new_epochs: tuple[int, ...]
    row_area: np.ndarray  # of rows r0..r1
    covs: tuple[Coverage, ...]  # of the tile's window
    factors: tuple[int, ...]
    inputs: Inputs | None = None  # what the cube has (None: the full set)


@dataclass
class BlockResult:
    r0: int
    r1: int
    c0: int
    c1: int
    maps: list[dict[str, np.ndarray]]  # per new epoch
    overviews: list[dict[int, dict[str, np.ndarray]]]  # per new epoch, by factor
    acc: list[list[Node]]  # per new epoch, per strip: this tile's node of the strip's column tree


@functools.lru_cache(maxsize=4)
def _inputs(store: str, snapshot: str) -> xr.Dataset:
    return open_inputs(store, snapshot)


@functools.lru_cache(maxsize=4)
def _prior(store: str, snapshot: str) -> xr.Dataset:
    ds = open_group(open_repo(store).readonly_session(snapshot_id=snapshot), INDICATORS)
    assert ds is not None  # required=True raises instead
    return ds


def accumulate(t: BlockTask, maps: dict[str, np.ndarray], baseline: np.ndarray) -> list[Node]:
    """Per strip of the tile, its node of the strip's column tree (see the module docstring)."""
    values = accumulated(maps, baseline)
    strata = strata_map(maps["landcover"])
    ny, nx = t.r1 - t.r0, t.c1 - t.c0
    out: list[Node] = []
    for s in range(t.rows // STRIP):
        a, b = s * STRIP, min((s + 1) * STRIP, ny)
        fold = PairwiseFold()
        for j in range(t.cols // LEAF_COLS):
            c, d = j * LEAF_COLS, min((j + 1) * LEAF_COLS, nx)
            if a >= b or c >= d:
                fold.add(None)
                continue
            covs = [window_of(cv, a, b, c, d) for cv in t.covs]
            ra, st = t.row_area[a:b], strata[a:b, c:d]
            fold.add(
                {n: leaf_accumulators(covs, v[a:b, c:d], st, ra, ZONAL_CHUNKS) for n, v in values.items()}
            )
        out.append(fold.total(t.cols // LEAF_COLS))
    return out


def compute_block(t: BlockTask) -> BlockResult:
    """Maps, overview cells and accumulators of every new epoch of one tile."""
    window = {"y": slice(t.r0, t.r1), "x": slice(t.c0, t.c1)}
    cube = _inputs(t.store, t.data_snap).isel(window)
    epochs = [int(e) for e in cube["epoch"].values]
    stocks: list[np.ndarray] = []
    if t.prior_snap is not None:
        old = _prior(t.store, t.prior_snap)["soc_stock"].isel(window).values
        stocks = [np.asarray(s) for s in old]
    out = BlockResult(t.r0, t.r1, t.c0, t.c1, [], [], [])
    for e in t.new_epochs:
        em = epoch_maps(cube, e, t.inputs)
        stocks.append(em.stock)
        done = epochs[: epochs.index(e) + 1]
        changes = t.inputs is None or t.inputs.changes
        trend = trend_maps(stocks, done) if changes else trend_maps(stocks[:1], done[:1])  # NaN
        maps = all_maps(em, stocks[0], float(e - epochs[0]), trend, changes)
        out.maps.append(maps)
        out.overviews.append({f: overview(maps, t.row_area, f) for f in t.factors})
        out.acc.append(accumulate(t, {**maps, "landcover": em.landcover}, stocks[0]))
    return out
