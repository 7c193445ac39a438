"""The indicator maps again, arranged for reading one cell: the ``point`` group.

A cold ``/v1/point`` on the map group reads one chunk per map and epoch (12 maps x the epochs:
36 chunks of 512 x 512 cells for three epochs), ~5 ms each however little of it is used. The
``point`` group holds the same values with every map of an epoch in one chunk of a small window:

- ``epoch_layers`` (epoch, layer, y, x) float32, chunks (1, layers, ``SIDE``, ``SIDE``): the
  (epoch, y, x) maps, in the order of the group's ``layers`` attribute;
- ``static_layers`` (layer, y, x) float32, chunks (layers, ``SIDE``, ``SIDE``): the (y, x) maps
  (``static`` attribute);
- ``dtypes``: each layer's dtype in the map group (every map is float32 or uint8, which float32
  holds exactly, so a value read here equals the map's bit for bit).

A cell's series then costs one chunk per epoch plus one. The group is written by the same tiles,
in the same commit, as the maps (``pipeline.indicators.stream``), grows with them when epochs
are appended, and is what ``observatory_api`` reads for a point when its epochs and layers match
the maps'; a store written before it existed is read from the maps as before. It costs the maps'
size again (float32, compressed the same way).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import zarr

from pipeline.store import POINT

SIDE = 128  # cells per side of a point chunk


def create_point(
    store: Any,
    ny: int,
    nx: int,
    epochs: list[int],
    layers: dict[str, np.ndarray],
    static: dict[str, np.ndarray],
) -> None:
    """The point group's arrays (empty: the tiles fill them), replacing any earlier one."""
    g = zarr.open_group(store, path=POINT, mode="w")
    side_y, side_x = min(SIDE, ny), min(SIDE, nx)
    g.attrs.update(
        layers=list(layers),
        static=list(static),
        dtypes={n: str(a.dtype) for n, a in {**layers, **static}.items()},
        description="the indicator maps, every layer of a cell in one chunk (for /v1/point)",
    )
    g.create_array(
        "epoch",
        data=np.asarray(epochs, dtype=np.int64),
        dimension_names=("epoch",),
        chunks=(max(len(epochs), 1),),
    )
    g.create_array(
        "epoch_layers",
        shape=(len(epochs), len(layers), ny, nx),
        dtype="float32",
        chunks=(1, max(len(layers), 1), side_y, side_x),
        fill_value=np.nan,
        dimension_names=("epoch", "layer", "y", "x"),
    )
    if static:
        g.create_array(
            "static_layers",
            shape=(len(static), ny, nx),
            dtype="float32",
            chunks=(len(static), side_y, side_x),
            fill_value=np.nan,
            dimension_names=("layer", "y", "x"),
        )


def has_point(store: Any) -> bool:
    try:
        zarr.open_group(store, path=POINT, mode="r")
    except (FileNotFoundError, KeyError, zarr.errors.GroupNotFoundError):
        return False
    return True


def drop_point(store: Any) -> None:
    """Remove the point group (the API then reads points from the maps)."""
    root = zarr.open_group(store, mode="a")
    if POINT in root:
        del root[POINT]


def grow_point(store: Any, old: int, new_epochs: list[int]) -> None:
    """Room for ``new_epochs`` after the ``old`` epochs the maps hold; a point group that does
    not hold exactly those ``old`` epochs is dropped instead of patched."""
    if not has_point(store):
        return
    g = zarr.open_group(store, path=POINT, mode="r+")
    epoch, values = g["epoch"], g["epoch_layers"]
    assert isinstance(epoch, zarr.Array) and isinstance(values, zarr.Array)
    if epoch.shape[0] != old or values.shape[0] != old:
        drop_point(store)
        return
    n = old + len(new_epochs)
    epoch.resize((n,))
    epoch[old:] = np.asarray(new_epochs, dtype=np.int64)
    values.resize((n, *values.shape[1:]))


def point_writes(
    store: Any, res: Any, first_pos: int, static: dict[str, np.ndarray]
) -> list[tuple[str, str, tuple[Any, ...], np.ndarray]]:
    """One tile's writes into the point group (none when the store has no point group)."""
    if not has_point(store):
        return []
    attrs = zarr.open_group(store, path=POINT, mode="r").attrs
    names = [str(n) for n in attrs["layers"]]  # type: ignore[union-attr]  # a list attribute
    snames = [str(n) for n in attrs["static"]]  # type: ignore[union-attr]
    rows, cols = slice(res.r0, res.r1), slice(res.c0, res.c1)
    out: list[tuple[str, str, tuple[Any, ...], np.ndarray]] = []
    for k, maps in enumerate(res.maps):
        if set(maps) != set(names):  # not the layers the group was made for: it goes
            drop_point(store)
            return []
        stack = np.stack([maps[n].astype(np.float32, copy=False) for n in names])
        out.append((POINT, "epoch_layers", (first_pos + k, slice(None), rows, cols), stack))
    if static and set(static) == set(snames):
        out.append(
            (
                POINT,
                "static_layers",
                (slice(None), rows, cols),
                np.stack([static[n].astype(np.float32) for n in snames]),
            )
        )
    return out
