"""One tile of the monthly job, and the region tables built from the tiles' accumulators.

A tile is a window of rows x columns of the grid (the job's chunks by default). For its window
it reads the NDVI it needs, computes the signals of the target months with
``kernels.monthly`` and reduces them over the regions with the zonal kernel and the window's
exact coverage (``pipeline.indicators.blocks.window_of``). The accumulators are additive, so
the tiles' are summed, always in the same tile order (so a month's table is the same whether
it was computed in a full run or alone in an incremental one), and parents are roll-ups of
their children's (``kernels.zonal.rollup``), as in the yearly region tables
(``pipeline.indicators.tables``). Table columns, per region and month:

    ndvi_anomaly          sum(A z) / sum(A)         over cells with a z-score, A = true cell area
    bare_soil_frequency   sum(A f) / sum(A)         over cells with a frequency
    productivity_ratio    sum(A cum) / sum(A base)  over cells with a ratio: the region's Jan..m
                                                    NDVI integral against its baseline integral
    valid_fraction        area with a z-score / covered area
    area_km2              covered area
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels.monthly import Signals
from kernels.zonal import AREA, AREA_SUM, AREA_TOTAL, Coverage, combine, rollup, zonal_stats
from pipeline.indicators.tables import RegionIndex

MAPS = ("ndvi_anomaly", "bare_soil_frequency", "productivity_ratio")
CLIMATOLOGY = ("ndvi_clim_mean", "ndvi_clim_std")
COLUMNS = ("ndvi_anomaly", "bare_soil_frequency", "productivity_ratio", "valid_fraction", "area_km2")
TABLE_PREFIX = "region_"  # table variables are region_<column>, dims (region, time)
ZONAL_CHUNKS = 8  # partial accumulators per tile: fixed, so sums do not depend on the machine

Leaves = list[np.ndarray]  # accumulators (regions, 1, stats) per coverage


@dataclass(frozen=True)
class Tile:
    r0: int
    r1: int
    c0: int
    c1: int


def tiles(shape: tuple[int, int], side: tuple[int, int]) -> list[Tile]:
    """The tiles of a grid, row of tiles by row of tiles, left to right."""
    (ny, nx), (h, w) = shape, side
    return [
        Tile(r0, min(ny, r0 + h), c0, min(nx, c0 + w)) for r0 in range(0, ny, h) for c0 in range(0, nx, w)
    ]


def accumulated(sig: Signals, k: int) -> dict[str, np.ndarray]:
    """The grids of target ``k`` whose zonal sums make the table columns."""
    ratio_ok = np.isfinite(sig.productivity_ratio[k])
    return {
        "ndvi_anomaly": sig.anomaly[k],
        "bare_soil_frequency": sig.bare_frequency[k],
        "cumulative": np.where(ratio_ok, sig.cumulative[k], np.nan).astype(np.float32),
        "cumulative_baseline": np.where(ratio_ok, sig.cumulative_baseline[k], np.nan).astype(np.float32),
    }


def reduce_tile(
    grids: dict[str, np.ndarray], covs: list[Coverage], row_area: np.ndarray
) -> dict[str, Leaves]:
    """Per grid, its accumulators over each coverage of the tile's window."""
    return {
        name: [zonal_stats(v, cov, row_area, minmax=False, n_chunks=ZONAL_CHUNKS) for cov in covs]
        for name, v in grids.items()
    }


def add(total: dict[str, Leaves] | None, part: dict[str, Leaves]) -> dict[str, Leaves]:
    if total is None:
        return part
    return {n: [combine(a, b) for a, b in zip(total[n], part[n], strict=True)] for n in total}


def region_rows(idx: RegionIndex, leaves: Leaves) -> np.ndarray:
    """Accumulators (rows, stats) of every table row: countries and user sets from their own
    coverage, regions and global as roll-ups of the countries."""
    out = np.zeros((len(idx.ids), leaves[0].shape[-1]))
    countries = leaves[0]
    out[idx.country_rows] = countries[:, 0]
    out[idx.region_rows] = rollup(countries, idx.region_of_country, idx.region_rows.size)[:, 0]
    out[0] = rollup(countries, np.zeros(len(idx.country_rows), dtype=np.int64), 1)[0, 0]
    for acc, (_, rows) in zip(leaves[1:], idx.user_sets, strict=True):
        out[rows] = acc[:, 0]
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def columns(idx: RegionIndex, acc: dict[str, Leaves]) -> dict[str, np.ndarray]:
    """The table columns (rows,) of one month from the tiles' summed accumulators."""
    z = region_rows(idx, acc["ndvi_anomaly"])
    f = region_rows(idx, acc["bare_soil_frequency"])
    cum = region_rows(idx, acc["cumulative"])
    base = region_rows(idx, acc["cumulative_baseline"])
    return {
        "ndvi_anomaly": _ratio(z[:, AREA_SUM], z[:, AREA]),
        "bare_soil_frequency": _ratio(f[:, AREA_SUM], f[:, AREA]),
        "productivity_ratio": _ratio(cum[:, AREA_SUM], base[:, AREA_SUM]),
        "valid_fraction": np.nan_to_num(_ratio(z[:, AREA], z[:, AREA_TOTAL]), nan=0.0),
        "area_km2": z[:, AREA_TOTAL] / 1e6,
    }
