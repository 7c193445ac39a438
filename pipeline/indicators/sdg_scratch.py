"""The SDG 15.3.1 pass out of core: per-cell intermediates in a scratch Zarr, tile by tile.

The performance's 90th percentile is over each land unit of the whole grid, so the pass cannot
finish a tile before it has seen them all. Instead of holding the grid's per-cell numbers
(``Grids``, 17 to 31 bytes per cell per period), it writes them to a scratch Zarr in a
temporary directory (``scratch``: removed at the end, also on error) and reads them back:

1. ``fill``: tile by tile (``sdg.tile_grids``: every NDVI month of the tile), per period the
   land mask, the land-cover and SOC classes, the land unit, and, with NDVI, the trajectory
   and state classes and the performance period's mean NDVI; the land units seen are kept;
2. ``kernels.unit_percentile.unit_percentiles``: each unit's 90th percentile of the means,
   exact (the same float64 as the whole-grid ``performance_ratio``), from passes over the
   scratch tiles holding one tile and per-unit counts;
3. ``classify``: tile by tile, the performance ratio against its unit's percentile, the
   productivity lookup, the period's maps (``sdg.period_layers``), written to the scratch;
4. ``areas``: the region tables from full-width strips of the maps (``sdg_tables.PeriodAreas``:
   the same float64 sums as the whole-grid zonal kernel); ``copy_maps`` then copies the maps
   into the ``sdg`` group chunk row by chunk row.

Every step works per cell or replays the whole-grid sums in their order, so maps and tables
are bit for bit those of the whole-grid computation (``tests/pipeline/test_sdg_out_of_core.py``).
Memory: a tile (or strip) and per-unit counts, never the grid.
"""

from __future__ import annotations

import asyncio
import errno
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import xarray as xr
import zarr
from zarr.core.sync import sync
from zarr.storage import LocalStore

from kernels.sdg_productivity import classify as classify_kernel
from kernels.sdg_tables import NODATA, PERFORMANCE_PERCENTILE
from kernels.unit_percentile import ratio_to, unit_percentiles
from pipeline.errors import PipelineError
from pipeline.grid import Grid
from pipeline.indicators.sdg import Inputs, period_layers, productivity_of, tile_grids
from pipeline.indicators.sdg_periods import LAYERS, SdgSpec
from pipeline.indicators.sdg_tables import PeriodAreas, tables_dataset
from pipeline.indicators.tables import RegionIndex
from pipeline.store import SDG

PREFIX = "socobs-sdg-"  # of the scratch directory, in the system's temporary directory
STRIP_ROWS = 64  # rows of the scratch chunks and of the table strips
CELLS = ("land", "land_cover", "soc", "unit")
PRODUCTIVITY = ("trajectory", "state", "mean")
DTYPES = {
    "land": np.bool_,
    "land_cover": np.int8,
    "soc": np.int8,
    "unit": np.int32,
    "trajectory": np.int8,
    "state": np.int8,
    "mean": np.float64,
}

Window = tuple[int, int, int, int]


def _no_room(where: str, exc: OSError) -> PipelineError:
    return PipelineError(
        f"SDG 15.3.1: expected a writable temporary directory with room for the pass's scratch "
        f"store (about 17 bytes per cell per period), got {exc.strerror or exc} in {where}. Free "
        "space there, or set TMPDIR to a directory on a larger disk, and run the job again."
    )


@contextmanager
def scratch() -> Iterator[zarr.Group]:
    """A Zarr group in a new temporary directory, removed when the block ends (also on error).
    A temporary directory that cannot be made or is full is reported as a ``PipelineError``."""
    where = tempfile.gettempdir()
    try:
        tmp = tempfile.TemporaryDirectory(prefix=PREFIX)
    except OSError as exc:
        raise _no_room(where, exc) from exc
    with tmp as d:
        try:
            yield zarr.open_group(LocalStore(d), mode="w", zarr_format=3)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise _no_room(where, exc) from exc
            raise


def _rows(inp: Inputs) -> int:
    return max(1, min(inp.tile[0], STRIP_ROWS))


def create(inp: Inputs, g: zarr.Group) -> None:
    """The scratch arrays: per period ``CELLS`` (and ``PRODUCTIVITY`` when it has NDVI), and
    the (period, y, x) maps."""
    (ny, nx), chunk = inp.shape, (_rows(inp), min(inp.tile[1], inp.shape[1]))
    for k, note in enumerate(inp.notes):
        sub = g.create_group(str(k))
        for name in CELLS + (() if note else PRODUCTIVITY):
            sub.create_array(name, shape=(ny, nx), dtype=DTYPES[name], chunks=chunk)
    maps = g.create_group("maps")
    for name in LAYERS:
        maps.create_array(
            name, shape=(len(inp.pers), ny, nx), dtype=np.int8, chunks=(1, *chunk), fill_value=NODATA
        )


def _arrays(g: zarr.Group, path: str | int) -> dict[str, Any]:
    """The arrays of the group ``path`` of ``g`` by name."""
    sub = g[str(path)]
    assert isinstance(sub, zarr.Group)
    return {name: a for name, a in sub.arrays()}


def _get(reads: list[tuple[Any, Any]]) -> list[np.ndarray]:
    """The selections ``(array, selection)`` read concurrently (one synchronous Zarr call costs
    ~10 ms, mostly waiting)."""

    async def run() -> list[Any]:
        return await asyncio.gather(*(a.async_array.getitem(sel) for a, sel in reads))

    return [np.asarray(v) for v in sync(run())]


