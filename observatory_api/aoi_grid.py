"""An AOI on the cube grid: the window of cells it and its control ring touch, the polygon's
coverage fractions and the ring, each at grid resolution with work bounded before it starts.

- The window is the polygon's bounding box widened by ``ring_km``; in continuous longitudes, so
  a polygon across the antimeridian has one window whose columns wrap around a global grid.
  At most ``MAX_WINDOW_CELLS`` cells (refused with 413 otherwise: split the area or narrow the
  ring).
- Coverage fractions come from rasterising the polygon at ``k x k`` sub-cells per cell (cell
  centres of the sub-cells; ``k`` up to 16, so fractions are exact for cell-aligned edges and
  within 1/k^2 of a cell elsewhere). The rasteriser's cost is scanlines x edges, bounded by
  ``MAX_SCANLINES`` and the vertex limit; its memory by ``MAX_SUBPIXELS``.
- The control ring is a dilation of the polygon's cells by ``ring_km`` (distances between the
  cells' nearest edges, east-west lengths at each row's latitude), minus those cells: no vector
  buffer of the raw polygon. Neighbouring cells are always in it, however coarse the grid. A ring more than ``MAX_RING_STEPS`` rows wide is dilated on cells grouped
  f x f, so its outer edge is placed to within f cells (1/16 of the ring's width).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import rasterio.features
from affine import Affine

from observatory_api.errors import BadParameter, PayloadTooLarge
from observatory_api.geometry import Aoi

MAX_WINDOW_CELLS = 1_000_000
MAX_SCANLINES = 2_048
MAX_SUBPIXELS = 16_000_000
MAX_SUPERSAMPLE = 16
MAX_RING_STEPS = 16
KM_PER_DEGREE = 111.195  # mean Earth radius 6371.009 km x pi / 180


@dataclass(frozen=True)
class GridGeometry:
    """A north-up lon/lat grid: west edge x0, north edge y0, steps dx > 0 and dy < 0."""

    x0: float
    y0: float
    dx: float
    dy: float
    ny: int
    nx: int

    @property
    def periodic(self) -> bool:
        """True when the columns go once around the Earth (column nx is column 0 again)."""
        return abs(self.nx * self.dx - 360.0) < 1e-6


@dataclass(frozen=True)
class Window:
    """Rows r0..r1 (within the grid) and columns c0..c1 (continuous; wrap on a global grid)."""

    r0: int
    r1: int
    c0: int
    c1: int
    grid: GridGeometry

    @property
    def shape(self) -> tuple[int, int]:
        return self.r1 - self.r0, self.c1 - self.c0

    @property
    def west(self) -> float:
        return self.grid.x0 + self.c0 * self.grid.dx

    @property
    def north(self) -> float:
        return self.grid.y0 + self.r0 * self.grid.dy

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        return (self.grid.dx, 0.0, self.west, 0.0, self.grid.dy, self.north)

    def row_lats(self) -> np.ndarray:
        return self.north + (np.arange(self.shape[0]) + 0.5) * self.grid.dy


def _rows_cols(bounds: tuple[float, float, float, float], g: GridGeometry) -> tuple[int, int, int, int]:
    w, s, e, n = bounds
    return (
        math.floor((n - g.y0) / g.dy),
        math.ceil((s - g.y0) / g.dy),
        math.floor((w - g.x0) / g.dx),
        math.ceil((e - g.x0) / g.dx),
    )


def window_for(aoi: Aoi, g: GridGeometry, ring_km: float) -> Window:
    """The cells the polygon and its ring can touch; 413 beyond ``MAX_WINDOW_CELLS``."""
    r0, r1, c0, c1 = _rows_cols(aoi.bounds, g)
    steps = math.ceil(ring_km / (abs(g.dy) * KM_PER_DEGREE))
    r0, r1 = max(0, r0 - steps), min(g.ny, r1 + steps)
    if r1 <= r0:
        raise BadParameter(
            "geometry: the polygon lies outside the maps' latitudes "
            f"({g.y0 + g.ny * g.dy:.2f}..{g.y0:.2f}); nothing to assess there.",
            parameter="geometry",
        )
    edge_lat = max(abs(g.y0 + r0 * g.dy), abs(g.y0 + r1 * g.dy))
    cos = max(math.cos(math.radians(min(edge_lat, 89.9))), 1e-3)
    c0 -= math.ceil(ring_km / (g.dx * KM_PER_DEGREE * cos))
    c1 += math.ceil(ring_km / (g.dx * KM_PER_DEGREE * cos))
    if g.periodic:
        c1 = min(c1, c0 + g.nx)
    else:
        c0, c1 = max(0, c0), min(g.nx, c1)
        if c1 <= c0:
            raise BadParameter(
                "geometry: the polygon lies outside the maps' longitudes; nothing to assess there.",
                parameter="geometry",
            )
    win = Window(r0, r1, c0, c1, g)
    cells = win.shape[0] * win.shape[1]
    if cells > MAX_WINDOW_CELLS:
        raise PayloadTooLarge(
            f"geometry: the polygon's bounding box widened by ring_km={ring_km:g} spans {win.shape[0]} x "
            f"{win.shape[1]} = {cells:,} cells of the {g.dx:g}-degree grid; at most {MAX_WINDOW_CELLS:,}. "
            "Assess distant parts separately or use a narrower ring.",
            parameter="geometry",
            allowed={"max_window_cells": MAX_WINDOW_CELLS},
        )
    return win


def coverage(aoi: Aoi, win: Window) -> np.ndarray:
    """Fraction (0-1) of each window cell inside the polygon, from k x k sub-cell centres."""
    g = win.grid
    pr0, pr1, pc0, pc1 = _rows_cols(aoi.bounds, g)
    pr0, pr1 = max(pr0, win.r0), min(pr1, win.r1)
    pc0, pc1 = max(pc0, win.c0), min(pc1, win.c1)
    out = np.zeros(win.shape)
    if pr1 <= pr0 or pc1 <= pc0:
        return out
    h, w = pr1 - pr0, pc1 - pc0
    k = min(MAX_SUPERSAMPLE, MAX_SCANLINES // h, math.isqrt(MAX_SUBPIXELS // (h * w)))
    k = max(k, 1)
    transform = Affine(g.dx / k, 0.0, g.x0 + pc0 * g.dx, 0.0, g.dy / k, g.y0 + pr0 * g.dy)
    burnt = rasterio.features.rasterize(
        [(p, 1) for p in aoi.parts], out_shape=(h * k, w * k), transform=transform, fill=0, dtype="uint8"
    )
    inside = burnt.reshape(h, k, w, k).sum(axis=(1, 3), dtype=np.int32)
    out[pr0 - win.r0 : pr1 - win.r0, pc0 - win.c0 : pc1 - win.c0] = inside / float(k * k)
    return out


def dilate(mask: np.ndarray, win: Window, ring_km: float) -> np.ndarray:
    """``mask`` and the cells within ``ring_km`` of one of its cells (edge to edge: the nearest
    points of the two cells; east-west lengths at the target row's latitude)."""
    g = win.grid
    dy_km = abs(g.dy) * KM_PER_DEGREE
    f = max(1, math.ceil(ring_km / dy_km / MAX_RING_STEPS))
    h, w = mask.shape
    hc, wc = -(-h // f), -(-w // f)
    padded = np.zeros((hc * f, wc * f), dtype=bool)
    padded[:h, :w] = mask
    coarse = padded.reshape(hc, f, wc, f).any(axis=(1, 3))
    lats = win.north + (np.arange(hc) + 0.5) * f * g.dy
    dx_km = f * g.dx * KM_PER_DEGREE * np.maximum(np.cos(np.radians(np.clip(lats, -89.9, 89.9))), 1e-3)
    step_km = f * dy_km
    prefix = np.zeros((hc, wc + 1), dtype=np.int32)
    np.cumsum(coarse, axis=1, out=prefix[:, 1:])
    cols = np.arange(wc)[None, :]
    out = np.zeros((hc, wc), dtype=bool)
    steps = 1 + int(ring_km // step_km)
    for d in range(-steps, steps + 1):
        gap = max(abs(d) - 1, 0) * step_km  # north-south distance between the cells' facing edges
        if gap > ring_km:
            continue
        lo_row, hi_row = max(0, d), min(hc, hc + d)  # target rows r with source r - d inside
        if hi_row <= lo_row:
            continue
        reach = np.sqrt(ring_km**2 - gap**2)
        half = np.minimum(1 + np.floor(reach / dx_km[lo_row:hi_row]), wc).astype(np.int64)[:, None]
        src = prefix[lo_row - d : hi_row - d]
        hi = np.take_along_axis(src, np.minimum(cols + half + 1, wc), axis=1)
        lo = np.take_along_axis(src, np.maximum(cols - half, 0), axis=1)
        out[lo_row:hi_row] |= hi > lo
    return np.repeat(np.repeat(out, f, axis=0), f, axis=1)[:h, :w]
