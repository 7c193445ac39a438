"""IPCC Approach 2 (Monte Carlo) interval of the balance over the default factors' ranges.

Each distinct default value used (SOC_REF of a zone and soil, each factor of a zone and level)
is one random quantity, drawn once per draw and shared wherever it is used (the same table
entry in two states is the same number, so e.g. an unchanged F_LU cancels exactly). A table's
"± %" is the half-width of its 95 % interval: a normal with sigma = value * pct / 100 / 1.96,
truncated at 0 (negative draws are redrawn). Seeded (numpy's PCG64): the same seed gives the same
interval. Vectorised over draws; the balance is linear in the products of the factors, so no
per-draw loop is needed.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
from numpy.typing import NDArray

Z95 = 1.959963984540054


def draw(
    entries: Iterable[tuple[Hashable, float, float]], n: int, seed: int
) -> dict[Hashable, NDArray[np.float64]]:
    """``n`` draws per entry ``(key, value, pct)``, in the order given (sort for reproducibility)."""
    rng = np.random.default_rng(seed)
    out: dict[Hashable, NDArray[np.float64]] = {}
    for key, value, pct in entries:
        if key in out:
            continue
        sigma = value * pct / 100.0 / Z95
        if sigma <= 0:
            out[key] = np.full(n, value)
            continue
        x = rng.normal(value, sigma, n)
        for _ in range(100):
            bad = x < 0
            if not bad.any():
                break
            x[bad] = rng.normal(value, sigma, int(bad.sum()))
        out[key] = np.maximum(x, 0.0)
    return out


def interval(samples: NDArray[np.float64]) -> dict[str, float]:
    """Mean, median and the central 95 % interval of ``samples``."""
    lo, med, hi = np.percentile(samples, [2.5, 50.0, 97.5])
    return {"mean": float(samples.mean()), "median": float(med), "p2_5": float(lo), "p97_5": float(hi)}
