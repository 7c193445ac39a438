"""GeoJSON polygons for the AOI tests and benchmarks: stars, spirals, combs (adversarial shapes)."""

from __future__ import annotations

import numpy as np


def polygon(ring, holes=()) -> dict:
    return {"type": "Polygon", "coordinates": [_closed(ring), *(_closed(h) for h in holes)]}


def _closed(xy) -> list:
    pts = [list(map(float, p)) for p in xy]
    return [*pts, pts[0]]


def star(n: int, cx=10.0, cy=47.0, r1=1.5, r0=0.3) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.where(np.arange(n) % 2 == 0, r1, r0)
    return np.c_[cx + r * np.cos(t), cy + r * np.sin(t)]


def spiral(n: int, cx=10.0, cy=47.0, turns=20) -> np.ndarray:
    t = np.linspace(0, turns * 2 * np.pi, n // 2)
    r = 0.05 + 1.5 * t / (turns * 2 * np.pi)
    out = np.c_[r * np.cos(t), r * np.sin(t)]
    inner = np.c_[(r - 0.03) * np.cos(t), (r - 0.03) * np.sin(t)]
    return np.r_[out, inner[::-1]] + np.array([cx, cy])


def comb(n: int, x0=8.0, y0=46.0) -> np.ndarray:
    k = n // 4
    xs = np.linspace(0, 3, k + 1)
    pts = []
    for i in range(k):
        a, b = xs[i], xs[i] + (xs[i + 1] - xs[i]) / 2
        pts += [(a, 0), (a, 1.5), (b, 1.5), (b, 0.1)]
    pts += [(3, 0.1), (3, -0.1), (0, -0.1)]
    return np.array(pts) + np.array([x0, y0])
