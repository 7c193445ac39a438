"""Ex-ante assessment benchmark: ``POST /v1/assess/ex-ante`` against a real API process.

The API (``python -m observatory_api``, its own process on a free port, as ``tests.benchmarks.api``
starts it) serves the API tests' demo store (``tests.support.api_store``, 2 degrees). One
keep-alive client sends the same body again and again, one request at a time, after a warm-up;
the latency of each is the client's wall time (request written to body read). Cases:

- ``minimal``: the issue's minimal request with ``monte_carlo_draws: 0`` (goal p99 <= 50 ms);
- ``minimal_default``: the same as sent (the default 1000 draws);
- ``mc10k``: the same with 10 000 draws (goal p99 <= 300 ms);
- ``location``: a point of the demo (lat 48.3, lon 2.4), ``reference: measured``, no draws: the
  site lookup in the served snapshot, Tier 1 and Tier 2 (RothC) - measured, no goal in the issue.

Call: ``bench_assess(quick)`` -> results; ``goal_rows(results)`` -> the rows of the goals table.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, cast

import httpx

from tests.benchmarks.api import ApiProcess
from tests.support.api_store import build_api_store

MINIMAL: dict[str, Any] = {
    "area_ha": 100,
    "climate_zone": "tropical_moist",
    "soil_type": "HAC",
    "years": 20,
    "baseline": {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"},
    "project": {"land_use": "cropland_annual", "management": "no_tillage", "input": "high_without_manure"},
}
CASES: dict[str, dict[str, Any]] = {
    "minimal": {**MINIMAL, "monte_carlo_draws": 0},
    "minimal_default": MINIMAL,
    "mc10k": {**MINIMAL, "monte_carlo_draws": 10_000},
    "location": {
        **{k: v for k, v in MINIMAL.items() if k != "climate_zone"},
        "location": {"lat": 48.3, "lon": 2.4},
        "reference": "measured",
        "monte_carlo_draws": 0,
    },
}
GOALS_MS = {"minimal": 50.0, "mc10k": 300.0}


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def bench_assess(quick: bool = False, work: Path | None = None) -> dict[str, float]:
    root = work or Path(tempfile.mkdtemp(prefix="socobs-bench-assess-"))
    store = build_api_store(root / "api-store")
    n, warm = (100, 50) if quick else (1000, 200)
    out: dict[str, float] = {"requests": float(n)}
    with ApiProcess(cast(Any, store)) as api, httpx.Client(base_url=api.base, timeout=30) as client:
        for name, body in CASES.items():
            for _ in range(warm):
                r = client.post("/v1/assess/ex-ante", json=body)
                r.raise_for_status()
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                r = client.post("/v1/assess/ex-ante", json=body)
                times.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise RuntimeError(f"{name}: HTTP {r.status_code}: {r.text[:300]}")
            out[f"{name}_median_ms"] = 1000 * _pct(times, 0.5)
            out[f"{name}_p99_ms"] = 1000 * _pct(times, 0.99)
            out[f"{name}_bytes"] = float(len(r.content))
    return out


def goal_rows(d: dict[str, float]) -> list[tuple[str, str, str, bool]]:
    rows = []
    for name, label in (
        ("minimal", "POST /v1/assess/ex-ante, minimal request, no Monte Carlo"),
        ("mc10k", "POST /v1/assess/ex-ante, minimal request, 10 000 draws"),
    ):
        rows.append(
            (
                label,
                f"p99 {d[f'{name}_p99_ms']:.1f} ms (median {d[f'{name}_median_ms']:.1f}, {d['requests']:.0f} requests)",
                f"p99 <= {GOALS_MS[name]:.0f} ms",
                d[f"{name}_p99_ms"] <= GOALS_MS[name],
            )
        )
    rows.append(
        (
            "POST /v1/assess/ex-ante at a location (site, measured reference, Tier 2 RothC)",
            f"p99 {d['location_p99_ms']:.1f} ms (median {d['location_median_ms']:.1f})",
            "measured (no goal)",
            True,
        )
    )
    return rows


if __name__ == "__main__":
    import sys

    res = bench_assess(quick="--quick" in sys.argv)
    for row in goal_rows(res):
        print(" | ".join(str(c) for c in row))
    print(res)
