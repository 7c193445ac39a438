"""The streamed per-unit percentile against the whole-grid one it replaces
(``kernels.sdg_productivity.performance_ratio``) bit for bit, and against ``np.percentile``."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import kernels.unit_percentile as up
from kernels.errors import KernelInputError
from kernels.sdg_productivity import performance_ratio
from kernels.unit_percentile import from_keys, ratio_to, sort_keys, unit_percentiles


def _sorted_percentile(vals: np.ndarray, q: float) -> float:
    """Plain numpy: sort, then interpolate as the SDG kernel does."""
    x = np.sort(vals[np.isfinite(vals)])
    if not x.size:
        return np.nan
    pos = (q / 100.0) * (x.size - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, x.size - 1)
    return float(x[lo] + (x[hi] - x[lo]) * (pos - lo))


def _streamed(unit: np.ndarray, values: np.ndarray, n_units: int, chunk: int, q: float = 90.0) -> np.ndarray:
    passes = []

    def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        passes.append(1)
        for i in range(0, unit.size, chunk):
            yield unit[i : i + chunk], values[i : i + chunk]

    out = unit_percentiles(n_units, chunks, q)
    assert len(passes) >= 2  # counted, then selected: never the whole data at once
    return out


def _data(rng: np.random.Generator, n: int, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    unit = rng.integers(0, n_units, n)
    mag = 10.0 ** rng.uniform(-300, 300, n)
    values = np.where(rng.random(n) < 0.5, rng.normal(6.0, 2.0, n), mag * rng.choice([-1.0, 1.0], n))
    values[rng.random(n) < 0.1] = np.nan
    values[rng.random(n) < 0.01] = np.inf
    values[rng.random(n) < 0.05] = 3.0  # ties
    values[rng.random(n) < 0.01] = -0.0
    values[rng.random(n) < 0.01] = 0.0
    return unit, values


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_the_whole_grid_percentile_bit_for_bit(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    n_units = 40
    unit, values = _data(rng, 60_000, n_units)
    # a huge unit of close values (one exponent: many passes with a small gather size)
    big = rng.random(60_000) < 0.5
    unit[big] = 20
    values[big] = 4.0 + rng.random(int(big.sum()))
    # units of size 0, 1 and 2 (finite values), and one of NaNs only
    unit[unit == 7] = 8
    unit[np.flatnonzero(unit == 9)[1:]] = 10
    unit[np.flatnonzero(unit == 11)[2:]] = 12
    values[np.flatnonzero(unit == 9)] = 2.5
    values[np.flatnonzero(unit == 11)] = [4.0, -1.0]
    values[unit == 13] = np.nan
    monkeypatch.setattr(up, "GATHER", 64)
    for q in (90.0, 0.0, 50.0, 100.0, 33.3):
        got = _streamed(unit, values, n_units, 4096, q)
        ref = np.array([_sorted_percentile(values[unit == k], q) for k in range(n_units)])
        np.testing.assert_array_equal(got, ref)  # NaN == NaN here, and every bit otherwise
        assert np.isnan(got[[7, 13]]).all() and got[9] == 2.5
        for k in range(n_units):
            x = values[(unit == k) & np.isfinite(values)]
            if x.size:
                assert got[k] == pytest.approx(np.percentile(x, q), rel=1e-12, abs=1e-300)
    # the ratio equals the current whole-grid kernel's bit for bit
    got = _streamed(unit, values, n_units, 10_000)
    mean = np.where(np.isinf(values), np.nan, values)
    np.testing.assert_array_equal(ratio_to(mean, got[unit]), performance_ratio(mean, unit))


def test_equal_values_beyond_the_gather_size_settle_from_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(up, "GATHER", 8)
    unit = np.zeros(1000, dtype=np.int64)
    values = np.full(1000, 0.123456789)
    values[:5] = -7.0
    got = _streamed(unit, values, 1, 100)
    assert got[0] == 0.123456789
    unit[:] = -1  # no unit: skipped
    assert np.isnan(unit_percentiles(1, lambda: [(unit, values)])[0])


def test_keys_keep_the_numeric_order() -> None:
    rng = np.random.default_rng(3)
    v = np.concatenate([rng.normal(0, 1e5, 1000), [0.0, -0.0, 5e-324, -5e-324, 1.7e308, -1.7e308]])
    k = sort_keys(v)
    order = np.argsort(k, kind="stable")
    assert np.all(np.diff(v[order]) >= 0)
    np.testing.assert_array_equal(from_keys(k), v + 0.0)


def test_bad_input_is_refused() -> None:
    def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        yield np.array([0, 5]), np.array([1.0, 2.0])

    with pytest.raises(KernelInputError, match="below n_units"):
        unit_percentiles(2, chunks)
    with pytest.raises(KernelInputError, match="percentile in"):
        unit_percentiles(2, chunks, 120.0)
