"""What-if kernel benchmark: ``kernels.whatif.whatif_delta`` against the memory-bandwidth floor.

The kernel reads each cell's climate zone (uint8), measured stock (float32) and land cover
(uint8) once and writes one float32: 10 bytes per cell. The floor is a loop that moves exactly
those bytes (reads the three inputs, writes one float32 per cell) and does nothing else, compiled
the same way (numba, parallel); ``fraction_of_floor`` = best floor time / best kernel time, the two
timed alternately in one run (the machines are shared: the ratio, not the absolute times, is the
figure).

The kernel runs as the API calls it: the measured-stock reference and one land-cover code (every
stratum is one WorldCover class). Size: 8 M cells (a 4000 x 2000 tile of a 250 m grid, or a 0.045-degree global grid), 2 M with
``quick``. Inputs are realistic: zones in patches, a third of the cells cropland, 5 % no stock.

Run alone: ``python -m tests.benchmarks.whatif [--quick]``; from the suite's runner:
``bench_whatif(quick)`` and ``goal_rows(results)``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numba as nb
import numpy as np

from kernels.whatif import whatif_delta

GOAL = 0.7
CELLS = 8_000_000
QUICK_CELLS = 2_000_000


@nb.njit(parallel=True, cache=True, nogil=True)
def _floor(zone: np.ndarray, stock: np.ndarray, lc: np.ndarray, out: np.ndarray) -> None:
    for i in nb.prange(out.shape[0]):
        out[i] = stock[i] + np.float32(zone[i] + lc[i])


def _best_pair(a: Callable[[], Any], b: Callable[[], Any], repeat: int) -> tuple[list[float], list[float]]:
    """Wall seconds of ``repeat`` calls of each, interleaved (a, b, a, b, ...) after one warm-up
    call each, so a change in the machine's load hits both alike."""
    a()
    b()
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(repeat):
        for fn, ts in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return ta, tb


def inputs(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Zones in patches of 400 cells, a third cropland (ESA 40), 5 % no stock."""
    rng = np.random.default_rng(seed)
    zone = np.repeat(rng.integers(1, 13, n // 400 + 1).astype(np.uint8), 400)[:n]
    zone[rng.random(n) < 0.02] = 255  # no climatology
    lc = rng.choice(np.array([10, 20, 30, 40, 40, 40, 50, 60, 80], np.uint8), n)
    stock = rng.gamma(8.0, 7.0, n).astype(np.float32)
    stock[rng.random(n) < 0.05] = np.nan
    return {"zone": zone, "stock": stock, "landcover": lc}


def bench_whatif(quick: bool = False) -> dict[str, float]:
    n = QUICK_CELLS if quick else CELLS
    d = inputs(n)
    # no-till on long-term cultivated cropland, medium input (Table 5.5 products by zone; polar: none)
    f_from = np.array([np.nan, 0.86, 0.83, 0.83, 0.92, 0.69, 0.76, 0.70, 0.77, 0.70, 0.77, np.nan, np.nan])
    f_to = f_from * np.array([np.nan, 1.08, 1.10, 1.10, 1.04, 1.10, 1.04, 1.09, 1.03, 1.09, 1.03, 1, 1])
    out = np.empty(n, dtype=np.float32)
    repeat = 9 if quick else 21

    def kernel() -> None:
        whatif_delta(d["zone"], d["stock"], d["landcover"], (40,), f_from, f_to, out=out)

    t_ours, t_floor = _best_pair(kernel, lambda: _floor(d["zone"], d["stock"], d["landcover"], out), repeat)
    ours, ours_med = min(t_ours), float(np.median(t_ours))
    floor, floor_med = min(t_floor), float(np.median(t_floor))
    kernel()
    applicable = float(np.isfinite(out).mean())
    return {
        "cells": float(n),
        "bytes_per_cell": 10.0,
        "ours_s": ours,
        "ours_median_s": ours_med,
        "floor_s": floor,
        "floor_median_s": floor_med,
        "fraction_of_floor": floor / ours,
        "ours_gb_s": 10.0 * n / ours / 1e9,
        "applicable_share": applicable,
    }


def goal_rows(d: dict[str, float]) -> list[tuple[str, str, str, bool]]:
    return [
        (
            "what-if kernel vs memory-bandwidth floor",
            f"{d['fraction_of_floor']:.2f} ({d['cells'] / 1e6:.0f} M cells, {d['ours_s'] * 1e3:.1f} ms, "
            f"{d['ours_gb_s']:.1f} GB/s; floor {d['floor_s'] * 1e3:.1f} ms)",
            f">= {GOAL}",
            d["fraction_of_floor"] >= GOAL,
        )
    ]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    res = bench_whatif(ap.parse_args().quick)
    print(json.dumps(res, indent=2))
    for row in goal_rows(res):
        print(" | ".join(str(c) for c in row))
