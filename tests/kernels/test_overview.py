"""Overview kernels against plain numpy and hand cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.errors import KernelInputError
from kernels.overview import block_mean, block_mode


def _naive_mean(v: np.ndarray, ra: np.ndarray, f: int) -> tuple[np.ndarray, np.ndarray]:
    ny, nx = v.shape
    oy, ox = -(-ny // f), -(-nx // f)
    out, w = np.full((oy, ox), np.nan), np.zeros((oy, ox))
    for i in range(oy):
        for j in range(ox):
            blk = v[i * f : (i + 1) * f, j * f : (j + 1) * f]
            a = np.broadcast_to(ra[i * f : (i + 1) * f, None], blk.shape)
            ok = np.isfinite(blk)
            w[i, j] = a[ok].sum()
            if ok.any():
                out[i, j] = (blk[ok] * a[ok]).sum() / w[i, j]
    return out, w


@settings(max_examples=40, deadline=None)
@given(ny=st.integers(1, 23), nx=st.integers(1, 23), f=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_block_mean_matches_numpy_and_conserves_the_weighted_mean(ny, nx, f, seed):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(ny, nx))
    v[rng.random((ny, nx)) < 0.3] = np.nan
    ra = rng.uniform(1.0, 3.0, ny)
    got, w = block_mean(v, ra, f)
    want, wn = _naive_mean(v, ra, f)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(w, wn, rtol=1e-12)
    full_w = np.broadcast_to(ra[:, None], v.shape) * np.isfinite(v)
    if full_w.sum() > 0:
        base = np.nansum(v * full_w) / full_w.sum()
        np.testing.assert_allclose(np.nansum(got * w) / w.sum(), base, rtol=1e-12, atol=1e-12)


def test_block_mode_by_area_with_ties_and_nodata():
    c = np.array([[0, 1, 2, 255], [1, 1, 2, 2]], dtype=np.uint8)
    # rows of different area: the top row weighs 3, the bottom 1
    out = block_mode(c, np.array([3.0, 1.0]), 2, 4)
    # block 1: class 0 (3) vs 1 (3 + 1): 1 ; block 2: class 2 (3 + 1 + 1)
    assert out.tolist() == [[1, 2]]
    tie = block_mode(np.array([[0, 1]], dtype=np.uint8), np.array([1.0]), 2, 4)
    assert tie.tolist() == [[0]]  # ties to the smaller class
    empty = block_mode(np.full((2, 2), 255, dtype=np.uint8), np.ones(2), 2, 4)
    assert empty.tolist() == [[255]]


def test_bad_arguments_are_named():
    with pytest.raises(KernelInputError, match="factor"):
        block_mean(np.ones((2, 2)), np.ones(2), 0)
    with pytest.raises(KernelInputError, match="row_area"):
        block_mean(np.ones((2, 2)), np.ones(3), 2)
    with pytest.raises(KernelInputError, match="uint8"):
        block_mode(np.ones((2, 2)), np.ones(2), 2, 4)
