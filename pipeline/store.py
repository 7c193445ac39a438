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
import signal
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import icechunk
import numpy as np
import xarray as xr
from icechunk.xarray import to_icechunk

from pipeline.errors import PipelineError, clip, permission_denied
from pipeline.units import CANONICAL

GROUP = "cube"
BRANCH = "main"
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
        if da.attrs.get("units") != CANONICAL[name]:
            problems.append(f"{name}: units must be {CANONICAL[name]!r}, got {da.attrs.get('units')!r}")
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
    append_dim: str | None = None,
    on_variable: Any = None,
) -> str:
    """Write ``ds`` into the ``cube`` group in one transaction and commit; returns the new
    snapshot id. Nothing is visible to readers unless the commit succeeds."""
    session = repo.writable_session(BRANCH)
    try:
        names = list(ds.data_vars)
        coords_only = ds.drop_vars(names)
        if mode == "w":
            to_icechunk(coords_only, session, group=GROUP, mode="w")
        crash_after = int(os.environ.get("SOCOBS_TEST_CRASH_AFTER", "0") or 0)  # fault injection
        # Variables of one source are written together: one dask compute per source, not per
        # variable (each compute has a fixed scheduling cost that adds up on small jobs).
        groups: dict[str, list[str]] = {}
        for name in names:
            groups.setdefault(str(ds[name].attrs.get("source", name)), []).append(str(name))
        for k, group in enumerate(groups.values()):
            if crash_after and k == crash_after:
                os.kill(os.getpid(), signal.SIGKILL)
            part = ds[group]
            if append_dim is not None and append_dim in part.dims:
                to_icechunk(part, session, group=GROUP, append_dim=append_dim)
            else:
                to_icechunk(part, session, group=GROUP, mode="a")
            if on_variable:
                for name in group:
                    on_variable(name)
        return str(session.commit(message, metadata=metadata))
    except icechunk.ConflictError as exc:
        raise StoreError(f"another job committed to the store meanwhile ({exc}); run again.") from exc


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
