"""SDG 15.3.1 in the indicator job: sub-indicator maps, the result and region tables.

Method: UNCCD Good Practice Guidance v2 (Sims et al. 2021) as transcribed by FAO SEPAL's
``sepal-contrib/sdg_15.3.1`` (the kernels: ``kernels.sdg``, ``kernels.sdg_productivity``, whose
docstrings cite the rows followed and flag the doubtful ones); the periods: ``sdg_periods``.
Per period and cell:

- land cover: ``land_cover_degradation(landcover[lc_from], landcover[lc_to])`` (WorldCover ->
  the 7 UNCCD classes -> the 7x7 matrix);
- land productivity: annual integrals of the cube's monthly ``ndvi`` (the sum of the 12 monthly
  composites of a calendar year, NDVI x month; a year the cube does not hold whole, or a cell
  with a missing month in it, is a missing year), then trajectory, state and performance over
  the period's NDVI years and the lookup. Land units of the performance: the IPCC climate zone
  (the job's ``climate_zone`` map) x the UNCCD class at ``lc_from``. A cube without ``ndvi``, or
  with too few whole years for the period, gives productivity *missing* (recorded in the
  period's ``productivity_note``), never zeros;
- SOC: ``soc_degradation(soc_stock[lc_to], soc_stock[lc_from])`` from the indicator maps just
  written (+-10 %, exactly 10 % stable);
- ``sdg_period``: "one out, all out" of the three; ``sdg_15_3_1``: the baseline's
  ``sdg_period``, and for a reporting period its status against the baseline (GPG v2 status
  matrix, ``kernels.sdg.status``).

Only land counts: a cell is land when its land cover at ``lc_to`` is a WorldCover class other
than 80 (permanent water bodies: the UN metadata's denominator is the total land area without
inland water); other cells (water, the sea, no land cover) are ``NODATA`` in every map and
outside every table. Codes: int8 -1 degraded, 0 stable, +1 improved, -128 no data.

Memory: out of core (``pipeline.indicators.sdg_scratch``). The NDVI months are read tile by
tile (``tile`` x ``tile`` cells rounded up to whole chunks of the cube, every month of the
tile); the per-cell intermediates of every period go to a scratch Zarr removed at the end, the
performance's 90th percentile over each land unit of the whole grid is selected exactly from
passes over it (``kernels.unit_percentile``), and the maps and tables are made from it tile by
tile, bit for bit the whole-grid result. ``Grids`` and ``classify_grids`` are the same
computation on arrays held whole in memory. Tables: ``pipeline.indicators.sdg_tables``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
import zarr

from kernels.errors import KernelInputError
from kernels.sdg import land_cover_degradation, sdg15_3_1, soc_degradation, status, to_unccd
from kernels.sdg_productivity import classify, lookup_productivity, performance_ratio, period_statistics
from kernels.sdg_tables import NODATA, PERFORMANCE_CUT, WATER
from pipeline import cf
from pipeline.indicators.sdg_periods import FLAGS, LAYERS, METHOD, TITLES, Period, SdgSpec, periods, spec_key
from pipeline.store import CUBE, INDICATORS, SDG, open_repo

N_UNIT_CLASSES = 8  # UNCCD classes 0-6 and 7 = no land cover


def class_attrs(name: str) -> dict[str, Any]:
    """CF attributes of an SDG map (int8 flags, ``_FillValue`` -128)."""
    return {
        "long_name": TITLES[name],
        "units": "1",
        "flag_values": np.asarray([c for c, _ in FLAGS], dtype=np.int8),
        "flag_meanings": " ".join(n for _, n in FLAGS),
        "_FillValue": np.int8(NODATA),
        "references": METHOD,
    }


@dataclass
class Grids:
    """Per-cell results for the whole grid of one period (filled tile by tile)."""

    land: np.ndarray  # bool
    land_cover: np.ndarray  # int8
    soc: np.ndarray  # int8
    unit: np.ndarray  # int32 land unit of the performance
    stats: np.ndarray | None  # (3, ny, nx) state z, performance mean, trajectory z; None = missing
    note: str = ""  # why productivity is missing
    maps: dict[str, np.ndarray] = field(default_factory=dict)


def ndvi_years(times: np.ndarray) -> list[int]:
    """Calendar years the cube's ``time`` axis holds whole (all 12 months)."""
    t = pd.DatetimeIndex(times)
    months = pd.Series(t.month, index=t.year).groupby(level=0).nunique()
    return [int(y) for y, n in months.items() if n == 12]


