"""``socobs ingest`` and ``socobs update``: the ingestion recipe.

    search each source -> parse items -> load onto the job's grid -> harmonise -> composite
    -> verify the cube -> write every variable -> commit once (with provenance)

A failure anywhere before the commit leaves the repository at its previous commit: the
writable session is simply dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

import xarray as xr

from pipeline import cf
from pipeline.config import MAX_GRID_CELLS, JobSpec, SourceDef, load_source
from pipeline.errors import CatalogError, PipelineError, permission_denied
from pipeline.ingest.harmonise import job_bbox, job_geobox, load_source_data, provenance
from pipeline.ingest.stac import ParsedItem, parse_item, search
from pipeline.store import (
    Kind,
    assert_cube,
    dims_of,
    no_write_permission,
    open_cube,
    open_repo,
    storage_chunks,
    tip,
    write_and_commit,
)

Report = Callable[[str, int, int], None]


def _quiet_workers() -> None:
    """Reductions over all-NaN (ocean) cells warn in numpy; the NaN result is the intended one."""
    import warnings

    warnings.filterwarnings("ignore", r"All-NaN slice|Mean of empty slice", RuntimeWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def software_version() -> str:
    try:
        return f"soc-observatory {version('soc-observatory')}"
    except Exception:
        return "soc-observatory (unknown version)"


@contextlib.contextmanager
def dask_client(scheduler: str | None) -> Iterator[Any]:
    """A dask.distributed client: the given scheduler, or a LocalCluster sized to the machine."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="15s")
        except OSError as exc:
            raise PipelineError(
                f"dask scheduler {scheduler!r} did not answer ({exc}). Check the address "
                "(tcp://HOST:PORT) and that `dask scheduler` runs there."
            ) from exc
        with client:
            client.run(_quiet_workers)
            yield client
        return
    # One worker with a thread per core: GDAL reads, numpy and numba release the GIL, and a
    # threaded cluster starts in a fraction of a second (a process one takes seconds).
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=os.cpu_count() or 1, processes=False, dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        client.run(_quiet_workers)
        yield client


@dataclass
class IngestResult:
    committed: bool
    snapshot_id: str | None
    variables: list[str] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    message: str = ""


def check_grid(job: JobSpec, max_cells: int = MAX_GRID_CELLS) -> int:
    """The number of cells of the job's grid; refuses, before any work, a grid larger than
    ``max_cells`` (a typo in the resolution would otherwise plan for days, after creating an
    empty repository)."""
    box = job_geobox(job)
    ny, nx = int(box.shape[0]), int(box.shape[1])
    if ny * nx > max_cells:
        raise PipelineError(
            f"grid: the job asks for {ny} x {nx} = {ny * nx:.3g} cells (resolution "
            f"{job.grid.resolution:g} in {job.grid.crs} over {tuple(round(v, 4) for v in job_bbox(job))}); "
            f"expected at most {max_cells:.3g}. Use a coarser grid.resolution or a smaller region "
            "(to allow larger grids on purpose, set SOCOBS_MAX_CELLS)."
        )
    return ny * nx


def _sources(job: JobSpec) -> list[SourceDef]:
    return [load_source(s) for s in job.sources]


def _url(job: JobSpec, source: SourceDef, override: str | None) -> str:
    url = override or job.stac_url or source.stac_url
    if not url:
        raise PipelineError(
            f"source {source.name!r}: no STAC API URL. Set stac_url in the job (for the demo, the "
            "URL `socobs stac serve` prints) or pass --stac URL."
        )
    return url


def find_items(
    job: JobSpec, source: SourceDef, url: str, since: datetime | None = None, report: Report | None = None
) -> list[ParsedItem]:
    """Search ``source`` over the job's region and period (optionally only after ``since``)."""
    start = datetime(job.period.start, 1, 1, tzinfo=UTC)
    end = datetime(job.period.end, 12, 31, 23, 59, 59, tzinfo=UTC)
    if since is not None:
        start = max(start, since)
    raw = search(
        url,
        source.collection,
        job_bbox(job),
        start,
        end,
        query=source.query,
        sign=source.sign,
        on_page=(lambda n: report(f"search {source.name}", n, 0)) if report else None,
    )
    assets = sorted({lay.asset for v in source.variables.values() for lay in v.layers})
    items = [parse_item(i, assets) for i in raw]
    # The API filters by intersection of [start_datetime, end_datetime]; keep items whose
    # nominal datetime lies in the period, so a year is never half-counted. A static release
    # stands for its whole interval (OpenLandMap's bulk density: 1950-2017, dated 1950): kept
    # when that interval meets the period.
    if source.temporal == "static":
        return sorted((i for i in items if i.start <= end and i.end >= start), key=lambda i: i.datetime)
    return sorted((i for i in items if start <= i.datetime <= end), key=lambda i: i.datetime)


def _no_items(job: JobSpec, source: SourceDef, url: str) -> CatalogError:
    return CatalogError(
        f"source {source.name!r}: the search of collection {source.collection!r} at {url} found no "
        f"items over {job_bbox(job)} in {job.period.start}-{job.period.end}. Check that the "
        "region intersects the collection's extent and the period its dates."
    )


