"""The monthly job: monthly signals from the cube's NDVI into the group ``monthly``, one commit.

    data snapshot (newest ingest/update) -> plan (full, incremental or up to date)
    -> per tile (``pipeline.monthly.tiles``): read the NDVI it needs -> climatology (full runs)
       -> signals of the target months (``kernels.monthly``) -> maps written into the group as
       the tile is done -> zonal accumulators -> region tables -> commit

What the group holds (CF attributes, the cube's grid mapping):

- ``ndvi_anomaly``, ``bare_soil_frequency``, ``productivity_ratio``: (time, y, x) float32 maps;
- ``ndvi_clim_mean``, ``ndvi_clim_std``: (month, y, x) float32, the baseline climatology;
- ``region_<column>``: (region, time) float64 tables (columns in ``pipeline.monthly.tiles``);
- attributes: ``baseline`` [start, end], ``months`` (month indices), ``threshold``,
  ``input_snapshot``, ``digest`` (grid and region files), ``software``.

Incremental: the climatology is fixed by the baseline years, so a new month changes nothing
that was computed before: its anomaly needs the stored climatology, its bare-soil frequency the
11 months before it and its cumulative productivity January..that month. So when ``socobs
update`` appends months, only those are computed and appended (the time axis of every map and
table grows; no older chunk is rewritten). Everything is recomputed (``full``) when there is no
group yet, when the baseline, the threshold, the grid or the regions change, when an older
month's NDVI changed (the repository's diff says so), or when a new month falls inside the
baseline years (it would change the climatology).

The baseline defaults to the years for which the cube holds all 12 months when the group is
first computed (the demo: 2015-2024); it is then kept in the group's attributes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dask.array as da
import icechunk
import numpy as np
import xarray as xr
import zarr

from kernels.monthly import BARE_NDVI, WINDOW, climatology, signals
from pipeline import cf
from pipeline.errors import PipelineError
from pipeline.grid import Grid
from pipeline.indicators.blocks import window_of
from pipeline.indicators.tables import RegionIndex, coverages, files_digest, region_files, region_index
from pipeline.monthly.tiles import (
    CLIMATOLOGY,
    COLUMNS,
    MAPS,
    TABLE_PREFIX,
    accumulated,
    add,
    columns,
    reduce_tile,
    tiles,
)
from pipeline.store import (
    BRANCH,
    CUBE,
    MONTHLY,
    Kind,
    StoreError,
    data_snapshot,
    open_group,
    open_repo,
    transaction,
)

Report = Callable[[str, int, int], None]
Mode = Literal["full", "incremental", "up-to-date"]
EPOCH_DAY = np.datetime64("1970-01-01", "D")
BATCH = 12  # target months computed at once in a tile (bounds the tile's output memory)
ATTRS: dict[str, dict[str, str]] = {
    "ndvi_anomaly": {
        "units": "1",
        "long_name": "NDVI anomaly (z-score against the monthly climatology)",
        "definition": "(NDVI - mean of the calendar month over the baseline years) / sample std (ddof=1)",
    },
    "bare_soil_frequency": {
        "units": "1",
        "long_name": "bare-soil frequency over the last 12 months",
        "definition": "fraction of the valid months of the 12 months ending here with NDVI < threshold; "
        "soil-cover frequency = 1 - this",
    },
    "productivity_ratio": {
        "units": "1",
        "long_name": "cumulative productivity of the year so far against the baseline",
        "definition": "sum of NDVI January..month / sum of the climatological means January..month",
    },
    "ndvi_clim_mean": {"units": "1", "long_name": "NDVI climatology: mean of the calendar month"},
    "ndvi_clim_std": {
        "units": "1",
        "long_name": "NDVI climatology: sample std (ddof=1) of the calendar month",
    },
}


class MonthlyUnavailable(PipelineError):
    """The cube cannot give monthly signals (no monthly NDVI, or too short a baseline)."""


@dataclass(frozen=True)
class MonthlyResult:
    snapshot_id: str | None
    input_snapshot: str
    mode: Mode
    months: list[str]  # YYYY-MM of the months computed
    baseline: tuple[int, int]
    seconds: float
    regions: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def month_label(mi: int) -> str:
    return f"{mi // 12:04d}-{mi % 12 + 1:02d}"


def _month_indices(times: np.ndarray) -> np.ndarray:
    t = times.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    return t + 1970 * 12


def open_ndvi(store: str, snapshot: str) -> xr.DataArray:
    """The cube's monthly NDVI of a snapshot, lazily (plain indexing, no dask)."""
    session = open_repo(store).readonly_session(snapshot_id=snapshot)
    try:
        names = list(zarr.open_group(session.store, path=CUBE, mode="r").array_keys())
    except (FileNotFoundError, KeyError) as exc:
        raise StoreError(f"{store}: snapshot {snapshot} has no cube.") from exc
    if "ndvi" not in names or "time" not in names:
        raise MonthlyUnavailable(
            "the cube has no monthly NDVI (variable ndvi with a time dimension), which the monthly "
            "signals need. Add a monthly NDVI source to the job (e.g. demo-ndvi) and run `socobs "
            "ingest JOB.yaml`."
        )
    keep = {"ndvi", "time", "y", "x", "spatial_ref"}
    ds = xr.open_zarr(
        session.store,
        group=CUBE,
        consolidated=False,
        chunks=None,
        drop_variables=[n for n in names if n not in keep],
    )
    return ds["ndvi"]


