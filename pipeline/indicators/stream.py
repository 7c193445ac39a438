"""Running the indicator tiles and streaming their results into a store.

``block_runner`` runs ``compute_block`` over the tiles, a bounded number in flight, in a thread
pool or on an existing dask cluster, and yields the results in tile order. ``create_maps`` and
``create_overviews`` create the groups' arrays (metadata and coordinates only), ``grow`` appends
room for new epochs, and ``write_block`` writes one tile's maps and overview cells into them:
region writes (the tile's window), every array of a tile concurrently. Any Zarr store works: an Icechunk session's
(the job, committed once at the end) or a plain directory's (``--snapshot`` reproductions).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
import zarr
from zarr.core.sync import sync

from pipeline import cf
from pipeline.indicators.blocks import BlockResult, BlockTask
from pipeline.indicators.point import create_point, grow_point, point_writes
from pipeline.indicators.registry import BY_ID, CLASS_NODATA, CLASSES
from pipeline.indicators.static import TileResult, compute_tile
from pipeline.store import INDICATORS as MAPS
from pipeline.store import overview_group

Runner = Callable[[Iterable[BlockTask]], Iterator[BlockResult]]


def _windowed(
    submit: Callable[[BlockTask], Any], tasks: Iterable[BlockTask], window: int
) -> Iterator[BlockResult]:
    pending: deque[Any] = deque()
    for t in tasks:
        pending.append(submit(t))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


@contextmanager
def block_runner(scheduler: str | None = None, workers: int | None = None) -> Iterator[Runner]:
    """Run tiles on the dask cluster at ``scheduler``, or on ``workers`` threads (default: one
    per core); at most one tile more than there are threads is in flight."""
    if scheduler:
        from pipeline.ingest.job import dask_client

        with dask_client(scheduler) as client:
            n = max(1, sum(client.nthreads().values()))

            def remote(tasks: Iterable[BlockTask]) -> Iterator[BlockResult]:
                return _windowed(lambda t: client.submit(compute_tile, t, pure=False), tasks, n + 1)

            yield remote
        return
    n = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(n, thread_name_prefix="indicator-block") as pool:

        def local(tasks: Iterable[BlockTask]) -> Iterator[BlockResult]:
            return _windowed(lambda t: pool.submit(compute_tile, t), tasks, n + 1)

        yield local


def map_attrs(name: str) -> dict[str, Any]:
    """A map's attributes: CF units (``units_label``: the registry's), names, class flags."""
    ind = BY_ID.get(name)
    if name.startswith("soc_stock_q"):
        ind = BY_ID["soc_stock"]
        return cf.variable_attrs("", {"units": ind.unit, "long_name": f"{ind.title}, {name[-3:]} bound"})
    if ind is None:
        return {}
    attrs: dict[str, Any] = {"units": ind.unit, "long_name": ind.title, "definition": ind.definition}
    if name == "soc_stock":
        attrs["comment"] = "mass of organic carbon in the 0-30 cm layer per unit area"
    if ind.kind == "class":
        attrs.update(nodata=CLASS_NODATA, **cf.class_attrs(CLASSES[name], CLASS_NODATA))
    return cf.variable_attrs(name, attrs)


def _static(res: BlockResult, factor: int | None = None) -> dict[str, np.ndarray]:
    """A tile's static (y, x) maps, or their overview cells at ``factor``."""
    if not isinstance(res, TileResult):
        return {}
    return res.static if factor is None else res.static_overviews.get(factor, {})


def _template(
    layers: dict[str, np.ndarray],
    coords: dict[str, Any],
    chunks: tuple[int, int],
    attrs: dict[str, Any],
    static: dict[str, np.ndarray],
    crs: str,
) -> xr.Dataset:
    """A dataset of lazy (never computed) arrays with the groups' shapes, dtypes and chunks:
    (epoch, y, x) ``layers`` and (y, x) ``static`` maps, with the CF attributes of ``crs``."""
    n, ny, nx = (len(coords["epoch"]), len(coords["y"]), len(coords["x"]))
    cy, cx = min(chunks[0], ny), min(chunks[1], nx)
    data: dict[str, tuple[tuple[str, ...], Any, dict[str, Any]]] = {
        name: (("epoch", "y", "x"), da.zeros((n, ny, nx), dtype=a.dtype, chunks=(1, cy, cx)), map_attrs(name))
        for name, a in layers.items()
    }
    for name, a in static.items():
        data[name] = (("y", "x"), da.zeros((ny, nx), dtype=a.dtype, chunks=(cy, cx)), map_attrs(name))
    ds = cf.annotate(xr.Dataset(data, coords=coords, attrs=attrs), crs)
    for v in ds.data_vars.values():
        v.encoding["chunks"] = (1, cy, cx) if v.ndim == 3 else (cy, cx)
    return ds


