"""Readers of the store: one immutable ``Snapshot`` per commit, swapped atomically.

A request takes ``reader.current`` once and answers from that object only, so no response ever
mixes two commits; the poller builds the next ``Snapshot`` off to the side (in a thread) and
replaces the reference in one assignment. Tables are small and held in memory as numpy arrays;
maps stay in the store and are read per tile/point, with decoded 2-D slices kept in a small LRU.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import geopandas as gpd
import icechunk
import numpy as np
import xarray as xr

from observatory_api.errors import NotReady
from observatory_api.settings import Settings
from pipeline.indicator_registry import STRATA, TABLE_UNITS
from pipeline.regions import load_regions
from pipeline.store import BRANCH, open_repo

log = logging.getLogger("observatory_api")
SLICE_CACHE_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Level:
    """One resolution of the maps: the base grid (factor 1) or an overview."""

    factor: int
    ds: xr.Dataset
    x0: float  # west edge
    y0: float  # north edge
    dx: float
    dy: float  # negative: north-up
    shape: tuple[int, int]


def _level(ds: xr.Dataset, factor: int) -> Level:
    x, y = ds["x"].values, ds["y"].values
    dx = float(x[1] - x[0]) if x.size > 1 else 360.0
    dy = float(y[1] - y[0]) if y.size > 1 else -180.0
    return Level(factor, ds, float(x[0]) - dx / 2, float(y[0]) - dy / 2, dx, dy, (y.size, x.size))


class SliceCache:
    """Decoded 2-D map slices by (level, variable, epoch), bounded in bytes; thread-safe."""

    def __init__(self, max_bytes: int = SLICE_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: OrderedDict[tuple[int, str, int], np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, level: Level, var: str, epoch_index: int) -> np.ndarray:
        key = (level.factor, var, epoch_index)
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
                return hit
        arr = np.asarray(level.ds[var].isel(epoch=epoch_index).values)
        with self.lock:
            self.items[key] = arr
            self.bytes += arr.nbytes
            while self.bytes > self.max_bytes and len(self.items) > 1:
                _, old = self.items.popitem(last=False)
                self.bytes -= old.nbytes
        return arr


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
    slices: SliceCache = field(default_factory=SliceCache)
    memo: dict[Any, Any] = field(default_factory=dict)

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

    def epoch_index(self, epoch: int) -> int:
        return self.epochs.index(epoch)


def _open_group(session: icechunk.Session, group: str, required: bool = True) -> xr.Dataset | None:
    try:
        return xr.open_zarr(session.store, group=group, consolidated=False, chunks=None)
    except (FileNotFoundError, KeyError):
        if required:
            raise
        return None


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
    maps = _open_group(session, "indicators")
    tables_ds = _open_group(session, "tables")
    assert maps is not None and tables_ds is not None
    factors = [int(f) for f in maps.attrs.get("overview_factors", [])]
    levels = [_level(maps, 1)]
    for f in factors:
        ov = _open_group(session, f"overviews/{f}")
        assert ov is not None
        levels.append(_level(ov, f))
    t = tables_ds.load()
    tables = {c: np.asarray(t[c].values) for c in TABLE_UNITS if c in t}
    cube = _open_group(session, "cube", required=False)
    prov = json.loads(cube.attrs.get("provenance", "{}")) if cube is not None else {}
    regions = load_regions(settings.registry).set_index("region_id")
    return Snapshot(
        snapshot_id=sid,
        written_at=info.written_at,
        message=info.message,
        levels=levels,
        tables=tables,
        epochs=[int(e) for e in t["epoch"].values],
        input_snapshot=[str(s) for s in t["input_snapshot"].values],
        source_latest=[str(s) for s in t["source_latest"].values],
        region_ids=[str(r) for r in t["region"].values],
        names=[str(n) for n in t["name"].values],
        levels_of=[str(v) for v in t["level"].values],
        parents=[str(p) for p in t["parent_id"].values],
        regions=regions,
        provenance=prov,
        cube=cube,
        rothc=_open_group(session, "rothc", required=False),
        attrs=dict(maps.attrs),
    )


class StoreReader:
    """Holds the current ``Snapshot`` and replaces it when the branch tip moves."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._current: Snapshot | None = None
        self._lock = asyncio.Lock()
        self.last_error: str | None = None
        self.checked_at: datetime | None = None

    @property
    def loaded(self) -> Snapshot | None:
        """The snapshot served, or None before the first one is loaded."""
        return self._current

    @property
    def current(self) -> Snapshot:
        snap = self._current
        if snap is None:
            raise NotReady(
                f"no indicators to serve yet from {self.settings.store} ({self.last_error or 'loading'}). "
                "Run `socobs indicators JOB.yaml` (or `make run`); the API picks them up by itself."
            )
        return snap

    def tip(self) -> str:
        return str(open_repo(self.settings.store).lookup_branch(BRANCH))

    async def refresh(self) -> bool:
        """Load the tip if it moved; True when a new snapshot is now served."""
        async with self._lock:
            try:
                tip = await asyncio.to_thread(self.tip)
                self.checked_at = datetime.now(UTC)
                if self._current is not None and self._current.snapshot_id == tip:
                    return False
                snap = await asyncio.to_thread(load_snapshot, self.settings, tip)
            except Exception as exc:  # keep serving the last good snapshot; report in /v1/status
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("store not (yet) readable: %s", self.last_error)
                return False
            self._current = snap  # the atomic swap
            self.last_error = None
            log.info("serving snapshot %s", snap.snapshot_id)
            return True

    async def poll(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.settings.poll_seconds)


__all__ = ["STRATA", "Level", "Snapshot", "StoreReader", "load_snapshot"]