def has_ndvi(store: str) -> bool:
    """Whether the newest data snapshot holds monthly NDVI (the monthly job has something to do)."""
    try:
        open_ndvi(store, data_snapshot(store))
    except MonthlyUnavailable:
        return False
    return True


def default_baseline(mi: np.ndarray) -> tuple[int, int]:
    """The years with all 12 months in the series (first to last of them)."""
    years, counts = np.unique(mi // 12, return_counts=True)
    full = years[counts == 12]
    if full.size < 2:
        raise MonthlyUnavailable(
            f"the monthly NDVI holds {full.size} complete year(s) ({[int(y) for y in full]}); the "
            "z-scores need a baseline of at least 2 years with all 12 months. Ingest more years of "
            "NDVI, or pass a baseline (--monthly-baseline START-END) of years the cube holds."
        )
    return int(full[0]), int(full[-1])


def check_baseline(baseline: tuple[int, int], mi: np.ndarray) -> None:
    start, end = baseline
    years = set((mi // 12).tolist())
    held = [y for y in range(start, end + 1) if y in years]
    if end < start or len(held) < 2:
        raise MonthlyUnavailable(
            f"baseline: expected START-END with START <= END covering at least 2 years of the cube's "
            f"NDVI ({min(years)}-{max(years)}), got {start}-{end}. Choose years the cube holds."
        )


def _digest(grid: Grid, registry: Path | None) -> str:
    regions = files_digest(region_files(registry))
    return hashlib.sha256(f"{grid.key()}|{regions}".encode()).hexdigest()[:16]


def plan(
    repo: icechunk.Repository,
    data_snap: str,
    mi: np.ndarray,
    digest: str,
    baseline: tuple[int, int] | None,
    threshold: float,
    force_full: bool,
) -> tuple[Mode, int, tuple[int, int]]:
    """What this run computes: (mode, position of the first month to compute, baseline)."""
    prior = open_group(repo.readonly_session(branch=BRANCH), MONTHLY, required=False)
    stored = tuple(int(y) for y in prior.attrs["baseline"]) if prior is not None else None
    base = baseline or stored or default_baseline(mi)
    check_baseline((base[0], base[1]), mi)
    base = (base[0], base[1])
    if force_full or prior is None or stored != base:
        return "full", 0, base
    if prior.attrs.get("digest") != digest or prior.attrs.get("threshold") != threshold:
        return "full", 0, base
    if cf.TIME_BNDS not in prior.variables:  # written before the CF time bounds
        return "full", 0, base
    old = [int(m) for m in prior.attrs.get("months", [])]
    if mi[: len(old)].tolist() != old or not old:
        return "full", 0, base
    old_input = str(prior.attrs.get("input_snapshot"))
    if old_input != data_snap:
        diff = repo.diff(from_snapshot_id=old_input, to_snapshot_id=data_snap)
        path = f"/{CUBE}/ndvi"
        if path in set(diff.new_arrays) | set(diff.deleted_arrays):
            return "full", 0, base
        if any(int(next(iter(c))) < len(old) for c in diff.updated_chunks.get(path, [])):
            return "full", 0, base  # an older month's NDVI changed
    if len(mi) == len(old):
        return "up-to-date", len(old), base
    if any(base[0] <= m // 12 <= base[1] for m in mi[len(old) :].tolist()):
        return "full", 0, base  # a new month inside the baseline changes the climatology
    return "incremental", len(old), base


def _template(
    ndvi: xr.DataArray, idx: RegionIndex, chunks: tuple[int, int], base: tuple[int, int]
) -> xr.Dataset:
    """The group's arrays (lazy zeros: metadata and coordinates only; the tiles fill them)."""
    nt, ny, nx = ndvi.shape
    cy, cx = min(chunks[0], ny), min(chunks[1], nx)
    data: dict[str, Any] = {
        n: (("time", "y", "x"), da.zeros((nt, ny, nx), dtype=np.float32, chunks=(1, cy, cx)), ATTRS[n])
        for n in MAPS
    }
    for n in CLIMATOLOGY:
        data[n] = (
            ("month", "y", "x"),
            da.zeros((12, ny, nx), dtype=np.float32, chunks=(1, cy, cx)),
            ATTRS[n],
        )
    for c in COLUMNS:
        unit = "km2" if c == "area_km2" else "1"
        data[TABLE_PREFIX + c] = (
            ("region", "time"),
            da.zeros((len(idx.ids), nt), dtype=np.float64, chunks=(len(idx.ids), 1)),
            {**cf.unit_attrs(unit), "long_name": f"region table: {c.replace('_', ' ')}"},
        )
    coords = {
        "time": ndvi["time"].values,
        "month": np.arange(1, 13, dtype=np.int64),
        "y": ndvi["y"].values,
        "x": ndvi["x"].values,
        "region": np.array(idx.ids, dtype="<U64"),
        "name": ("region", np.array(idx.names, dtype="<U128")),
        "level": ("region", np.array(idx.levels, dtype="<U16")),
        "parent_id": ("region", np.array(idx.parents, dtype="<U64")),
    }
    ds = cf.annotate(xr.Dataset(data, coords=coords), cf.crs_of(ndvi.to_dataset()), period=base)
    for v in ds.data_vars.values():
        v.encoding["chunks"] = (len(idx.ids), 1) if v.dims[0] == "region" else (1, cy, cx)
        v.encoding["_FillValue"] = np.nan
    ds["time"].encoding.update(units="days since 1970-01-01", calendar="proleptic_gregorian", dtype="int64")
    return ds


def _array(g: zarr.Group, name: str) -> zarr.Array:
    a = g[name]
    assert isinstance(a, zarr.Array), name
    return a


def _grow(store: Any, n_new: int, times: np.ndarray) -> int:
    """Room for ``n_new`` months in every time array of the group; returns the first new position."""
    g = zarr.open_group(store, path=MONTHLY, mode="r+")
    old = int(_array(g, "time").shape[0])
    for name, arr in g.arrays():
        dims = list(getattr(arr.metadata, "dimension_names", None) or ())
        if "time" not in dims:
            continue
        ax = dims.index("time")
        shape = list(arr.shape)
        shape[ax] = old + n_new
        arr.resize(tuple(shape))
        if name == "time":
            days = (times.astype("datetime64[D]") - EPOCH_DAY).astype(np.int64)
            arr[old:] = days.astype(arr.dtype)
    cf.extend(g, old)  # the new months' CF bounds
    return old


def _compute(
    ndvi: xr.DataArray,
    mi: np.ndarray,
    first: int,
    base: tuple[int, int],
    threshold: float,
    grid: Grid,
    idx: RegionIndex,
    sink: Any,
    prior: xr.Dataset | None,
    side: tuple[int, int],
    report: Report | None,
) -> dict[str, np.ndarray]:
    """Maps of the months ``first..`` written tile by tile into ``sink``; returns the tables'
    new columns (rows, new months). ``prior``: the group holding the climatology (incremental)."""
    g = zarr.open_group(sink, path=MONTHLY, mode="r+")
    row_area = grid.row_areas()
    covs = coverages(idx)
    n_new = len(mi) - first
    # the oldest month any new month needs: 11 months before it, and January of its year
    need = min(int(mi[first]) - (WINDOW - 1), int(mi[first]) - int(mi[first]) % 12)
    t0 = int(np.searchsorted(mi, need)) if prior is not None else 0
    totals: list[dict[str, list[np.ndarray]] | None] = [None] * n_new
    todo = tiles(grid.shape, side)
    for i, tl in enumerate(todo):
        win = {"y": slice(tl.r0, tl.r1), "x": slice(tl.c0, tl.c1)}
        v = np.asarray(ndvi.isel({"time": slice(t0, None), **win}).values, dtype=np.float32)
        part = mi[t0:]
        if prior is None:
            clim = climatology(v, part, *base)
            mean, std = clim.mean, clim.std
            _array(g, "ndvi_clim_mean")[:, tl.r0 : tl.r1, tl.c0 : tl.c1] = mean
            _array(g, "ndvi_clim_std")[:, tl.r0 : tl.r1, tl.c0 : tl.c1] = std
        else:
            mean = np.asarray(prior["ndvi_clim_mean"].isel(win).values, dtype=np.float32)
            std = np.asarray(prior["ndvi_clim_std"].isel(win).values, dtype=np.float32)
        tcovs = [window_of(c, tl.r0, tl.r1, tl.c0, tl.c1) for c in covs]
        ra = row_area[tl.r0 : tl.r1]
        for b0 in range(first, len(mi), BATCH):
            targets = np.arange(b0, min(b0 + BATCH, len(mi))) - t0
            sig = signals(v, part, targets, mean, std, threshold)
            where = (slice(b0, b0 + targets.size), slice(tl.r0, tl.r1), slice(tl.c0, tl.c1))
            for name, arr in zip(
                MAPS, (sig.anomaly, sig.bare_frequency, sig.productivity_ratio), strict=True
            ):
                _array(g, name)[where] = arr
            for k in range(targets.size):
                j = b0 + k - first
                totals[j] = add(totals[j], reduce_tile(accumulated(sig, k), tcovs, ra))
        if report:
            report("monthly", i + 1, len(todo))
    cols: dict[str, list[np.ndarray]] = {c: [] for c in COLUMNS}
    for acc in totals:
        assert acc is not None  # every grid has a tile
        for c, values in columns(idx, acc).items():
            cols[c].append(values)
    return {c: np.stack(v, axis=1) for c, v in cols.items()}


def run_monthly(
    store: str,
    *,
    chunks: tuple[int, int] = (512, 512),
    registry: Path | None = None,
    cache_dir: Path | None = None,
    baseline: tuple[int, int] | None = None,
    threshold: float = BARE_NDVI,
    force_full: bool = False,
    block: int | None = None,
    report: Report | None = None,
) -> MonthlyResult:
    """Bring the group ``monthly`` up to date with the newest data snapshot (one commit, or none
    when it is current). ``block``: the tiles' side in cells (default: the chunks)."""
    t_start = time.perf_counter()
    data_snap = data_snapshot(store)
    ndvi = open_ndvi(store, data_snap)
    mi = _month_indices(ndvi["time"].values)
    if mi.size > 1 and np.any(np.diff(mi) <= 0):
        raise PipelineError(
            "the cube's NDVI time axis is not strictly increasing by month; expected one composite "
            "per month. Re-ingest the NDVI source (`socobs ingest JOB.yaml`)."
        )
    grid = Grid.of(ndvi)
    digest = _digest(grid, registry)
    repo = open_repo(store)
    mode, first, base = plan(repo, data_snap, mi, digest, baseline, threshold, force_full)
    idx = region_index(grid, cache_dir, registry)
    if mode == "up-to-date":
        return MonthlyResult(None, data_snap, mode, [], base, time.perf_counter() - t_start, len(idx.ids))
    from pipeline.ingest.job import software_version

    new = [month_label(int(m)) for m in mi[first:]]
    meta = {"kind": Kind.MONTHLY.value, "input_snapshot": data_snap, "mode": mode, "months": new}
    side = (block, block) if block else chunks
    prior = None
    if mode == "incremental":
        prior = open_group(repo.readonly_session(branch=BRANCH), MONTHLY)
    with transaction(repo, f"monthly: {mode}, months {new[0]}..{new[-1]}", meta) as tx:
        sink = tx.session.store
        if mode == "full":
            _template(ndvi, idx, chunks, base).to_zarr(
                sink, group=MONTHLY, mode="w", compute=False, consolidated=False, zarr_format=3
            )
        else:
            _grow(sink, len(new), ndvi["time"].values[first:])
        cols = _compute(ndvi, mi, first, base, threshold, grid, idx, sink, prior, side, report)
        g = zarr.open_group(sink, path=MONTHLY, mode="r+")
        for c, values in cols.items():
            _array(g, TABLE_PREFIX + c)[:, first:] = values
        g.attrs.update(
            {
                "baseline": [base[0], base[1]],
                "months": [int(m) for m in mi],
                "threshold": threshold,
                "input_snapshot": data_snap,
                "digest": digest,
                "software": software_version(),
                "title": "soc-observatory monthly signals from NDVI",
            }
        )
    return MonthlyResult(
        tx.snapshot_id, data_snap, mode, new, base, time.perf_counter() - t_start, len(idx.ids)
    )
