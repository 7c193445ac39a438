"""SDG 15.3.1 region tables: per region x period, the land area degraded / stable / improved /
with no data, for the result and each sub-indicator, and the shares.

Areas are exact: the zonal kernel (``kernels.zonal``, fed strip by strip:
``kernels.zonal_strips``, the same sums as over the whole grid) over the regions' exact coverage (cell
fractions inside each region x true cell area), as the indicator tables
(``pipeline.indicators.tables``): one pass per layer, the classes as strata of a grid that is 1
on land and NaN elsewhere, so each stratum's valid area is the land area of that class. The
denominator ``land_area_km2`` is the region's land area without inland water (see
``pipeline.indicators.sdg``); ``share = area / land_area`` (NaN where a region has no land).

Roll-ups: a country's row comes from the coverage; a region's is the sum of its countries'
accumulators, ``global`` the sum of every country's (``kernels.zonal.rollup``), so a parent's
area is the sum of its children's up to float64 rounding; user sets (``socobs regions add``)
have their own coverage.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from kernels.sdg_tables import NODATA
from kernels.zonal import AREA, rollup
from kernels.zonal_strips import StripZonal
from pipeline import cf
from pipeline.grid import Grid
from pipeline.indicators.sdg_periods import CLASSES, LAYERS
from pipeline.indicators.tables import RegionIndex, coverages

CODES = (-1, 0, 1, NODATA)
N_CHUNKS = 8  # fixed partial accumulators: sums independent of the thread count


def strata(layer: np.ndarray, land: np.ndarray) -> np.ndarray:
    """uint8 class slot of every land cell (``CLASSES`` order), 255 elsewhere."""
    out = np.full(layer.shape, 255, dtype=np.uint8)
    for k, code in enumerate(CODES):
        out[land & (layer == code)] = k
    return out


def rows(idx: RegionIndex, leaves: list[np.ndarray]) -> np.ndarray:
    """(rows, slots, stats) for every table row from the leaf accumulators (``coverages`` order)."""
    countries = leaves[0]
    out = np.zeros((len(idx.ids), *countries.shape[1:]))
    out[idx.country_rows] = countries
    out[idx.region_rows] = rollup(countries, idx.region_of_country, idx.region_rows.size)
    out[0] = rollup(countries, np.zeros(len(idx.country_rows), dtype=np.int64), 1)[0]
    for acc, (_, r) in zip(leaves[1:], idx.user_sets, strict=True):
        out[r] = acc
    return out


class PeriodAreas:
    """One period's areas accumulated strip by strip (full-width rows, top to bottom): per
    layer and coverage a ``StripZonal``, the same sums as the whole-grid ``zonal_stats``."""

    def __init__(self, idx: RegionIndex, grid: Grid) -> None:
        self.idx = idx
        row_area = grid.row_areas()
        self.zonals = {
            name: [StripZonal(cov, row_area, len(CLASSES), N_CHUNKS, False) for cov in coverages(idx)]
            for name in LAYERS
        }

    def add(self, maps: dict[str, np.ndarray], land: np.ndarray) -> None:
        """The next strip's maps (``LAYERS``) and land mask."""
        ones = np.where(land, np.float32(1.0), np.float32(np.nan))
        for name, zs in self.zonals.items():
            st = strata(maps[name], land)
            for z in zs:
                z.add(ones, st)

    def total(self) -> np.ndarray:
        """(rows, layers, classes) areas in km2."""
        out = np.zeros((len(self.idx.ids), len(LAYERS), len(CLASSES)))
        for k, name in enumerate(LAYERS):
            leaves = [z.total() for z in self.zonals[name]]
            out[:, k, :] = rows(self.idx, leaves)[:, : len(CLASSES), AREA] / 1e6
        return out


def tables_dataset(idx: RegionIndex, labels: list[str], areas: list[np.ndarray]) -> xr.Dataset:
    """``area_km2`` (region, period, layer, class), ``land_area_km2`` (region, period), ``share``
    from each period's ``PeriodAreas.total``."""
    area = np.stack(areas, axis=1)
    # land area: the sum of the four classes of any layer (every land cell has one)
    land = area[:, :, 0, :].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(
            land[..., None, None] > 0, area / np.where(land > 0, land, 1.0)[..., None, None], np.nan
        )
    ds = xr.Dataset(
        {
            "area_km2": (("region", "period", "layer", "class"), area, cf.unit_attrs("km2")),
            "land_area_km2": (
                ("region", "period"),
                land,
                {**cf.unit_attrs("km2"), "long_name": "land area without inland water (WorldCover 80)"},
            ),
            "share": (("region", "period", "layer", "class"), share, {"units": "1"}),
        },
        coords={
            "region": np.array(idx.ids, dtype="<U64"),
            "period": labels,
            "layer": np.array(LAYERS, dtype="<U32"),
            "class": np.array(CLASSES, dtype="<U16"),
            "name": ("region", np.array(idx.names, dtype="<U128")),
            "level": ("region", np.array(idx.levels, dtype="<U16")),
            "parent_id": ("region", np.array(idx.parents, dtype="<U64")),
        },
    )
    ds = cf.annotate(ds, None)  # CF long names of the columns and coordinates
    for v in ds.data_vars.values():
        v.encoding["chunks"] = v.shape
    return ds
