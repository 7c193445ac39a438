"""The pieces of the tiled indicator job on their own: the fixed summation tree (any tile shape
gives the same bits), coverage windows (they partition the grid's coverage) and the coverage
computed band by band (the same entries as one pass, its label raster memory-mapped)."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from kernels.zonal import AREA, COUNT, Coverage, combine, zonal_stats
from pipeline.grid import Grid
from pipeline.indicators.blocks import LEAF_COLS, STRIP, Node, PairwiseFold, TableFold, tile_shape, window_of
from pipeline.regions import zonal as rz
from pipeline.regions.hierarchy import load_regions


def _leaves(n_strips: int, n_cols: int, seed: int = 3) -> list[list[Node]]:
    """Random accumulators per leaf (strip, leaf column): values of very different magnitudes, so
    any change in the order of the float64 sums changes the bits."""
    rng = np.random.default_rng(seed)
    out: list[list[Node]] = []
    for _ in range(n_strips):
        row: list[Node] = []
        for _ in range(n_cols):
            a = rng.random((5, 4, 7)) * 10.0 ** rng.integers(-8, 9, (5, 4, 7))
            row.append({"v": [a]})
        out.append(row)
    return out


def _fold_tiles(leaves: list[list[Node]], ts: int, tc: int) -> np.ndarray:
    """What the job computes with tiles of ``ts`` strips x ``tc`` leaf columns (powers of two)."""
    n_strips, n_cols = len(leaves), len(leaves[0])
    tiles_y, tiles_x = -(-n_strips // ts), -(-n_cols // tc)
    fold = TableFold(1 << (tiles_x - 1).bit_length())
    for ty in range(tiles_y):
        for tx in range(tiles_x):
            nodes: list[Node] = []
            for s in range(ty * ts, (ty + 1) * ts):
                f = PairwiseFold()
                for j in range(tx * tc, (tx + 1) * tc):
                    f.add(leaves[s][j] if s < n_strips and j < n_cols else None)
                nodes.append(f.total(tc))
            fold.add(nodes, tx == tiles_x - 1)
    total = fold.down.total(1 << (tiles_y * ts - 1).bit_length())
    assert total is not None
    return total["v"][0]


def test_any_tile_shape_sums_the_leaves_in_the_same_order():
    leaves = _leaves(7, 5)  # neither a power of two: padded slots on both axes
    one = _fold_tiles(leaves, 8, 8)  # one tile covers everything
    shapes = [(1, 1), (2, 1), (1, 4), (4, 2), (2, 8), (8, 1)]
    for ts, tc in shapes:
        assert np.array_equal(_fold_tiles(leaves, ts, tc), one), (ts, tc)
    # the order matters at all: summing the leaves column-major instead changes the bits
    arrays = [[node["v"][0] for node in row if node is not None] for row in leaves]
    flat = None
    for j in range(5):
        for s in range(7):
            flat = arrays[s][j] if flat is None else combine(flat, arrays[s][j])
    assert flat is not None and not np.array_equal(flat, one)
    np.testing.assert_allclose(flat, one, rtol=1e-12)


def test_tile_shape_is_whole_leaves_and_overview_cells():
    assert tile_shape(16, [2]) == (STRIP, LEAF_COLS)
    assert tile_shape(512, [2, 4, 8]) == (512, 512)
    assert tile_shape(300, [2]) == (512, 512)  # a power of two
    assert tile_shape(16, [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]) == (1024, 1024)


def test_windows_partition_the_coverage():
    rng = np.random.default_rng(5)
    shape = (37, 53)
    labels = rng.integers(-1, 6, shape).astype(np.int16)
    cells = np.sort(rng.choice(shape[0] * shape[1], 200, replace=False)).astype(np.int64)
    labels.reshape(-1)[cells] = -1
    cov = Coverage(shape, 6, labels, cells, rng.integers(0, 6, 200).astype(np.int32), rng.random(200))
    values = rng.random(shape).astype(np.float32)
    area = 1.0 + rng.random(shape[0])
    whole = zonal_stats(values, cov, area)
    parts = None
    n_border = 0
    for r0 in range(0, shape[0], 16):
        for c0 in range(0, shape[1], 32):
            r1, c1 = min(shape[0], r0 + 16), min(shape[1], c0 + 32)
            w = window_of(cov, r0, r1, c0, c1)
            n_border += w.border_cell.size
            np.testing.assert_array_equal(w.labels, labels[r0:r1, c0:c1])
            rr, cc = np.divmod(w.border_cell, c1 - c0)
            assert np.all(np.diff(w.border_cell) > 0)  # still sorted
            np.testing.assert_array_equal(
                (rr + r0) * shape[1] + cc + c0, cells[np.isin(cells, (rr + r0) * shape[1] + cc + c0)]
            )
            acc = zonal_stats(values[r0:r1, c0:c1], w, area[r0:r1])
            parts = acc if parts is None else combine(parts, acc)
    assert n_border == cells.size
    assert parts is not None
    np.testing.assert_allclose(parts[..., [COUNT, AREA]], whole[..., [COUNT, AREA]], rtol=1e-12)


@pytest.fixture(scope="module")
def southern_africa():
    r = load_regions()
    ids = ["BWA", "LSO", "NAM", "SWZ", "ZAF", "ZWE"]
    return r[r.region_id.isin(ids)].reset_index(drop=True)


def test_coverage_band_by_band_equals_one_pass(southern_africa, tmp_path, monkeypatch):
    res = 0.25
    grid = Grid(Affine(res, 0, 10.0, 0, -res, -15.0), (int(20 / res), int(25 / res)), CRS.from_epsg(4326))
    one = rz.coverage_from_entries(*rz.exact_entries(southern_africa, grid), grid.shape, len(southern_africa))
    monkeypatch.setattr(rz, "BAND_CELLS", 7 * grid.shape[1])  # bands of 7 rows, the last one short
    path = tmp_path / "cov.npz"
    banded = rz.exact_coverage(southern_africa, grid, rz.labels_path(path))
    assert isinstance(banded.labels, np.memmap)  # the label raster is not held in memory
    assert (banded.labels >= 0).sum() > 1000 and banded.border_cell.size > 100
    np.testing.assert_array_equal(np.asarray(banded.labels), one.labels)
    for name in ("border_cell", "border_region", "border_frac"):
        np.testing.assert_array_equal(getattr(banded, name), getattr(one, name), err_msg=name)
    rz.save_coverage(path, banded)
    again = rz.load_coverage(path, grid)
    assert isinstance(again.labels, np.memmap)
    np.testing.assert_array_equal(rz.label_window(again, 9, 40, 17, 61), one.labels[9:40, 17:61])
    in_memory = rz.exact_coverage(southern_africa, grid)  # without a file: the same, in memory
    assert not isinstance(in_memory.labels, np.memmap)
    np.testing.assert_array_equal(in_memory.labels, one.labels)