def build_dataset(job: JobSpec, items_by_source: dict[str, tuple[SourceDef, list[ParsedItem]]]) -> xr.Dataset:
    """The harmonised cube (lazy) with provenance, ready to verify and write."""
    geobox = job_geobox(job)
    chunks = {"y": job.chunks.y, "x": job.chunks.x}
    parts, prov = [], {}
    for source, items in items_by_source.values():
        parts.append(load_source_data(items, source, geobox, chunks))
        prov.update(provenance(items, source, software_version()))
    ds = xr.merge(parts, compat="override", join="exact", combine_attrs="drop")
    for part in parts:  # merge drops attributes; put each variable's back, in canonical dim order
        for name, da in part.data_vars.items():
            order = [d for d in dims_of(str(name)) or () if d in da.dims]
            ds[name] = ds[name].transpose(*order, *[d for d in da.dims if d not in order])
            ds[name].attrs = dict(da.attrs)
    if "epoch" in ds.coords:
        ds = ds.sel(epoch=slice(job.period.start, job.period.end))
    crs = geobox.crs.to_wkt() if geobox.crs is not None else None
    ds = cf.annotate(ds, crs, period=(job.period.start, job.period.end))
    ds = storage_chunks(ds, job.chunks.y, job.chunks.x)
    ds.attrs = {
        "title": f"soc-observatory cube: {job.name}",
        "job": job.model_dump_json(),
        "crs": geobox.crs.to_wkt() if geobox.crs is not None else "",
        "provenance": json.dumps(prov),
        "synthetic": any(s.synthetic for s, _ in items_by_source.values()),
    }
    return ds


def run_ingest(
    job: JobSpec,
    *,
    stac_url: str | None = None,
    report: Report | None = None,
    max_cells: int = MAX_GRID_CELLS,
) -> IngestResult:
    """Ingest every source of ``job`` into its store as one commit."""
    check_grid(job, max_cells)
    sources = _sources(job)
    found = {}
    for src in sources:
        url = _url(job, src, stac_url)
        items = find_items(job, src, url, report=report)
        if not items:
            raise _no_items(job, src, url)
        found[src.name] = (src, items)
    repo = open_repo(job.store, create=True)
    ds = build_dataset(job, found)
    assert_cube(ds)
    names = [str(n) for n in ds.data_vars]
    done = 0

    def tick(name: str) -> None:
        nonlocal done
        done += 1
        if report:
            report(f"write {name}", done, len(names))

    epochs = [int(e) for e in ds["epoch"].values] if "epoch" in ds.coords else []
    meta = {
        "job": job.name,
        "kind": Kind.INGEST.value,
        "epochs": epochs,
        "sources": [s.name for s in sources],
    }
    with dask_client(job.scheduler):
        try:
            sid = write_and_commit(
                repo,
                ds,
                f"ingest {job.name}: {len(names)} variables, epochs "
                f"{epochs[0] if epochs else '-'}-{epochs[-1] if epochs else '-'}",
                meta,
                on_variable=tick,
            )
        except PipelineError:
            raise
        except Exception as exc:  # reading an asset failed inside dask (404, corrupt file, ...)
            if permission_denied(exc):
                raise no_write_permission(job.store) from exc
            raise PipelineError(
                f"loading the sources failed while writing ({type(exc).__name__}: {str(exc)[:400]}). "
                "An asset may be missing or corrupt; fix or remove the item. The store is unchanged "
                "(still at its last commit)."
            ) from exc
    return IngestResult(True, sid, names, epochs, "ingested")


def run_update(
    job: JobSpec,
    *,
    stac_url: str | None = None,
    report: Report | None = None,
    max_cells: int = MAX_GRID_CELLS,
) -> IngestResult:
    """Ingest only what is newer than the cube: new epochs (and months) are appended; the
    monthly climatology is recomputed from every month. Commits nothing when nothing is new."""
    check_grid(job, max_cells)
    cube = open_cube(job.store)
    have_epochs = {int(e) for e in cube["epoch"].values} if "epoch" in cube.coords else set()
    last_time = cube["time"].values.max() if "time" in cube.coords else None
    found: dict[str, tuple[SourceDef, list[ParsedItem]]] = {}
    for src in _sources(job):
        url = _url(job, src, stac_url)
        items = find_items(job, src, url, report=report)
        if src.temporal == "epoch":
            new = [i for i in items if i.year not in have_epochs]
        elif src.temporal == "monthly" and src.monthly_product == "series" and last_time is not None:
            stamp = xr.DataArray([last_time]).dt.strftime("%Y-%m").item()
            new = [i for i in items if f"{i.datetime.year}-{i.datetime.month:02d}" > stamp]
        else:
            new = items  # climatologies and static layers: recomputed only if anything else is new
        found[src.name] = (src, new)
    fresh = {k: v for k, v in found.items() if v[1] and (v[0].temporal != "static")}
    news = [
        k
        for k, (s, it) in fresh.items()
        if not (s.temporal == "monthly" and s.monthly_product == "climatology")
    ]
    if not news:
        return IngestResult(False, tip(job.store), [], [], "nothing new")
    ds = build_dataset(job, fresh)
    repo = open_repo(job.store)
    prov = json.loads(cube.attrs.get("provenance", "{}"))
    for var, entry in json.loads(ds.attrs["provenance"]).items():
        if var in prov and var not in {"tas", "pr", "pet"}:
            prov[var]["inputs"].update(entry["inputs"])
        else:
            prov[var] = entry
    epochs = [int(e) for e in ds["epoch"].values] if "epoch" in ds.coords else []
    meta = {"job": job.name, "kind": Kind.UPDATE.value, "epochs": epochs}
    ds.attrs["provenance"] = json.dumps(prov)  # the merged record replaces the cube's
    on_variable = (lambda name: report(f"write {name}", 0, 0)) if report else None
    with dask_client(job.scheduler):
        sid = write_and_commit(
            repo,
            ds,
            f"update {job.name}: epochs {epochs or '-'}",
            meta,
            mode="a",
            append_dims=("epoch", "time"),
            on_variable=on_variable,
        )
    return IngestResult(True, sid, [str(n) for n in ds.data_vars], epochs, "updated")
