"""``StripZonal`` (strips of rows) equals ``zonal_stats`` over the whole grid, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.errors import KernelInputError
from kernels.zonal import Coverage, zonal_stats
from kernels.zonal_strips import StripZonal


def _coverage(rng: np.random.Generator, ny: int, nx: int, n_regions: int, border: bool) -> Coverage:
    labels = rng.integers(-1, n_regions, (ny, nx)).astype(np.int16)
    labels[:, nx // 3 : nx // 2] = 1  # long runs, as real regions have
    cells = np.flatnonzero(labels.reshape(-1) == -1) if border else np.empty(0, np.int64)
    cells = np.sort(np.concatenate([cells, cells[::3]])).astype(np.int64)  # some cells in two regions
    return Coverage(
        (ny, nx),
        n_regions,
        labels,
        cells,
        rng.integers(0, n_regions, cells.size).astype(np.int32),
        rng.uniform(0.0, 1.0, cells.size),
    )


@pytest.mark.parametrize("border", [True, False])
@pytest.mark.parametrize("ny", [37, 5, 1])
def test_strips_equal_the_whole_grid(border: bool, ny: int) -> None:
    rng = np.random.default_rng(ny)
    nx = 53
    cov = _coverage(rng, ny, nx, 6, border)
    values = np.where(rng.random((ny, nx)) < 0.7, np.float32(1.0), np.float32(np.nan)).astype(np.float32)
    values[rng.random((ny, nx)) < 0.3] = rng.normal(0, 1e4, 1)[0]
    strata = rng.choice(np.array([0, 1, 2, 3, 255], np.uint8), (ny, nx))
    row_area = rng.uniform(1e6, 1e8, ny)
    for minmax in (False, True):
        want = zonal_stats(values, cov, row_area, strata=strata, n_strata=4, minmax=minmax, n_chunks=8)
        for height in (1, 3, 7, 16, ny):
            z = StripZonal(cov, row_area, 4, 8, minmax)
            for r in range(0, ny, height):
                z.add(values[r : r + height], strata[r : r + height])
            np.testing.assert_array_equal(z.total(), want)


def test_strips_must_cover_the_grid_in_order() -> None:
    rng = np.random.default_rng(0)
    cov = _coverage(rng, 10, 8, 3, True)
    z = StripZonal(cov, np.ones(10), 4, 8, False)
    z.add(np.ones((4, 8), np.float32), np.zeros((4, 8), np.uint8))
    with pytest.raises(KernelInputError, match="all 10 rows"):
        z.total()
    with pytest.raises(KernelInputError, match="next rows"):
        z.add(np.ones((7, 8), np.float32), np.zeros((7, 8), np.uint8))