def _set(writes: list[tuple[Any, Any, np.ndarray]]) -> None:
    """The writes ``(array, selection, values)``, concurrently."""

    async def run() -> None:
        await asyncio.gather(*(a.async_array.setitem(sel, v) for a, sel, v in writes))

    sync(run())


def fill(inp: Inputs, spec: SdgSpec, g: zarr.Group) -> list[np.ndarray]:
    """Step 1 (see the module docstring); returns each period's land units (sorted ids)."""
    units = [np.empty(0, np.int32) for _ in inp.pers]
    arrays = [_arrays(g, k) for k in range(len(inp.pers))]
    for r0, r1, c0, c1 in inp.windows():
        w = (slice(r0, r1), slice(c0, c1))
        writes = []
        for k, t in enumerate(tile_grids(inp, spec, r0, r1, c0, c1)):
            a = arrays[k]
            values = {"land": t.land, "land_cover": t.land_cover, "soc": t.soc, "unit": t.unit}
            if t.stats is not None:
                c = classify_kernel(t.stats[2], t.stats[0], t.stats[1], lookup=spec.lookup)  # classes only
                values.update(trajectory=c.trajectory, state=c.state, mean=t.stats[1])
            writes += [(a[name], w, v) for name, v in values.items()]
            units[k] = np.union1d(units[k], t.unit)
        _set(writes)
        del writes
    return units


def percentiles(inp: Inputs, g: zarr.Group, k: int, units: np.ndarray) -> np.ndarray:
    """Step 2: period ``k``'s percentile of each unit of ``units`` (NaN for a unit without a
    finite mean)."""
    a = _arrays(g, k)

    def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for r0, r1, c0, c1 in inp.windows():
            w = (slice(r0, r1), slice(c0, c1))
            unit, mean = _get([(a["unit"], w), (a["mean"], w)])
            yield np.searchsorted(units, unit), mean

    return unit_percentiles(units.size, chunks, PERFORMANCE_PERCENTILE)


def classify(
    inp: Inputs, spec: SdgSpec, g: zarr.Group, units: list[np.ndarray], pct: list[np.ndarray | None]
) -> None:
    """Step 3: every period's maps, tile by tile, into the scratch ``maps``."""
    arrays = [_arrays(g, k) for k in range(len(inp.pers))]
    maps = _arrays(g, "maps")
    for r0, r1, c0, c1 in inp.windows():
        w = (slice(r0, r1), slice(c0, c1))
        base: np.ndarray | None = None
        writes = []
        for k, p in enumerate(inp.pers):
            a, q = arrays[k], pct[k]
            names = list(a)
            v = dict(zip(names, _get([(a[n], w) for n in names]), strict=True))
            if q is None:
                prod = np.full(v["land"].shape, NODATA, dtype=np.int8)
            else:
                ratio = ratio_to(v["mean"], q[np.searchsorted(units[k], v["unit"])])
                prod = productivity_of(v["trajectory"], v["state"], ratio, spec.lookup)
            layers = period_layers(p, v["land"], v["land_cover"], prod, v["soc"], base, spec)
            if p.kind == "baseline":
                base = layers["sdg_period"]
            writes += [(maps[name], (k, w[0], w[1]), arr) for name, arr in layers.items()]
        _set(writes)


def areas(inp: Inputs, idx: RegionIndex, g: zarr.Group) -> list[np.ndarray]:
    """Step 4: each period's (rows, layers, classes) areas from full-width strips."""
    grid, ny, rows = Grid.of(inp.cube), inp.shape[0], _rows(inp)
    maps = _arrays(g, "maps")
    out = []
    for k in range(len(inp.pers)):
        land_arr = _arrays(g, k)["land"]
        acc = PeriodAreas(idx, grid)
        for r0 in range(0, ny, rows):
            r1 = min(ny, r0 + rows)
            *layers, land = _get(
                [*((maps[n], (k, slice(r0, r1))) for n in LAYERS), (land_arr, slice(r0, r1))]
            )
            acc.add(dict(zip(LAYERS, layers, strict=True)), land)
        out.append(acc.total())
    return out


def compute(inp: Inputs, spec: SdgSpec, idx: RegionIndex, g: zarr.Group) -> xr.Dataset:
    """Steps 1-4 into the scratch group ``g``; returns the tables."""
    create(inp, g)
    units = fill(inp, spec, g)
    pct = [None if note else percentiles(inp, g, k, units[k]) for k, note in enumerate(inp.notes)]
    classify(inp, spec, g, units, pct)
    return tables_dataset(idx, [p.label for p in inp.pers], areas(inp, idx, g))


def copy_maps(g: zarr.Group, sink: Any, inp: Inputs, chunks: tuple[int, int]) -> None:
    """The scratch maps into the ``sdg`` group (created by ``sdg.write``), a row of chunks at a
    time."""
    out = dict(zarr.open_group(sink, path=SDG, mode="r+").arrays())
    ny = inp.shape[0]
    cy = min(chunks[0], ny)
    src = _arrays(g, "maps")
    for k in range(len(inp.pers)):
        for r0 in range(0, ny, cy):
            where = (k, slice(r0, r0 + cy))
            _set(
                [
                    (out[n], where, v)
                    for n, v in zip(LAYERS, _get([(src[n], where) for n in LAYERS]), strict=True)
                ]
            )