def create_maps(
    store: Any, cube: xr.Dataset, first: BlockResult, epochs: list[int], chunks: tuple[int, int]
) -> None:
    """The map group's arrays and coordinates (the tiles fill them)."""
    coords: dict[str, Any] = {
        "epoch": np.asarray(epochs, dtype=np.int64),
        "y": cube["y"].values,
        "x": cube["x"].values,
    }
    ds = _template(first.maps[0], coords, chunks, {}, _static(first), cf.crs_of(cube))
    ds.to_zarr(store, group=MAPS, mode="w", compute=False, consolidated=False, zarr_format=3)
    create_point(store, cube["y"].size, cube["x"].size, epochs, first.maps[0], _static(first))


def create_overviews(
    store: Any, cube: xr.Dataset, first: BlockResult, epochs: list[int], chunks: tuple[int, int]
) -> None:
    x, y = cube["x"].values, cube["y"].values
    rx = float(x[1] - x[0]) if x.size > 1 else 1.0
    ry = float(y[1] - y[0]) if y.size > 1 else -1.0
    for f, layers in first.overviews[0].items():
        ny, nx = -(-y.size // f), -(-x.size // f)
        coords = {
            "epoch": np.asarray(epochs, dtype=np.int64),
            "y": float(y[0]) - ry / 2 + ry * f * (np.arange(ny) + 0.5),
            "x": float(x[0]) - rx / 2 + rx * f * (np.arange(nx) + 0.5),
        }
        ds = _template(layers, coords, chunks, {"factor": f}, _static(first, f), cf.crs_of(cube))
        ds.to_zarr(store, group=overview_group(f), mode="w", compute=False, consolidated=False, zarr_format=3)


def grow(store: Any, group: str, new_epochs: list[int]) -> int:
    """Room for ``new_epochs`` in every epoch array of ``group`` (their labels written); returns
    the position of the first new epoch."""
    g = zarr.open_group(store, path=group, mode="r+")
    old = int(g["epoch"].shape[0])  # type: ignore[union-attr]  # an array, not a group
    for name, arr in g.arrays():
        dims = list(getattr(arr.metadata, "dimension_names", None) or ())
        if "epoch" not in dims:
            continue
        ax = dims.index("epoch")
        shape = list(arr.shape)
        shape[ax] = old + len(new_epochs)
        arr.resize(tuple(shape))
        if name == "epoch":
            arr[old:] = np.asarray(new_epochs, dtype=arr.dtype)
    cf.extend(g, old)  # the new epochs' CF dates
    if group == MAPS:
        grow_point(store, old, new_epochs)
    return old


def write_block(store: Any, res: BlockResult, first_pos: int) -> None:
    """One tile's maps and overview cells of every new epoch, all arrays concurrently."""
    import asyncio

    from zarr.api.asynchronous import open_group

    writes: list[tuple[str, str, tuple[Any, ...], np.ndarray]] = []
    for k, maps in enumerate(res.maps):
        e = first_pos + k
        for name, a in maps.items():
            writes.append((MAPS, name, (e, slice(res.r0, res.r1), slice(res.c0, res.c1)), a))
        for f, layers in res.overviews[k].items():
            o0, p0 = res.r0 // f, res.c0 // f
            for name, a in layers.items():
                where = (e, slice(o0, o0 + a.shape[0]), slice(p0, p0 + a.shape[1]))
                writes.append((overview_group(f), name, where, a))
    if isinstance(res, TileResult):  # (y, x) maps: written once, whatever the epochs
        for name, a in res.static.items():
            writes.append((MAPS, name, (slice(res.r0, res.r1), slice(res.c0, res.c1)), a))
        for f, layers in res.static_overviews.items():
            o0, p0 = res.r0 // f, res.c0 // f
            for name, a in layers.items():
                writes.append(
                    (overview_group(f), name, (slice(o0, o0 + a.shape[0]), slice(p0, p0 + a.shape[1])), a)
                )
    writes += point_writes(store, res, first_pos, _static(res))

    async def run() -> None:
        groups = {g: await open_group(store=store, path=g, mode="r+") for g in {w[0] for w in writes}}

        async def one(g: str, name: str, where: tuple[Any, ...], a: np.ndarray) -> None:
            arr: Any = await groups[g].getitem(name)
            await arr.setitem(where, a)

        await asyncio.gather(*(one(*w) for w in writes))

    sync(run())