def annual_integrals(ndvi: np.ndarray, times: np.ndarray, years: list[int]) -> np.ndarray:
    """(years, ...) sums of the 12 monthly NDVI of each year (NaN if any month is missing)."""
    t = pd.DatetimeIndex(times)
    out = np.empty((len(years), *ndvi.shape[1:]))
    for k, year in enumerate(years):
        sel = np.flatnonzero(t.year == year)
        out[k] = np.sum(ndvi[sel].astype(np.float64), axis=0)  # NaN propagates
    return out


def productivity_note_of(p: Period, years: list[int], has_ndvi: bool) -> str:
    """Why productivity cannot be computed for ``p`` ("" when it can)."""
    if not has_ndvi:
        return "the cube holds no ndvi: add an NDVI source (e.g. demo-ndvi) to the job and ingest"
    absent = [y for y in range(p.ndvi_first, p.ndvi_last + 1) if y not in years]
    if absent:
        return (
            f"too few whole NDVI years for {p.ndvi_first}-{p.ndvi_last}: the cube lacks (some months "
            f"of) {absent}; ingest them, or choose periods within the NDVI years {years}"
        )
    try:
        probe = np.zeros((len(years), 1, 1))
        window = (p.ndvi_first, p.ndvi_last)
        period_statistics(
            probe, years, trajectory_period=window, state_period=window, performance_period=window
        )
    except KernelInputError as exc:
        return f"too few whole NDVI years for {p.ndvi_first}-{p.ndvi_last}: {exc}"
    return ""


def _open(store: str, snapshot: str) -> tuple[xr.Dataset, bool]:
    session = open_repo(store).readonly_session(snapshot_id=snapshot)
    names = list(zarr.open_group(session.store, path=CUBE, mode="r").array_keys())
    keep = {"landcover", "ndvi", "epoch", "time", "y", "x", "spatial_ref"}
    ds = xr.open_zarr(
        session.store,
        group=CUBE,
        consolidated=False,
        chunks=None,
        mask_and_scale=False,
        drop_variables=[n for n in names if n not in keep],
    )
    return ds, "ndvi" in ds and ds["ndvi"].dims == ("time", "y", "x")


@dataclass
class Inputs:
    """What the SDG pass reads: the cube (lazily), this run's indicator maps, the periods and
    the tiles (``tile`` x ``tile`` cells rounded up to whole chunks of the cube: each chunk is
    read once)."""

    cube: xr.Dataset
    pers: list[Period]
    notes: list[str]  # per period: why productivity is missing ("" when it is not)
    epochs: list[int]
    map_epochs: list[int]
    stock: Any
    zone: Any
    times: np.ndarray
    years: list[int]
    matrix: np.ndarray | None
    tile: tuple[int, int]

    @property
    def shape(self) -> tuple[int, int]:
        return self.cube.sizes["y"], self.cube.sizes["x"]

    def windows(self) -> Iterator[tuple[int, int, int, int]]:
        """The tiles (r0, r1, c0, c1), row of tiles by row of tiles."""
        (ny, nx), (ty, tx) = self.shape, self.tile
        for r0 in range(0, ny, ty):
            for c0 in range(0, nx, tx):
                yield r0, min(ny, r0 + ty), c0, min(nx, c0 + tx)


