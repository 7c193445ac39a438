"""The cube store: Zarr v3 inside an Icechunk repository, one commit per job.

Layout: the group ``cube`` holds the canonical variables on one grid (dims ``y``, ``x``, plus
``epoch`` (years), ``depth`` (intervals, coords ``depth_top``/``depth_bottom`` in cm), ``time``
(month starts) or ``month`` (1-12 climatology)); its attribute ``provenance`` records, per
variable and epoch, the STAC items, datetimes and hrefs it was built from.

Chunking: one epoch / month / time step / depth interval per chunk and 512 x 512 cells in
space (the job's ``chunks``). One epoch per chunk is what lets an update append a year without
rewriting any older chunk, and lets a map tile read a single epoch; a time series at a point
reads one small chunk per epoch (10-20 reads), which the region tables of the indicator job
make rare. One depth per chunk matches how sources deliver layers (one asset each), so
ingestion writes them without a rechunk step (an earlier version merged the three depths into
one chunk: 1.3x the time of a plain load-and-write, for no gain in reads).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import icechunk
import numpy as np
import xarray as xr
import zarr
from icechunk.xarray import to_icechunk

from pipeline.cf import label, mark_coordinates, with_bounds
from pipeline.errors import PipelineError, clip, permission_denied
from pipeline.ingest.units import CANONICAL

# ---- the store contract: every group name and commit kind, here and nowhere else --------------
BRANCH = "main"
CUBE = "cube"  # canonical variables (ingest, update)
INDICATORS = "indicators"  # per-pixel indicator maps (indicator job)
TABLES = "tables"  # region x epoch x stratum tables (indicator job)
OVERVIEWS = "overviews"  # OVERVIEWS/<factor>: area-weighted overview levels of INDICATORS
ROTHC = "rothc"  # RothC scenario maps (rothc job)
SDG = "sdg"  # SDG 15.3.1 sub-indicator maps and region tables (indicator job)
MONTHLY = "monthly"  # monthly signals from NDVI: maps and region tables (monthly job)
POINT = "point"  # INDICATORS' maps again, every layer of a cell in one chunk (the API's /v1/point)
GROUP = CUBE  # the default group of open_cube


def overview_group(factor: int) -> str:
    """The group of the overview level that aggregates ``factor`` x ``factor`` cells."""
    return f"{OVERVIEWS}/{factor}"


class Kind(StrEnum):
    """What a commit did (its metadata ``kind``)."""

    INGEST = "ingest"
    UPDATE = "update"
    INDICATORS = "indicators"
    ROTHC = "rothc"
    SDG = "sdg"
    MONTHLY = "monthly"


DATA_KINDS = (Kind.INGEST, Kind.UPDATE)  # commits that change the cube's data
LAYERED = {"soc", "soc_q05", "soc_q95", "bdod", "cfvo", "clay"}
CLIMATE = {"tas", "pr", "pet"}


class StoreError(PipelineError):
    """The store cannot be opened, read or written."""


class CubeError(PipelineError):
    """A cube breaks the contract; the message lists every problem."""


def _storage(uri: str) -> icechunk.Storage:
    if uri.startswith("s3://"):
        bucket, _, prefix = uri[5:].partition("/")
        return icechunk.s3_storage(bucket=bucket, prefix=prefix, from_env=True)
    if uri.startswith("gs://"):
        bucket, _, prefix = uri[5:].partition("/")
        return icechunk.gcs_storage(bucket=bucket, prefix=prefix, from_env=True)
    return icechunk.local_filesystem_storage(str(Path(uri).resolve()))


def _is_local(uri: str) -> bool:
    return not uri.startswith(("s3://", "gs://"))


def _not_a_directory(uri: str) -> StoreError:
    return StoreError(
        f"{clip(uri)} is a file, not a store. Expected the directory of an Icechunk repository "
        "created by `socobs ingest`, or a new path; pass --store DIR."
    )


def no_write_permission(uri: str, where: str | Path | None = None) -> StoreError:
    """The message for a store this process may not write."""
    at = f" ({clip(where)} is read-only for this user)" if where is not None and str(where) != uri else ""
    return StoreError(
        f"cannot write to {clip(uri)}: permission denied{at}; choose a writable --store or fix its "
        "permissions. The store is unchanged."
    )


def check_writable(uri: str) -> None:
    """Refuse, before any work, a local store this process cannot write: a read-only directory
    or file system, or a path that is a file. Object stores are checked by their first write."""
    if not _is_local(uri):
        return
    path = Path(uri)
    if path.exists() and not path.is_dir():
        raise _not_a_directory(uri)
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise StoreError(
            f"cannot create the store {clip(uri)}: {clip(probe)} is a file, not a directory. "
            "Pass --store with a path under a directory."
        )
    dirs = [probe]
    if probe == path:  # an existing repository: icechunk writes into its subdirectories too
        dirs += [d for d in path.iterdir() if d.is_dir()]
        dirs += [e for d in dirs[1:] for e in d.iterdir() if e.is_dir()]
    for d in dirs:
        if not os.access(d, os.W_OK | os.X_OK):
            raise no_write_permission(uri, d)


def open_repo(uri: str, *, create: bool = False) -> icechunk.Repository:
    """Open the repository at ``uri`` (creating it when asked and absent)."""
    icechunk.set_logs_filter("error")  # its warnings about local storage are for developers
    local = _is_local(uri)
    if local and Path(uri).exists() and not Path(uri).is_dir():
        raise _not_a_directory(uri)
    storage = _storage(uri)
    try:
        if icechunk.Repository.exists(storage):
            return icechunk.Repository.open(storage)
    except icechunk.IcechunkError as exc:
        if permission_denied(exc):
            raise StoreError(
                f"cannot read the store {clip(uri)}: permission denied. Fix its permissions or "
                "choose another --store."
            ) from exc
        raise StoreError(
            f"cannot open the store {clip(uri)} ({clip(exc)}). Expected an Icechunk repository "
            "created by `socobs ingest`; check the path."
        ) from exc
    if local and Path(uri).exists() and any(Path(uri).iterdir()):
        raise StoreError(
            f"{clip(uri)} exists but is not an Icechunk repository. Expected a repository created by "
            "`socobs ingest`, or a new or empty path; choose another store path."
        )
    if not create:
        raise StoreError(f"{clip(uri)}: no repository there. Run `socobs ingest JOB.yaml` to create it.")
    try:
        return icechunk.Repository.create(storage)
    except icechunk.IcechunkError as exc:
        if permission_denied(exc):
            raise no_write_permission(uri) from exc
        raise


def open_cube(uri: str, snapshot: str | None = None, *, group: str = GROUP) -> xr.Dataset:
    """The cube of a snapshot (default: the tip of ``main``) as a lazy, dask-backed Dataset."""
    repo = open_repo(uri)
    try:
        session = (
            repo.readonly_session(snapshot_id=snapshot) if snapshot else repo.readonly_session(branch=BRANCH)
        )
    except icechunk.IcechunkError as exc:
        raise StoreError(f"{uri}: no snapshot {snapshot!r} ({exc}). See `socobs cube log`.") from exc
    try:
        ds = xr.open_zarr(session.store, group=group, consolidated=False, chunks={})
    except (FileNotFoundError, KeyError) as exc:
        raise StoreError(f"{uri}: the snapshot has no {group!r} group yet.") from exc
    ds.attrs["snapshot_id"] = session.snapshot_id
    return ds


def tip(uri: str) -> str:
    """Snapshot id at the tip of ``main``."""
    return str(open_repo(uri).lookup_branch(BRANCH))


@dataclass(frozen=True)
class LogEntry:
    snapshot_id: str
    written_at: datetime
    message: str
    metadata: dict[str, Any]


def cube_log(uri: str) -> list[LogEntry]:
    """Commits of ``main``, newest first."""
    repo = open_repo(uri)
    return [
        LogEntry(s.id, s.written_at, s.message, dict(s.metadata or {})) for s in repo.ancestry(branch=BRANCH)
    ]


def data_snapshot(uri: str, at: str | None = None) -> str:
    """The newest commit that changed the cube's data (an ingest or update), at the tip of
    ``main`` or, with ``at``, at or before that snapshot."""
    repo = open_repo(uri)
    try:
        ancestry = repo.ancestry(snapshot_id=at) if at else repo.ancestry(branch=BRANCH)
        for s in ancestry:
            if (s.metadata or {}).get("kind") in DATA_KINDS:
                return str(s.id)
    except icechunk.IcechunkError as exc:
        raise StoreError(f"{uri}: no snapshot {clip(at)} ({exc}). See `socobs cube log`.") from exc
    where = f"at or before {at}" if at else "yet"
    raise StoreError(f"{uri}: no ingestion commit {where}. Run `socobs ingest JOB.yaml` first.")


def latest_commit(uri: str, kind: Kind, input_snapshot: str | None = None) -> str | None:
    """The newest commit of ``kind`` (derived from ``input_snapshot`` when given), or None."""
    for e in cube_log(uri):
        if e.metadata.get("kind") == kind and input_snapshot in (None, e.metadata.get("input_snapshot")):
            return e.snapshot_id
    return None


def open_group(
    session: icechunk.Session, group: str, *, required: bool = True, **kwargs: Any
) -> xr.Dataset | None:
    """A group of a session's snapshot as a Dataset (``kwargs`` go to ``xr.open_zarr``); None
    when it is absent and not ``required``."""
    kwargs.setdefault("chunks", None)
    try:
        return xr.open_zarr(session.store, group=group, consolidated=False, **kwargs)
    except (FileNotFoundError, KeyError) as exc:
        if required:
            raise StoreError(f"the snapshot {session.snapshot_id} has no {group!r} group.") from exc
        return None


@contextmanager
def transaction(repo: icechunk.Repository, message: str, metadata: dict[str, Any]) -> Iterator[Transaction]:
    """The one write path: a writable session of ``main``, committed when the block ends without
    an error (the snapshot id is then ``tx.snapshot_id``); on an error nothing is committed and
    readers never see the writes. A concurrent commit by another job is a StoreError."""
    tx = Transaction(repo.writable_session(BRANCH))
    yield tx
    try:
        tx.snapshot_id = str(tx.session.commit(message, metadata=metadata))
    except icechunk.ConflictError as exc:
        raise StoreError(f"another job committed to the store meanwhile ({exc}); run again.") from exc


@dataclass
class Transaction:
    session: icechunk.Session
    snapshot_id: str = ""


def verify_cube(ds: xr.Dataset) -> list[str]:
    """Every violated rule of the cube contract (empty when the cube is valid)."""
    problems: list[str] = []
    for dim in ("y", "x"):
        if dim not in ds.dims:
            problems.append(f"dimension {dim!r} is missing")
        elif ds[dim].size > 1 and not (
            np.all(np.diff(ds[dim].values) > 0) or np.all(np.diff(ds[dim].values) < 0)
        ):
            problems.append(f"coordinate {dim!r} is not monotonic")
    if "spatial_ref" not in ds.coords:
        problems.append("no spatial_ref coordinate (the CRS)")
    if "epoch" in ds.coords:
        ep = ds["epoch"].values
        if not np.issubdtype(ep.dtype, np.integer) or (ep.size > 1 and not np.all(np.diff(ep) > 0)):
            problems.append(f"epoch must hold increasing integer years, got {ep.tolist()}")
    if "month" in ds.coords and ds["month"].values.tolist() != list(range(1, 13)):
        problems.append(f"month must be 1..12, got {ds['month'].values.tolist()}")
    if "depth" in ds.dims:
        if "depth_top" not in ds.coords or "depth_bottom" not in ds.coords:
            problems.append("depth needs coordinates depth_top and depth_bottom (cm)")
        elif np.any(ds["depth_top"].values >= ds["depth_bottom"].values):
            problems.append("depth_top must be above depth_bottom for every interval")
    prov = ds.attrs.get("provenance")
    prov = json.loads(prov) if isinstance(prov, str) else (prov or {})
    for name, da in ds.data_vars.items():
        if name not in CANONICAL:
            continue
        if label(da.attrs) != CANONICAL[name]:  # units_label: the canonical unit before CF spelling
            problems.append(f"{name}: units must be {CANONICAL[name]!r}, got {label(da.attrs)!r}")
        want = dims_of(str(name))
        if want is not None and tuple(d for d in da.dims if d in want) != tuple(
            d for d in want if d in da.dims
        ):
            problems.append(f"{name}: dims must follow {want}, got {da.dims}")
        if want is not None and not {"y", "x"} <= set(da.dims):
            problems.append(f"{name}: must have dims y and x, got {da.dims}")
        expected = np.uint8 if name == "landcover" else np.float32
        if da.dtype != expected:
            problems.append(f"{name}: dtype must be {np.dtype(expected).name}, got {da.dtype}")
        if name not in prov:
            problems.append(f"{name}: no provenance entry")
    return problems


def dims_of(name: str) -> tuple[str, ...] | None:
    if name in LAYERED:
        return ("epoch", "depth", "y", "x")
    if name == "landcover":
        return ("epoch", "y", "x")
    if name == "ndvi":
        return ("time", "y", "x")
    if name in CLIMATE:
        return ("month", "y", "x")
    return ("epoch", "y", "x")


def assert_cube(ds: xr.Dataset) -> None:
    """Raise CubeError listing every problem of ``verify_cube``."""
    problems = verify_cube(ds)
    if problems:
        raise CubeError("the cube breaks its contract:\n  - " + "\n  - ".join(problems))


def storage_chunks(ds: xr.Dataset, y: int, x: int) -> xr.Dataset:
    """Rechunk to the store's chunking (see the module docstring)."""
    want = {"epoch": 1, "time": 1, "month": 1, "depth": 1, "y": y, "x": x}
    return ds.chunk({d: c for d, c in want.items() if d in ds.dims})


