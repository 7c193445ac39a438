"""``socobs indicators JOB.yaml``: maps, overviews and region tables from a cube snapshot.

Recipe (one commit to the job's repository):

    data snapshot (latest ingest/update commit) -> what its variables allow
    (``pipeline.indicators.inputs``: the stock from content x bulk density or given directly,
    bounds, change, strata; recorded in the groups' attributes) -> plan (full, incremental or
    up to date)
    -> per 2-D tile (rows x columns, ``pipeline.indicators.blocks``), per epoch: stock + bounds,
       change and rates against the baseline, SOC/clay ratio and class, Theil-Sen /
       Mann-Kendall trend over the epochs so far, overview cells, zonal accumulators, and the
       static (y, x) maps (the IPCC climate zone, ``pipeline.indicators.static``) -> each
       tile's maps and overview cells written into groups ``indicators`` and
       ``overviews/<factor>`` (region writes) as it arrives
    -> accumulators combined -> region rows -> group ``tables`` -> commit

Memory is bounded by the tile (default the chunks' rows squared, every new epoch) times the
tiles in flight (threads + 1), not by the grid; ``block`` (the tile's side) lowers it. Results
are bit-identical whatever the tile size and wherever the tiles run (threads here or a dask
cluster).

Every epoch's maps depend only on that epoch, the baseline (first) epoch and the epochs before
it (the trend of epoch t runs over baseline..t), so when ``socobs update`` appends an epoch,
only that epoch is computed and appended: no older chunk of any map, overview or table is
rewritten (``plan`` checks with the repository's own diff that the update touched nothing else;
if it did, or the regions or grid changed, the job recomputes everything).

Provenance: each epoch row of the tables records the data snapshot it was computed from and the
latest datetime of the STAC items behind that epoch. ``--snapshot ID`` recomputes from any past
data snapshot into a separate Zarr (the store is not touched) and compares it, bit for bit, with
what was committed from that snapshot.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import icechunk
import numpy as np
import xarray as xr
import zarr
from icechunk.xarray import to_icechunk

from pipeline import cf
from pipeline.errors import PipelineError
from pipeline.grid import Grid
from pipeline.indicators.blocks import STRIP, BlockTask, TableFold, tile_shape, window_of
from pipeline.indicators.inputs import ALL_INPUTS, FULL_KEY, Inputs, inputs_of, open_inputs, source_latest
from pipeline.indicators.maps import STOCK_INPUTS, overview_factors
from pipeline.indicators.registry import STATIC_MAPS, STRATA, TABLE_UNITS
from pipeline.indicators.sdg import backfill as sdg_backfill
from pipeline.indicators.sdg import run as run_sdg
from pipeline.indicators.sdg_periods import SdgSpec
from pipeline.indicators.stream import Runner, block_runner, create_maps, create_overviews, grow, write_block
from pipeline.indicators.tables import (
    RegionIndex,
    columns,
    coverages,
    files_digest,
    region_files,
    region_index,
    table_rows,
)
from pipeline.memory import release_freed
from pipeline.store import (
    BRANCH,
    CUBE,
    OVERVIEWS,
    SDG,
    TABLES,
    Kind,
    data_snapshot,
    latest_commit,
    open_group,
    open_repo,
    overview_group,
    transaction,
)
from pipeline.store import INDICATORS as MAPS

Report = Callable[[str, int, int], None]
Mode = Literal["full", "incremental", "up-to-date"]


@dataclass(frozen=True)
class IndicatorResult:
    snapshot_id: str | None
    input_snapshot: str
    mode: Mode
    computed_epochs: list[int]
    regions: int
    seconds: float
    overview_factors: list[int] = field(default_factory=list)


def require_inputs(cube: xr.Dataset) -> Inputs:
    """What the cube allows (``pipeline.indicators.inputs``); a PipelineError when no stock."""
    return inputs_of(cube)


def _digest(grid: Grid, registry: Path | None) -> str:
    """Identity of what the tables depend on besides the cube: the grid and the region files."""
    regions = files_digest(region_files(registry))
    return hashlib.sha256(f"{grid.key()}|{regions}".encode()).hexdigest()[:16]


# ---- planning ---------------------------------------------------------------------------


def plan(
    repo: icechunk.Repository,
    data_snap: str,
    cube: xr.Dataset,
    digest: str,
    force_full: bool,
    inputs_key: str = FULL_KEY,
) -> tuple[Mode, list[int], str | None]:
    """What this run computes: every epoch, only the new ones, or nothing; and the snapshot whose
    indicator maps hold the older epochs' stocks (incremental runs). Maps computed from other
    inputs (``Inputs.key``: e.g. one epoch then two) are recomputed whole."""
    epochs = [int(e) for e in cube["epoch"].values]
    tip_session = repo.readonly_session(branch=BRANCH)
    prior = open_group(tip_session, MAPS, required=False)
    if force_full or prior is None or prior.attrs.get("digest") != digest:
        return "full", epochs, None
    if prior.attrs.get("inputs_key", FULL_KEY) != inputs_key:
        return "full", epochs, None
    if any(m not in prior for m in STATIC_MAPS):  # written before the layer existed
        return "full", epochs, None
    if cf.EPOCH_TIME not in prior.variables:  # written before the CF dates of the epochs
        return "full", epochs, None
    old = [int(e) for e in prior["epoch"].values]
    old_input = str(prior.attrs.get("input_snapshot"))
    if old_input == data_snap and old == epochs:
        return "up-to-date", [], str(tip_session.snapshot_id)
    if epochs[: len(old)] != old or len(epochs) == len(old):
        return "full", epochs, None
    before = xr.open_zarr(
        repo.readonly_session(snapshot_id=old_input).store, group=CUBE, consolidated=False, chunks=None
    )
    for coord in ("depth_top", "depth_bottom", "y", "x"):
        if (coord in before.coords) != (coord in cube.coords):
            return "full", epochs, None  # depths appeared or went (e.g. a direct stock only)
        if coord in cube.coords and not np.array_equal(before[coord].values, cube[coord].values):
            return "full", epochs, None  # the depths or the grid changed
    diff = repo.diff(from_snapshot_id=old_input, to_snapshot_id=data_snap)
    inputs = {f"/cube/{v}" for v in ALL_INPUTS}
    if inputs & (set(diff.new_arrays) | set(diff.deleted_arrays)):
        return "full", epochs, None
    for path, chunks in diff.updated_chunks.items():
        if path in inputs and any(int(next(iter(c))) < len(old) for c in chunks):
            return "full", epochs, None  # an older epoch's inputs changed
    return "incremental", epochs[len(old) :], str(tip_session.snapshot_id)


# ---- computing, tile by tile -----------------------------------------------------------


@dataclass
class Computed:
    tables: dict[str, list[np.ndarray]] = field(default_factory=dict)
    epochs: list[int] = field(default_factory=list)


def _tasks(
    store: str,
    data_snap: str,
    prior_snap: str | None,
    grid: Grid,
    idx: RegionIndex,
    epochs: list[int],
    shape: tuple[int, int],
    factors: list[int],
    inputs: Inputs | None = None,
) -> Iterator[BlockTask]:
    """The tiles, row of tiles by row of tiles, left to right."""
    row_area = grid.row_areas()
    covs = coverages(idx)
    (ny, nx), (rows, cols) = grid.shape, shape
    for r0 in range(0, ny, rows):
        r1 = min(ny, r0 + rows)
        for c0 in range(0, nx, cols):
            c1 = min(nx, c0 + cols)
            yield BlockTask(
                store,
                data_snap,
                prior_snap,
                r0,
                r1,
                c0,
                c1,
                rows,
                cols,
                tuple(epochs),
                row_area[r0:r1],
                tuple(window_of(c, r0, r1, c0, c1) for c in covs),
                tuple(factors),
                inputs,
            )


def compute(
    store: str,
    data_snap: str,
    cube: xr.Dataset,
    new_epochs: list[int],
    prior_snap: str | None,
    idx: RegionIndex,
    grid: Grid,
    sink: Any,
    *,
    chunks: tuple[int, int],
    block: int | None,
    runner: Runner,
    report: Report | None = None,
    inputs: Inputs | None = None,
) -> Computed:
    """Maps and overviews of ``new_epochs`` written into ``sink`` tile by tile (older stocks
    read from ``prior_snap``'s maps); returns the table columns, combined from the tiles."""
    factors = overview_factors(grid.shape)
    shape = tile_shape(block or chunks[0], factors)
    tiles_y, tiles_x = (-(-n // s) for n, s in zip(grid.shape, shape, strict=True))
    folds = [TableFold(1 << (tiles_x - 1).bit_length()) for _ in new_epochs]
    pos: int | None = None
    tasks = _tasks(store, data_snap, prior_snap, grid, idx, new_epochs, shape, factors, inputs)
    for i, res in enumerate(runner(tasks)):
        if pos is None:
            pos = 0
            if prior_snap is None:
                root = zarr.open_group(sink, mode="a")
                if OVERVIEWS in root:
                    del root[OVERVIEWS]
                create_maps(sink, cube, res, new_epochs, chunks)
                create_overviews(sink, cube, res, new_epochs, chunks)
            else:
                pos = grow(sink, MAPS, new_epochs)
                for f in factors:
                    grow(sink, overview_group(f), new_epochs)
        write_block(sink, res, pos)
        for fold, nodes in zip(folds, res.acc, strict=True):
            fold.add(nodes, res.c1 == grid.shape[1])
        del res  # the tile's maps: only the tiles in flight are held
        release_freed()  # and the heaps give back what the tile freed (pipeline.memory)
        if report:
            report("indicators", i + 1, tiles_y * tiles_x)
    slots = 1 << (tiles_y * (shape[0] // STRIP) - 1).bit_length()
    out = Computed()
    for fold, e in zip(folds, new_epochs, strict=True):
        node = fold.down.total(slots)
        assert node is not None  # every grid has at least one cell
        acc = {n: table_rows(idx, leaves) for n, leaves in node.items()}
        for name, a in columns(acc).items():
            out.tables.setdefault(name, []).append(a)
        out.epochs.append(e)
    return out


def _encode(ds: xr.Dataset, chunks: dict[str, int]) -> xr.Dataset:
    """Set the storage chunks as encoding (the arrays are in memory: no dask graph)."""
    for v in ds.data_vars.values():
        v.encoding["chunks"] = tuple(
            min(chunks.get(str(d), n), n) if chunks.get(str(d), n) > 0 else n
            for d, n in zip(v.dims, v.shape, strict=True)
        )
    return ds


def tables_dataset(
    cube: xr.Dataset, c: Computed, idx: RegionIndex, input_snapshot: str, inputs: Inputs | None = None
) -> xr.Dataset:
    """The region tables; without land cover only stratum "all" has values (the others NaN)."""
    data: dict[str, tuple[tuple[str, ...], np.ndarray, dict[str, str]]] = {
        n: (("region", "epoch", "stratum"), np.stack(v, axis=1), cf.unit_attrs(TABLE_UNITS[n]))
        for n, v in c.tables.items()
    }
    if inputs is not None and not inputs.landcover:
        for _, values, _ in data.values():
            values[:, :, 1:] = np.nan  # cropland, grassland, tree cover: unknown, not zero
    if inputs is not None and not inputs.bounds:  # a sum over no bound is no bound, not 0 Tg
        for q in ("q05", "q95"):
            data[f"soc_stock_total_{q}"][1][...] = np.nan
    names = list(STOCK_INPUTS) if inputs is None else inputs.names
    data["input_snapshot"] = (("epoch",), np.array([input_snapshot] * len(c.epochs), dtype="<U32"), {})
    data["source_latest"] = (
        ("epoch",),
        np.array([source_latest(cube, e, names) for e in c.epochs], dtype="<U32"),
        {},
    )
    coords = {
        "region": np.array(idx.ids, dtype="<U64"),
        "epoch": np.asarray(c.epochs, dtype=np.int64),
        "stratum": np.array(STRATA, dtype="<U16"),
        "name": ("region", np.array(idx.names, dtype="<U128")),
        "level": ("region", np.array(idx.levels, dtype="<U16")),
        "parent_id": ("region", np.array(idx.parents, dtype="<U64")),
    }
    ds = cf.annotate(xr.Dataset(data, coords=coords), None)
    return _encode(ds, {"region": -1, "epoch": 1, "stratum": -1})


def _append(ds: xr.Dataset, session: icechunk.Session, group: str) -> None:
    """Append along epoch: grow each epoch array and write only the new slices, all arrays
    concurrently. (xarray's append path re-validated the whole group, and one array at a time
    through zarr's synchronous API cost ~7 ms each: 0.15 s per group, 0.6 s per run.)"""
    from zarr.api.asynchronous import open_group
    from zarr.core.sync import sync

    items = [
        (str(n), da.dims.index("epoch"), np.asarray(da.values))
        for n, da in ds.variables.items()
        if "epoch" in da.dims
    ]

    async def one(g: Any, name: str, ax: int, values: np.ndarray) -> None:
        arr = await g.getitem(name)
        old = arr.shape[ax]
        shape = list(arr.shape)
        shape[ax] = old + values.shape[ax]
        await arr.resize(tuple(shape))
        where = [slice(None)] * len(shape)
        where[ax] = slice(old, shape[ax])
        await arr.setitem(tuple(where), values)

    async def run() -> None:
        g = await open_group(store=session.store, path=group, mode="r+")
        await asyncio.gather(*(one(g, *it) for it in items))

    sync(run())


def _table_attrs(cube: xr.Dataset, attrs: dict[str, Any], factors: list[int]) -> dict[str, Any]:
    all_epochs = [int(e) for e in cube["epoch"].values]
    return {**attrs, "epochs": all_epochs, "overview_factors": factors, "baseline_epoch": all_epochs[0]}


def run_indicators(
    store: str,
    *,
    chunks: tuple[int, int] = (512, 512),
    registry: Path | None = None,
    cache_dir: Path | None = None,
    force_full: bool = False,
    report: Report | None = None,
    block: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    sdg: SdgSpec | None = None,
) -> IndicatorResult:
    """Compute what the newest data snapshot needs and commit it (see the module docstring).
    ``block``: the tiles' side in cells (rounded up to a power of two; default the chunks' rows);
    ``scheduler``: run the tiles on that dask cluster, else on ``workers`` threads; ``sdg``: the
    SDG 15.3.1 periods (``pipeline.indicators.sdg``), written in the same commit."""
    t0 = time.perf_counter()
    data_snap = data_snapshot(store)
    cube = open_inputs(store, data_snap)
    inputs = require_inputs(cube)
    grid = Grid.of(cube)
    digest = _digest(grid, registry)
    repo = open_repo(store)
    mode, epochs, prior_snap = plan(repo, data_snap, cube, digest, force_full, inputs.key())
    idx = region_index(grid, cache_dir, registry)
    release_freed()  # a coverage computed here freed whole bands of exactextract's output
    with_sdg = inputs.landcover and not inputs.static_stock  # else recorded in not_available
    if mode == "up-to-date":  # SDG 15.3.1 alone if the indicators predate it (a commit of kind sdg)
        sid = None
        if with_sdg:
            sid = sdg_backfill(repo, store, data_snap, idx, sdg or SdgSpec(), chunks, block or chunks[0])
        return IndicatorResult(sid, data_snap, mode, [], len(idx.ids), time.perf_counter() - t0)
    from pipeline.ingest.job import software_version

    attrs = {
        "input_snapshot": data_snap,
        "digest": digest,
        "software": software_version(),
        "convention": "linear",
        "depth_range_cm": [0, 30],
        **inputs.attrs(),
    }
    factors = overview_factors(grid.shape)
    meta = {"kind": Kind.INDICATORS.value, "input_snapshot": data_snap, "mode": mode, "epochs": epochs}
    with (
        block_runner(scheduler, workers) as runner,
        transaction(repo, f"indicators: {mode}, epochs {epochs[0]}-{epochs[-1]}", meta) as tx,
    ):
        sink = tx.session.store
        prior = prior_snap if mode == "incremental" else None
        c = compute(
            store,
            data_snap,
            cube,
            epochs,
            prior,
            idx,
            grid,
            sink,
            chunks=chunks,
            block=block,
            runner=runner,
            report=report,
            inputs=inputs,
        )
        tables = tables_dataset(cube, c, idx, data_snap, inputs)
        if mode == "full":
            to_icechunk(tables, tx.session, group=TABLES, mode="w")
        else:
            _append(tables, tx.session, TABLES)
        full_attrs = _table_attrs(cube, attrs, factors)
        zarr.open_group(sink, path=MAPS).attrs.update(full_attrs)
        zarr.open_group(sink, path=TABLES).attrs.update(full_attrs)
        if with_sdg:
            run_sdg(store, data_snap, sink, idx, sdg or SdgSpec(), chunks, block or chunks[0])
        elif SDG in (root := zarr.open_group(sink, mode="a")):
            del root[SDG]  # computed from inputs the cube no longer has
    return IndicatorResult(
        tx.snapshot_id, data_snap, mode, c.epochs, len(idx.ids), time.perf_counter() - t0, factors
    )


@dataclass(frozen=True)
class Reproduction:
    path: Path
    input_snapshot: str
    compared_with: str | None  # the indicator commit compared against, if any
    differences: list[str]


def _differs(mine: xr.DataArray, theirs: xr.DataArray, side: int = 1024) -> bool:
    """Whether two stored variables differ anywhere (read window by window: one epoch and at
    most ``side`` x ``side`` cells at a time)."""
    if mine.shape != theirs.shape:
        return True
    steps = {d: side if d in ("y", "x") else 1 for d in mine.dims if d in ("epoch", "y", "x")}
    for start in itertools.product(*(range(0, mine.sizes[d], k) for d, k in steps.items())):
        at = {d: slice(s0, s0 + k) for (d, k), s0 in zip(steps.items(), start, strict=True)}
        a, b = mine.isel(at).values, theirs.isel(at).values
        same = np.array_equal(a, b, equal_nan=True) if a.dtype.kind == "f" else np.array_equal(a, b)
        if not same:
            return True
    return False


def reproduce(
    store: str,
    snapshot: str,
    dest: Path,
    *,
    chunks: tuple[int, int] = (512, 512),
    registry: Path | None = None,
    cache_dir: Path | None = None,
    report: Report | None = None,
    block: int | None = None,
    scheduler: str | None = None,
) -> Reproduction:
    """Recompute every indicator of a past data snapshot into a plain Zarr at ``dest`` (the
    store is not written) and compare it with what was committed from that snapshot."""
    if dest.exists() and any(dest.iterdir()):
        raise PipelineError(f"--output {dest}: exists and is not empty; choose a new directory.")
    data_snap = data_snapshot(store, at=snapshot)
    cube = open_inputs(store, data_snap)
    inputs = require_inputs(cube)
    grid = Grid.of(cube)
    idx = region_index(grid, cache_dir, registry)
    epochs = [int(e) for e in cube["epoch"].values]
    sink = zarr.storage.LocalStore(dest)
    with block_runner(scheduler) as runner:
        c = compute(
            store,
            data_snap,
            cube,
            epochs,
            None,
            idx,
            grid,
            sink,
            chunks=chunks,
            block=block,
            runner=runner,
            report=report,
            inputs=inputs,
        )
    tables = tables_dataset(cube, c, idx, data_snap, inputs)
    tables.to_zarr(sink, group=TABLES, mode="a", zarr_format=3, consolidated=False)
    committed = latest_commit(store, Kind.INDICATORS, input_snapshot=data_snap)
    diffs: list[str] = []
    if committed is not None:
        session = open_repo(store).readonly_session(snapshot_id=committed)
        for group in (MAPS, TABLES):
            mine = xr.open_zarr(sink, group=group, consolidated=False, chunks=None)
            theirs = xr.open_zarr(session.store, group=group, consolidated=False, chunks=None)
            for name in mine.data_vars:
                if name != "input_snapshot" and _differs(mine[name], theirs[name]):
                    diffs.append(f"{group}/{name}")
    return Reproduction(dest, data_snap, committed, diffs)