def open_inputs(store: str, data_snap: str, sink: Any, spec: SdgSpec, tile: int) -> Inputs:
    """The inputs of the pass. ``sink``: the store holding this run's indicator maps
    (``soc_stock``, ``climate_zone``)."""
    cube, has_ndvi = _open(store, data_snap)
    epochs = [int(e) for e in cube["epoch"].values]
    pers = periods(epochs, spec)
    maps = zarr.open_group(sink, path=INDICATORS, mode="r")
    times = cube["time"].values if has_ndvi else np.array([], dtype="datetime64[ns]")
    years = ndvi_years(times) if has_ndvi else []
    pc = (cube["ndvi"] if has_ndvi else cube["landcover"]).encoding.get("preferred_chunks", {})
    cy, cx = int(pc.get("y", 1)), int(pc.get("x", 1))
    return Inputs(
        cube,
        pers,
        [productivity_note_of(p, years, has_ndvi) for p in pers],
        epochs,
        [int(e) for e in np.asarray(maps["epoch"][:])],  # type: ignore[index]
        maps["soc_stock"],
        maps["climate_zone"],
        times,
        years,
        None if spec.matrix is None else np.asarray(spec.matrix),
        (-(-tile // cy) * cy, -(-tile // cx) * cx),
    )


def tile_grids(inp: Inputs, spec: SdgSpec, r0: int, r1: int, c0: int, c1: int) -> list[Grids]:
    """Every period's land mask, land-cover and SOC classes, land units and productivity
    statistics of the tile ``r0..r1`` x ``c0..c1`` (per cell: the same whatever the tiles)."""
    cube, pers = inp.cube, inp.pers
    need = sorted({e for p in pers for e in (p.lc_from, p.lc_to)})
    win = {"y": slice(r0, r1), "x": slice(c0, c1)}
    lc = {e: cube["landcover"].isel({"epoch": inp.epochs.index(e), **win}).values for e in need}
    st = {e: np.asarray(inp.stock[inp.map_epochs.index(e), r0:r1, c0:c1], dtype=np.float64) for e in need}
    cz = np.asarray(inp.zone[r0:r1, c0:c1]).astype(np.int32)
    integrals = None
    if not all(inp.notes):
        integrals = annual_integrals(cube["ndvi"].isel(win).values, inp.times, inp.years)
    out = []
    for p, note in zip(pers, inp.notes, strict=True):
        cls_to = to_unccd(lc[p.lc_to])
        cls_from = to_unccd(lc[p.lc_from]).astype(np.int32)
        stats = None
        if not note and integrals is not None:
            w = (p.ndvi_first, p.ndvi_last)
            s = period_statistics(
                integrals, inp.years, trajectory_period=w, state_period=w, performance_period=w
            )
            stats = np.stack(s)
        out.append(
            Grids(
                (cls_to != NODATA) & (cls_to != WATER),
                land_cover_degradation(lc[p.lc_from], lc[p.lc_to], matrix=inp.matrix),
                soc_degradation(st[p.lc_to], st[p.lc_from], threshold=spec.soc_threshold),
                cz * N_UNIT_CLASSES + np.where(cls_from < 0, N_UNIT_CLASSES - 1, cls_from),
                stats,
                note,
            )
        )
    return out


def productivity_of(trajectory: np.ndarray, state: np.ndarray, ratio: np.ndarray, lookup: str) -> np.ndarray:
    """The productivity classes from the trajectory and state classes and the performance ratio
    (as ``kernels.sdg_productivity.classify``: ratio <= 0.5 degraded, NaN missing)."""
    perf = np.where(np.isnan(ratio), np.int8(NODATA), np.where(ratio <= PERFORMANCE_CUT, -1, 0)).astype(
        np.int8
    )
    return lookup_productivity(trajectory, state, perf, lookup=lookup)


def period_layers(
    p: Period,
    land: np.ndarray,
    land_cover: np.ndarray,
    prod: np.ndarray,
    soc: np.ndarray,
    base: np.ndarray | None,
    spec: SdgSpec,
) -> dict[str, np.ndarray]:
    """A period's maps (``LAYERS``) from its sub-indicators; ``base``: the baseline's
    ``sdg_period`` (None for the baseline itself); cells that are not land -> ``NODATA``."""
    result = sdg15_3_1(land_cover, prod, soc, missing=spec.missing)
    layers = {"sdg_period": result, "sdg_land_cover": land_cover, "sdg_productivity": prod, "sdg_soc": soc}
    layers = {n: np.where(land, a, np.int8(NODATA)).astype(np.int8) for n, a in layers.items()}
    if base is None:
        indicator = layers["sdg_period"]
    else:
        indicator = np.where(land, status(base, layers["sdg_period"]), np.int8(NODATA)).astype(np.int8)
    return {"sdg_15_3_1": indicator, **layers}


def classify_grids(pers: list[Period], grids: list[Grids], spec: SdgSpec) -> None:
    """Each period's maps (``LAYERS``) from its grids held whole in memory (the job itself goes
    out of core: ``pipeline.indicators.sdg_scratch``); cells that are not land -> ``NODATA``."""
    base: np.ndarray | None = None
    for p, g in zip(pers, grids, strict=True):
        if g.stats is None:
            prod = np.full(g.land.shape, NODATA, dtype=np.int8)
        else:
            ratio = performance_ratio(g.stats[1], g.unit).reshape(g.land.shape)
            prod = classify(g.stats[2], g.stats[0], ratio, lookup=spec.lookup).productivity
        g.maps = period_layers(p, g.land, g.land_cover, prod, g.soc, base, spec)
        if p.kind == "baseline":
            base = g.maps["sdg_period"]


def maps_dataset(inp: Inputs, chunks: tuple[int, int]) -> xr.Dataset:
    """The (period, y, x) int8 maps (lazy zeros: only their metadata is written, the tiles are
    copied in after) with CF attributes and the periods' description."""
    import dask.array as da

    (ny, nx), n = inp.shape, len(inp.pers)
    cy, cx = min(chunks[0], ny), min(chunks[1], nx)
    data = {
        name: (
            ("period", "y", "x"),
            da.zeros((n, ny, nx), dtype=np.int8, chunks=(1, cy, cx)),
            class_attrs(name),
        )
        for name in LAYERS
    }
    cube = inp.cube
    coords = {"period": [p.label for p in inp.pers], "y": cube["y"].values, "x": cube["x"].values}
    ds = period_coords(xr.Dataset(data, coords=coords), inp.pers, inp.notes)
    ds = cf.annotate(ds, cf.crs_of(cube))
    for name in LAYERS:
        ds[name].encoding["chunks"] = (1, cy, cx)
    return ds


def period_coords(ds: xr.Dataset, pers: list[Period], notes: list[str]) -> xr.Dataset:
    """Per-period coordinates: kind, years, compared epochs, NDVI window, productivity note."""
    cols: dict[str, list[Any]] = {
        "period_kind": [p.kind for p in pers],
        "first_year": [p.first for p in pers],
        "last_year": [p.last for p in pers],
        "lc_from": [p.lc_from for p in pers],
        "lc_to": [p.lc_to for p in pers],
        "ndvi_first": [p.ndvi_first for p in pers],
        "ndvi_last": [p.ndvi_last for p in pers],
        "productivity_note": notes,
    }
    coords = {
        k: ("period", np.asarray(v, dtype="<U512" if k == "productivity_note" else None))
        for k, v in cols.items()
    }
    return ds.assign_coords(coords)


def write(session_store: Any, maps: xr.Dataset, tables: xr.Dataset, attrs: dict[str, Any]) -> None:
    """Replace the ``sdg`` group with the tables and the maps' arrays (one dataset: they share
    ``period``); the maps' values are written after (``sdg_scratch.copy_maps``)."""
    ds = xr.merge([maps, tables], combine_attrs="override", join="exact")
    ds.attrs = {**attrs, "method": METHOD}
    ds.to_zarr(session_store, group=SDG, mode="w", consolidated=False, zarr_format=3, compute=False)


def run(
    store: str,
    data_snap: str,
    sink: Any,
    idx: Any,
    spec: SdgSpec,
    chunks: tuple[int, int],
    tile: int,
) -> list[str]:
    """The SDG pass of the indicator job into ``sink`` (its transaction's store, after the
    indicator maps were written there); returns the periods' labels. Recomputed whole on every
    run that computes indicators (the default periods move with the epochs). Out of core: the
    per-cell intermediates go to a scratch Zarr removed at the end (``sdg_scratch``)."""
    from pipeline.indicators import sdg_scratch

    if spec.skip:
        return []
    if spec.baseline is None and spec.reporting is None:
        epochs = zarr.open_group(sink, path=INDICATORS, mode="r")["epoch"]
        if epochs.shape[0] < 2:  # type: ignore[union-attr]  # nothing to compare yet: no SDG group (the API says so)
            return []
    inp = open_inputs(store, data_snap, sink, spec, tile)
    labels = [p.label for p in inp.pers]
    attrs = {
        "input_snapshot": data_snap,
        "lookup": spec.lookup,
        "missing": spec.missing,
        "soc_threshold": spec.soc_threshold,
        "baseline": labels[0],
        "spec": spec_key(spec),  # a run with another spec recomputes the group (``current``)
        "land": "WorldCover classes other than 80 (permanent water bodies) at the period's last epoch",
    }
    with sdg_scratch.scratch() as tmp:
        tables = sdg_scratch.compute(inp, spec, idx, tmp)
        write(sink, maps_dataset(inp, chunks), tables, attrs)
        sdg_scratch.copy_maps(tmp, sink, inp, chunks)
    return labels


def current(prior: Any, data_snap: str | None, spec: SdgSpec) -> bool:
    """Whether the stored SDG group ``prior`` (a dataset, or None) was derived from ``data_snap``
    (None: any snapshot) with ``spec``. A group written before the spec was recorded counts as
    the default spec's."""
    if prior is None:
        return False
    if data_snap is not None and prior.attrs.get("input_snapshot") != data_snap:
        return False
    return bool(prior.attrs.get("spec", spec_key(SdgSpec())) == spec_key(spec))


def spec_changed(store: str, spec: SdgSpec) -> bool:
    """Whether the tip's SDG group exists and was computed with a spec other than ``spec``."""
    from pipeline.store import BRANCH, open_group

    prior = open_group(open_repo(store).readonly_session(branch=BRANCH), SDG, required=False)
    return prior is not None and not spec.skip and not current(prior, None, spec)


def backfill(
    repo: Any, store: str, data_snap: str, idx: Any, spec: SdgSpec, chunks: tuple[int, int], tile: int
) -> str | None:
    """For an up-to-date run: when the tip's indicators have no SDG group derived from
    ``data_snap`` with ``spec`` (a store written before SDG 15.3.1 existed, or the job file's
    periods, lookup or matrix changed since), compute it alone from the committed indicator
    maps in a commit of kind ``sdg``; returns its snapshot id, else None."""
    from pipeline.store import BRANCH, Kind, open_group, transaction

    tip = repo.readonly_session(branch=BRANCH)
    prior = open_group(tip, SDG, required=False)
    if spec.skip or current(prior, data_snap, spec):
        return None
    maps = open_group(tip, INDICATORS, required=False)
    if maps is None or (maps.sizes.get("epoch", 0) < 2 and spec.baseline is None and spec.reporting is None):
        return None
    meta = {"kind": Kind.SDG.value, "input_snapshot": data_snap}
    with transaction(repo, "sdg 15.3.1 from the committed indicators", meta) as tx:
        run(store, data_snap, tx.session.store, idx, spec, chunks, tile)
    return tx.snapshot_id