def write_and_commit(
    repo: icechunk.Repository,
    ds: xr.Dataset,
    message: str,
    metadata: dict[str, Any],
    *,
    mode: str = "w",
    append_dims: tuple[str, ...] = (),
    on_variable: Callable[[str], None] | None = None,
) -> str:
    """Write ``ds`` into the ``cube`` group in one transaction and commit; returns the new
    snapshot id. ``mode="w"`` replaces the cube; otherwise variables are added, and a variable
    with one of ``append_dims`` is appended along it (the new labels are written once). Nothing is visible to
    readers unless the commit succeeds."""
    with transaction(repo, message, metadata) as tx:
        names = list(ds.data_vars)
        if mode == "w":
            to_icechunk(ds.drop_vars(names), tx.session, group=CUBE, mode="w")
        # Variables of one source are written together: one dask compute per source, not per
        # variable (each compute has a fixed scheduling cost that adds up on small jobs).
        groups: dict[str, list[str]] = {}
        for name in names:
            groups.setdefault(str(ds[name].attrs.get("source", name)), []).append(str(name))
        appended: set[str] = set()
        stored = (
            None if mode == "w" else set(zarr.open_group(tx.session.store, path=CUBE, mode="r").array_keys())
        )
        for group in groups.values():
            part = with_bounds(ds[group], ds, stored)  # + its coordinates' CF bounds
            dim = next((d for d in append_dims if d in part.dims), None)
            if dim is not None:
                if dim in appended:  # append the new labels (and their dates) once, not once per source
                    part = part.drop_vars([n for n, c in part.coords.items() if dim in c.dims])
                appended.add(dim)
                to_icechunk(part, tx.session, group=CUBE, append_dim=dim)
            else:
                to_icechunk(part, tx.session, group=CUBE, mode="a")
            if on_variable:
                for name in group:
                    on_variable(name)
        mark_coordinates(zarr.open_group(tx.session.store, path=CUBE))  # the CF dates: coordinates
        if "provenance" in ds.attrs:
            zarr.open_group(tx.session.store, path=CUBE).attrs.update({"provenance": ds.attrs["provenance"]})
    return tx.snapshot_id


