"""Readers of the store: one immutable ``Snapshot`` per commit, swapped atomically.

A request takes ``reader.current`` once and answers from that object only, so no response ever
mixes two commits; the poller builds the next ``Snapshot`` off to the side (in a thread), carries
the decoded chunks the commit did not change over to it (``observatory_api.chunks``), and
replaces the reference in one assignment. Tables are small and held in memory as numpy arrays;
maps stay in the store and are read chunk by chunk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import geopandas as gpd
import icechunk
import numpy as np
import xarray as xr
import zarr

from observatory_api.aoi_grid import GridGeometry
from observatory_api.caches import LRUCache
from observatory_api.chunks import ChunkCache, MapArray
from observatory_api.errors import NotReady
from observatory_api.settings import Settings
from pipeline.indicators.registry import TABLE_UNITS
from pipeline.regions.hierarchy import load_regions
from pipeline.store import (
    BRANCH,
    CUBE,
    INDICATORS,
    MONTHLY,
    OVERVIEWS,
    POINT,
    ROTHC,
    SDG,
    TABLES,
    StoreError,
    open_group,
    open_repo,
)

log = logging.getLogger("observatory_api")
OPTIONAL_GROUPS = (SDG, MONTHLY)  # lazily opened groups a snapshot may hold (Snapshot.groups)
READY_TTL = 1.0  # seconds a readiness check of the store is reused
BODY_CACHE_BYTES = 64 * 2**20
LANDCOVER = f"{CUBE}/landcover"  # keys of Snapshot.extra
SEQ_POTENTIAL = f"{ROTHC}/seq_potential"  # encoded answers (summaries, series, rankings) per snapshot


@dataclass(frozen=True)
class Level:
    """One resolution of the maps: the base grid (factor 1) or an overview."""

    factor: int
    ds: xr.Dataset  # metadata (units, dtypes, coordinates); data are read through ``arrays``
    arrays: dict[str, MapArray]
    units: dict[str, str]
    x0: float  # west edge
    y0: float  # north edge
    dx: float
    dy: float  # negative: north-up
    shape: tuple[int, int]

    @property
    def grid(self) -> GridGeometry:
        return GridGeometry(self.x0, self.y0, self.dx, self.dy, self.shape[0], self.shape[1])


def _edges(ds: xr.Dataset | xr.DataArray) -> tuple[float, float, float, float, tuple[int, int]]:
    x, y = ds["x"].values, ds["y"].values
    dx = float(x[1] - x[0]) if x.size > 1 else 360.0
    dy = float(y[1] - y[0]) if y.size > 1 else -180.0
    return float(x[0]) - dx / 2, float(y[0]) - dy / 2, dx, dy, (y.size, x.size)


def _arrays(session: icechunk.Session, group: str, names: list[str]) -> dict[str, MapArray]:
    g = zarr.open_group(session.store, path=group, mode="r")
    out = {}
    for name in names:
        a = g[name]
        if isinstance(a, zarr.Array) and a.ndim >= 2:
            out[name] = MapArray(f"/{group}/{name}", a)
    return out


def _level(session: icechunk.Session, group: str, ds: xr.Dataset, factor: int) -> Level:
    x0, y0, dx, dy, shape = _edges(ds)
    names = [str(n) for n, v in ds.data_vars.items() if v.dims[-2:] == ("y", "x")]
    # units_label: the project's unit string, kept when the CF ``units`` were respelled
    units = {n: str(ds[n].attrs.get("units_label", ds[n].attrs.get("units", ""))) for n in names}
    return Level(factor, ds, _arrays(session, group, names), units, x0, y0, dx, dy, shape)


@dataclass(frozen=True)
class PointLayers:
    """The ``point`` group (``pipeline.indicators.point``): every map of a cell in one chunk."""

    layers: list[str]  # epoch_layers' layer order
    static: list[str]  # static_layers' layer order
    dtypes: dict[str, str]  # each layer's dtype in the map group
    values: MapArray  # (epoch, layer, y, x)
    static_values: MapArray | None  # (layer, y, x)


def _point(session: icechunk.Session, base: Level, epochs: list[int]) -> PointLayers | None:
    """The point group when it holds exactly the base maps and epochs (else None: points are
    then read from the maps themselves)."""
    try:
        g = zarr.open_group(session.store, path=POINT, mode="r")
        values, epoch = g["epoch_layers"], g["epoch"]
    except (FileNotFoundError, KeyError, zarr.errors.GroupNotFoundError):
        return None
    layers = [str(n) for n in g.attrs.get("layers", [])]  # type: ignore[union-attr]
    static = [str(n) for n in g.attrs.get("static", [])]  # type: ignore[union-attr]
    dtypes = {str(k): str(v) for k, v in dict(g.attrs.get("dtypes", {})).items()}  # type: ignore[arg-type]
    if not isinstance(values, zarr.Array) or not isinstance(epoch, zarr.Array):
        return None
    if sorted(layers + static) != sorted(base.arrays) or np.asarray(epoch[:]).astype(int).tolist() != epochs:
        return None
    if values.shape != (len(epochs), len(layers), *base.shape):
        return None
    sv = g["static_layers"] if static and "static_layers" in g else None
    if static and not isinstance(sv, zarr.Array):
        return None
    return PointLayers(
        layers,
        static,
        dtypes,
        MapArray(f"/{POINT}/epoch_layers", values),
        MapArray(f"/{POINT}/static_layers", sv) if isinstance(sv, zarr.Array) else None,
    )


@dataclass
class Snapshot:
    """Everything the API answers from, for one commit of the store."""

    snapshot_id: str
    written_at: datetime
    message: str
    levels: list[Level]  # finest first
    tables: dict[str, np.ndarray]  # column -> (region, epoch, stratum)
    epochs: list[int]
    input_snapshot: list[str]
    source_latest: list[str]
    region_ids: list[str]
    names: list[str]
    levels_of: list[str]
    parents: list[str]
    regions: gpd.GeoDataFrame  # geometries, indexed by region_id
    provenance: dict[str, Any]
    cube: xr.Dataset | None
    rothc: xr.Dataset | None
    attrs: dict[str, Any]
    extra: dict[str, MapArray] = field(default_factory=dict)  # cube landcover, RothC maps
    point: PointLayers | None = None  # the maps arranged for one cell (POINT), when they match
    groups: dict[str, xr.Dataset] = field(default_factory=dict)  # optional groups (OPTIONAL_GROUPS)
    chunks: ChunkCache = field(default_factory=ChunkCache)
    bodies: LRUCache[Any, bytes] = field(default_factory=lambda: LRUCache("bodies", BODY_CACHE_BYTES))
    memo: dict[Any, Any] = field(default_factory=dict)  # small per-snapshot facts (bboxes, STAC)

    @cached_property
    def row(self) -> dict[str, int]:
        return {r: i for i, r in enumerate(self.region_ids)}

    @cached_property
    def children(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for rid, p in zip(self.region_ids, self.parents, strict=True):
            if p:
                out.setdefault(p, []).append(rid)
        out["global"] = [
            r for r, lv in zip(self.region_ids, self.levels_of, strict=True) if lv == "region"
        ] + [
            r
            for r, p, lv in zip(self.region_ids, self.parents, self.levels_of, strict=True)
            if lv == "country" and not p
        ]
        return out

    @property
    def base(self) -> Level:
        return self.levels[0]

    @property
    def arrays(self) -> dict[str, MapArray]:
        """Every chunk-read array of this snapshot, by store path."""
        out = {a.path: a for lv in self.levels for a in lv.arrays.values()}
        out.update({a.path: a for a in self.extra.values()})
        return out

    def epoch_index(self, epoch: int) -> int:
        return self.epochs.index(epoch)


def load_snapshot(settings: Settings, snapshot_id: str | None = None) -> Snapshot:
    """Open one commit (default: the tip of ``main``) and load what the API needs."""
    repo = open_repo(settings.store)
    session = (
        repo.readonly_session(snapshot_id=snapshot_id)
        if snapshot_id
        else repo.readonly_session(branch=BRANCH)
    )
    sid = str(session.snapshot_id)
    info = repo.lookup_snapshot(sid)
    maps = open_group(session, INDICATORS)
    tables_ds = open_group(session, TABLES)
    assert maps is not None and tables_ds is not None
    factors = [int(f) for f in maps.attrs.get("overview_factors", [])]
    levels = [_level(session, INDICATORS, maps, 1)]
    for f in factors:
        path = f"{OVERVIEWS}/{f}"
        ov = open_group(session, path)
        assert ov is not None
        levels.append(_level(session, path, ov, f))
    t = tables_ds.load()
    tables = {c: np.asarray(t[c].values) for c in TABLE_UNITS if c in t}
    cube = open_group(session, CUBE, required=False)
    prov = json.loads(cube.attrs.get("provenance", "{}")) if cube is not None else {}
    rothc = open_group(session, ROTHC, required=False)
    extra: dict[str, MapArray] = {}
    if cube is not None and "landcover" in cube and cube["landcover"].dims == ("epoch", "y", "x"):
        extra[LANDCOVER] = _arrays(session, CUBE, ["landcover"])["landcover"]
    if rothc is not None and "seq_potential" in rothc:
        extra[SEQ_POTENTIAL] = _arrays(session, ROTHC, ["seq_potential"])["seq_potential"]
    groups = {g: ds for g in OPTIONAL_GROUPS if (ds := open_group(session, g, required=False)) is not None}
    if SDG in groups:  # the SDG maps (period, y, x), tileable: observatory_api.services.sdg
        sdg_maps = [str(n) for n, v in groups[SDG].data_vars.items() if v.dims == ("period", "y", "x")]
        extra.update({f"{SDG}/{n}": a for n, a in _arrays(session, SDG, sdg_maps).items()})
    if MONTHLY in groups:  # the monthly maps (time, y, x), tileable: observatory_api.services.monthly
        m_maps = [str(n) for n, v in groups[MONTHLY].data_vars.items() if v.dims == ("time", "y", "x")]
        extra.update({f"{MONTHLY}/{n}": a for n, a in _arrays(session, MONTHLY, m_maps).items()})
    epochs = [int(e) for e in t["epoch"].values]
    point = _point(session, levels[0], epochs)
    if point is not None:
        extra[f"{POINT}/epoch_layers"] = point.values
        if point.static_values is not None:
            extra[f"{POINT}/static_layers"] = point.static_values
    return Snapshot(
        snapshot_id=sid,
        written_at=info.written_at,
        message=info.message,
        levels=levels,
        tables=tables,
        epochs=epochs,
        input_snapshot=[str(s) for s in t["input_snapshot"].values],
        source_latest=[str(s) for s in t["source_latest"].values],
        region_ids=[str(r) for r in t["region"].values],
        names=[str(n) for n in t["name"].values],
        levels_of=[str(v) for v in t["level"].values],
        parents=[str(p) for p in t["parent_id"].values],
        regions=load_regions(settings.registry).set_index("region_id"),
        provenance=prov,
        cube=cube,
        rothc=rothc,
        attrs=dict(maps.attrs),
        extra=extra,
        groups=groups,
        point=point,
    )


def carry_over(repo: icechunk.Repository, old: Snapshot, new: Snapshot) -> int:
    """Give ``new`` the decoded chunks of ``old`` its commit did not change (Icechunk's diff)."""
    diff = repo.diff(from_snapshot_id=old.snapshot_id, to_snapshot_id=new.snapshot_id)
    replaced = set(diff.new_arrays) | set(diff.deleted_arrays)
    changed = {path: {tuple(int(i) for i in c) for c in cs} for path, cs in diff.updated_chunks.items()}
    return new.chunks.carry_from(old.chunks, new.arrays, changed, replaced)


class StoreReader:
    """Holds the current ``Snapshot`` and replaces it when the branch tip moves."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._current: Snapshot | None = None
        self._lock = asyncio.Lock()
        self.last_error: str | None = None
        self.checked_at: datetime | None = None
        self._ready_at = 0.0
        self._ready_error: str | None = None
        # called with (new, old) before a swap, e.g. to compute the answers clients will ask for
        self.prepare: Callable[[Snapshot, Snapshot], Awaitable[None]] | None = None
        # called with the new snapshot right after it became current (must return at once: e.g.
        # wake a background thread, as the registry's ex-post assessments do)
        self.on_swap: list[Callable[[Snapshot], None]] = []

    @property
    def loaded(self) -> Snapshot | None:
        """The snapshot served, or None before the first one is loaded."""
        return self._current

    @property
    def current(self) -> Snapshot:
        snap = self._current
        if snap is None:
            raise NotReady(
                f"no indicators to serve yet ({self.last_error or 'loading'}). Run `socobs indicators "
                "JOB.yaml` (or `make run`); the API picks them up by itself."
            )
        return snap

    def tip(self) -> str:
        return str(open_repo(self.settings.store).lookup_branch(BRANCH))

    async def store_error(self) -> str | None:
        """Why the store cannot be read now (None when it can); checked at most once a second."""
        if time.monotonic() - self._ready_at > READY_TTL:
            try:
                await asyncio.to_thread(self.tip)
                self._ready_error = None
            except Exception as exc:
                self._ready_error = _public_reason(exc)
            self._ready_at = time.monotonic()
        return self._ready_error

    def _load(self, tip: str) -> Snapshot:
        snap = load_snapshot(self.settings, tip)
        old = self._current
        if old is not None:
            try:
                carried = carry_over(open_repo(self.settings.store), old, snap)
                log.info("snapshot %s: %d decoded chunks carried over", snap.snapshot_id, carried)
            except Exception as exc:  # an optimisation only: the new snapshot reads on demand
                log.warning("carrying chunks over failed: %s: %s", type(exc).__name__, exc)
        return snap

    async def refresh(self) -> bool:
        """Load the tip if it moved; True when a new snapshot is now served."""
        async with self._lock:
            try:
                tip = await asyncio.to_thread(self.tip)
                self.checked_at = datetime.now(UTC)
                if self._current is not None and self._current.snapshot_id == tip:
                    self.last_error = None
                    return False
                snap = await asyncio.to_thread(self._load, tip)
            except Exception as exc:  # keep serving the last good snapshot; report in /v1/status
                self.last_error = _public_reason(exc)
                log.warning("store not (yet) readable: %s: %s", type(exc).__name__, exc)
                return False
            old = self._current
            if old is not None and self.prepare is not None:
                try:
                    await self.prepare(snap, old)
                except Exception as exc:  # an optimisation only
                    log.warning(
                        "preparing snapshot %s failed: %s: %s", snap.snapshot_id, type(exc).__name__, exc
                    )
            self._current = snap  # the atomic swap
            self.last_error = None
            log.info("serving snapshot %s", snap.snapshot_id)
            for hook in list(self.on_swap):
                try:
                    hook(snap)
                except Exception as exc:  # a listener never stops the swap
                    log.warning("on_swap hook failed: %s: %s", type(exc).__name__, exc)
            return True

    async def poll(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.settings.poll_seconds)


def _public_reason(exc: Exception) -> str:
    """What may be said about a store failure in an answer: its kind, never a path or its text."""
    if isinstance(exc, StoreError) and repr(INDICATORS) in str(exc):
        return "the store holds no indicators yet"
    return f"the store is not readable ({type(exc).__name__}; details in the server log)"


__all__ = ["Level", "Snapshot", "StoreReader", "load_snapshot"]
