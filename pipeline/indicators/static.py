"""Static maps of the indicator job: (y, x) layers without an epoch, tile by tile.

``climate_zone``: the IPCC 2019 climate zone of each cell (``kernels.climate_zone``, Vol. 4 Ch. 3
Annex 3A.5) from the cube's monthly climatology (``tas``, ``pr``, ``pet``), stored as uint8 codes
1-12 in the order of ``kernels.climate_zone.ZONES`` with 255 for no data (the store's class-map
convention; the kernel's own no-data code 0 is mapped to 255), and in the overviews as the
area-weighted mode of each block. A cube without the climatology gets a map of no data.

``compute_tile`` runs ``compute_block`` (the per-epoch maps) and adds the tile's static maps, so
they travel with the tile through the same runners and writers: per pixel, so bit for bit the
same whatever the tile size; overview cells come from one tile each (tiles align with them).

Incremental runs recompute the static maps too (``socobs update`` recomputes the climatology
from every month) but return a tile's static maps only where they differ from the stored ones:
an unchanged map costs no write, a changed climatology is never left behind.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
import zarr

from kernels.climate_zone import ZONES, climate_zone
from kernels.overview import block_mode
from pipeline.indicators.blocks import BlockResult, BlockTask, compute_block
from pipeline.indicators.registry import CLASS_NODATA, STATIC_MAPS
from pipeline.store import CUBE, INDICATORS, open_repo

CLIMATE_INPUTS = ("tas", "pr", "pet")
N_ZONE_CODES = len(ZONES) + 1  # codes 0..12 (0 never stored)


@dataclass
class TileResult(BlockResult):
    """A tile's results with its static maps (empty: nothing to write) and their overviews."""

    static: dict[str, np.ndarray] = field(default_factory=dict)
    static_overviews: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)


@functools.lru_cache(maxsize=4)
def _climatology(store: str, snapshot: str) -> xr.Dataset | None:
    """The cube's monthly climatology, lazily and without dask (None when the cube has none)."""
    session = open_repo(store).readonly_session(snapshot_id=snapshot)
    names = set(zarr.open_group(session.store, path=CUBE, mode="r").array_keys())
    if not set(CLIMATE_INPUTS) <= names:
        return None
    keep = {*CLIMATE_INPUTS, "month", "y", "x"}
    ds = xr.open_zarr(
        session.store,
        group=CUBE,
        consolidated=False,
        chunks=None,
        drop_variables=[n for n in names if n not in keep],
    )
    return ds[list(CLIMATE_INPUTS)]


def zone_codes(tas: np.ndarray, pr: np.ndarray, pet: np.ndarray) -> np.ndarray:
    """Stored codes (1-12, 255 no data) of (12, ny, nx) monthly tas (°C), pr and pet (mm/month)."""
    codes = climate_zone(tas, pr, pet)
    return np.where(codes == 0, np.uint8(CLASS_NODATA), codes).astype(np.uint8)


def climate_zone_window(store: str, snapshot: str, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """The ``climate_zone`` map of rows r0..r1 x columns c0..c1 of the cube of ``snapshot``."""
    clim = _climatology(store, snapshot)
    if clim is None:
        return np.full((r1 - r0, c1 - c0), CLASS_NODATA, dtype=np.uint8)
    w = clim.isel(y=slice(r0, r1), x=slice(c0, c1))
    arrays = [np.asarray(w[v].transpose("month", "y", "x").values, dtype=np.float64) for v in CLIMATE_INPUTS]
    return zone_codes(*arrays)


def static_overviews(
    maps: dict[str, np.ndarray], row_area: np.ndarray, factors: tuple[int, ...]
) -> dict[int, dict[str, np.ndarray]]:
    """Each static map's overview cells: area-weighted block modes (classes cannot be averaged)."""
    return {
        f: {n: block_mode(a, row_area, f, N_ZONE_CODES, CLASS_NODATA) for n, a in maps.items()}
        for f in factors
    }


@functools.lru_cache(maxsize=4)
def _stored(store: str, snapshot: str) -> zarr.Group:
    return zarr.open_group(
        open_repo(store).readonly_session(snapshot_id=snapshot).store, path=INDICATORS, mode="r"
    )


def compute_tile(t: BlockTask) -> TileResult:
    """``compute_block`` of the tile plus its static maps (see the module docstring)."""
    res = compute_block(t)
    maps = {"climate_zone": climate_zone_window(t.store, t.data_snap, t.r0, t.r1, t.c0, t.c1)}
    if t.prior_snap is not None:
        g = _stored(t.store, t.prior_snap)
        maps = {
            n: a
            for n, a in maps.items()
            if not np.array_equal(np.asarray(g[n][t.r0 : t.r1, t.c0 : t.c1]), a)  # type: ignore[index]
        }
    assert set(maps) <= set(STATIC_MAPS)
    return TileResult(
        res.r0,
        res.r1,
        res.c0,
        res.c1,
        res.maps,
        res.overviews,
        res.acc,
        static=maps,
        static_overviews=static_overviews(maps, t.row_area, t.factors) if maps else {},
    )
