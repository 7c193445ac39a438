"""Kernel benchmarks: zonal statistics, SOC stock and Theil-Sen, each as a ratio measured side
by side in one run (the machines are shared and noisy: ratios, not absolute times, are the
figures to compare).

- zonal: area-weighted zonal mean per country of a global float32 raster at 0.025 deg
  (14400 x 7200) with cached coverage, vs exactextract's weighted_mean on the same in-memory
  raster, and vs the memory-bandwidth floor (reading the values and the labels once).
- stock: SOC stock 0-30 cm from 9 int16 layers into a reused float32 buffer, vs the floor
  (reading the nine layers and writing the output once).
- theil-sen: 20 epochs per pixel, vs a per-pixel loop of scipy.stats.theilslopes (sampled).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np

from kernels.stock import soc_stock
from kernels.trend import trends
from kernels.zonal import zonal_stats


def timeit(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, float]:
    """(best, median) wall seconds over ``repeat`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


# The floors are as fast as a read can be: reassociation lets LLVM vectorise the sums, so the
# loop is bound by memory bandwidth, not by the latency of a serial add chain.
_FM = {"reassoc", "nsz", "contract", "arcp"}


@nb.njit(parallel=True, cache=True, fastmath=_FM)
def _read_two(values: np.ndarray, labels: np.ndarray) -> float:
    ny, nx = values.shape
    acc = 0.0
    for r in nb.prange(ny):
        s = 0.0
        for x in range(nx):
            s += values[r, x] + labels[r, x]
        acc += s
    return acc


@nb.njit(parallel=True, cache=True, fastmath=_FM)
def _read_layers_write(a: np.ndarray, b: np.ndarray, c: np.ndarray, out: np.ndarray) -> None:
    n = out.shape[0]
    for i in nb.prange(n):
        s = 0.0
        for k in range(a.shape[0]):
            s += a[k, i] + b[k, i] + c[k, i]
        out[i] = s


def global_values(res: float, seed: int = 0) -> np.ndarray:
    ny, nx = round(180 / res), round(360 / res)
    rng = np.random.default_rng(seed)
    base = rng.normal(40, 8, (ny // 40 + 1, nx // 40 + 1)).astype(np.float32)
    return np.ascontiguousarray(np.repeat(np.repeat(base, 40, 0), 40, 1)[:ny, :nx])


def bench_zonal(res: float, cache: Path) -> dict[str, float]:
    from affine import Affine
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource
    from pyproj import CRS

    from pipeline.grid import Grid
    from pipeline.regions.hierarchy import load_regions
    from pipeline.regions.zonal import get_coverage

    values = global_values(res)
    ny, nx = values.shape
    grid = Grid(Affine(res, 0, -180, 0, -res, 90), (ny, nx), CRS.from_epsg(4326))
    regions = load_regions()
    countries = regions[regions.level == "country"].reset_index(drop=True)
    t0 = time.perf_counter()
    cov = get_coverage(countries, grid, "exact", cache)
    t_cov = time.perf_counter() - t0
    row_area = grid.row_areas()
    ours, ours_med = timeit(lambda: zonal_stats(values, cov, row_area, minmax=False))
    labels = cov.labels
    floor, floor_med = timeit(lambda: _read_two(values, labels))
    wkt = grid.crs.to_wkt()
    src = NumPyRasterSource(values, -180, -90, 180, 90, srs_wkt=wkt)
    weights = np.ascontiguousarray(np.broadcast_to(row_area[:, None].astype(np.float32), (ny, nx)))
    wsrc = NumPyRasterSource(weights, -180, -90, 180, 90, srs_wkt=wkt)
    vec = countries[["geometry"]]
    t0 = time.perf_counter()
    exact_extract(src, vec, ["weighted_mean"], weights=wsrc, output="pandas")
    t_ee = time.perf_counter() - t0
    return {
        "cells": float(ny * nx),
        "coverage_build_s": t_cov,
        "ours_s": ours,
        "ours_median_s": ours_med,
        "floor_s": floor,
        "floor_median_s": floor_med,
        "exactextract_s": t_ee,
        "speedup_vs_exactextract": t_ee / ours,
        "fraction_of_floor": floor / ours,
    }


def bench_stock(res: float) -> dict[str, float]:
    ny, nx = round(180 / res), round(360 / res)
    n = ny * nx
    rng = np.random.default_rng(1)
    soc = rng.integers(10, 900, (3, n), dtype=np.int16)
    bd = rng.integers(80, 170, (3, n), dtype=np.int16)
    cf = rng.integers(0, 400, (3, n), dtype=np.int16)
    out = np.empty(n, dtype=np.float32)
    top, bot = [0, 5, 15], [5, 15, 30]
    scales = (0.1, 0.01, 0.001)
    nodata = (-32768, -32768, -32768)
    ours, ours_med = timeit(lambda: soc_stock(soc, bd, cf, top, bot, scales=scales, nodata=nodata, out=out))
    floor, floor_med = timeit(lambda: _read_layers_write(soc, bd, cf, out))
    return {
        "cells": float(n),
        "ours_s": ours,
        "ours_median_s": ours_med,
        "floor_s": floor,
        "floor_median_s": floor_med,
        "fraction_of_floor": floor / ours,
    }


def bench_theil_sen(n_pixels: int = 1_000_000, n_epochs: int = 20, n_sample: int = 100) -> dict[str, float]:
    import scipy.stats as ss

    rng = np.random.default_rng(2)
    y = rng.normal(40, 5, (n_epochs, n_pixels)) + 0.1 * np.arange(n_epochs)[:, None]
    t = np.arange(2005, 2005 + n_epochs, dtype=float)
    ours, ours_med = timeit(lambda: trends(y, t), repeat=3)
    t0 = time.perf_counter()
    for p in range(n_sample):
        ss.theilslopes(y[:, p], t)
    per_scipy = (time.perf_counter() - t0) / n_sample
    per_ours = ours / n_pixels
    return {
        "pixels": float(n_pixels),
        "ours_s": ours,
        "ours_median_s": ours_med,
        "ours_us_per_pixel": per_ours * 1e6,
        "scipy_us_per_pixel": per_scipy * 1e6,
        "speedup_vs_scipy": per_scipy / per_ours,
    }