def export_cube(uri: str, dest: str | Path, snapshot: str | None = None) -> Path:
    """Write a plain Zarr v3 copy of a snapshot's cube, for tools without Icechunk."""
    out = Path(dest)
    if out.exists() and any(out.iterdir()):
        raise StoreError(f"{out} exists and is not empty; choose a new path for the export.")
    ds = open_cube(uri, snapshot)
    for v in ds.variables.values():
        v.encoding.pop("chunks", None)
        v.encoding.pop("preferred_chunks", None)
    ds.to_zarr(out, mode="w", zarr_format=3, consolidated=False)
    return out


@dataclass(frozen=True)
class GcResult:
    expired: int  # snapshots dropped from history
    kept: int  # commits of main still reachable
    chunks_deleted: int
    bytes_deleted: int


def collect_garbage(
    uri: str,
    *,
    keep: int | None = None,
    older_than: timedelta | None = None,
    grace: timedelta = timedelta(hours=1),
) -> GcResult:
    """Expire old snapshots of ``main`` and delete every object no kept snapshot references
    (chunks of expired snapshots, and of jobs killed before their commit), with Icechunk's own
    expiry and garbage collection. ``keep``: keep the newest N commits; ``older_than``: expire
    commits older than that; neither: expire nothing, only delete unreferenced objects. Never
    expired: the tip, the newest data (ingest/update) commit and the newest indicator commit, so
    every job can go on. Objects younger than ``grace`` are left alone: a job writing now has
    written chunks that no snapshot references yet."""
    if keep is not None and keep < 1:
        raise StoreError(f"--keep: expected at least 1 (the newest commit), got {keep}.")
    repo = open_repo(uri)
    log = cube_log(uri)  # newest first
    now = datetime.now(UTC)
    cut: datetime | None = None
    if keep is not None and len(log) > keep:
        cut = log[keep - 1].written_at
    if older_than is not None:
        cut = min(cut, now - older_than) if cut is not None else now - older_than
    expired: set[str] = set()
    if cut is not None:
        protected = [e.written_at for e in log if e.metadata.get("kind") in DATA_KINDS][:1]
        protected += [e.written_at for e in log if e.metadata.get("kind") == Kind.INDICATORS][:1]
        cut = min([cut, *protected])  # the bound is exclusive: a commit written at `cut` is kept
        expired = set(repo.expire_snapshots(cut))
    summary = repo.garbage_collect(now - grace)
    return GcResult(len(expired), len(cube_log(uri)), int(summary.chunks_deleted), int(summary.bytes_deleted))
