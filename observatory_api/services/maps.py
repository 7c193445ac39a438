"""Indicator maps: PNG tiles, TileJSON, legends and the values of every map at a point."""

from __future__ import annotations

from typing import Any

import numpy as np

from observatory_api.errors import BadParameter, NotFound
from observatory_api.reader import SEQ_POTENTIAL, Snapshot
from observatory_api.render import (
    CLASS_COLOURS,
    PALETTES,
    RAMPS,
    TMS,
    encode_png,
    legend,
    pick_level,
    tile_cells,
    tile_geometry,
    to_index,
)
from observatory_api.services.common import num
from pipeline.indicators.registry import BY_ID, CLASS_NODATA, CLASSES, Indicator

MAX_ZOOM = 12
RAMP_COLORMAPS = tuple(RAMPS)


def parse_rescale(text: str | None, default: tuple[float, float]) -> tuple[float, float]:
    """``min,max`` of a colour ramp (``default`` when absent)."""
    if text is None:
        return default
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise BadParameter(
            f"rescale: expected 'min,max' (e.g. 0,150), got {text!r}.", parameter="rescale"
        ) from None
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise BadParameter(f"rescale: expected finite min < max, got {text!r}.", parameter="rescale")
    return lo, hi


def check_tile(z: int, x: int, y: int) -> None:
    """422 naming x or y when the tile does not exist at zoom ``z``."""
    n = 2**z
    if x >= n or y >= n:
        raise BadParameter(
            f"tile {z}/{x}/{y}: at zoom {z}, x and y must lie in 0..{n - 1}.",
            parameter="x" if x >= n else "y",
            allowed=[0, n - 1],
        )


def tile_colormap(ind: Indicator, colormap: str | None) -> str:
    """The colormap to draw ``ind`` with: the one asked for if it fits the indicator's kind."""
    cmap = colormap if colormap is not None else ind.colormap
    fits = cmap == ind.colormap if ind.kind == "class" else cmap not in CLASS_COLOURS
    if not fits:
        raise BadParameter(
            f"colormap {cmap!r} does not fit {ind.id} ({ind.kind}).",
            parameter="colormap",
            allowed=[ind.colormap] if ind.kind == "class" else list(RAMP_COLORMAPS),
        )
    return cmap


def render_tile(
    snap: Snapshot,
    indicator: str,
    z: int,
    x: int,
    y: int,
    epoch_index: int,
    colormap: str,
    rescale: tuple[float, float],
) -> bytes:
    """The PNG of one tile (no tile cache here: the benchmark times this). Reads only the chunks
    of the chosen level under the tile."""
    ind = BY_ID[indicator]
    geo = tile_geometry(z, x, y)
    level = pick_level(snap.levels, geo.pixel_deg)
    rows, cols, inside = tile_cells(level, geo)
    r0, c0 = int(rows.min()), int(cols.min())
    arr = level.arrays[ind.map_var or indicator]
    window = snap.chunks.window(
        arr,
        (epoch_index,) if len(arr.shape) == 3 else (),  # static (y, x) maps have no epoch
        (r0, int(rows.max()) + 1),
        (c0, int(cols.max()) + 1),
    )
    vals = window[(rows - r0)[:, None], (cols - c0)[None, :]]
    classes = ind.kind == "class"
    if classes:
        inside &= vals != CLASS_NODATA
    return encode_png(to_index(vals, inside, rescale, classes), colormap)


def attribution(snap: Snapshot) -> str:
    """Credit line; says the data are synthetic only when the cube records that they are."""
    synthetic = bool(snap.cube is not None and snap.cube.attrs.get("synthetic"))
    if not synthetic:
        synthetic = any(bool(p.get("synthetic")) for p in snap.provenance.values())
    return "soc-observatory (synthetic demo data)" if synthetic else "soc-observatory"


def tilejson(snap: Snapshot, indicator: str, epoch_index: int, base_url: str) -> dict[str, Any]:
    """TileJSON 3.0.0 of an indicator's tiles at one epoch, tile URLs under ``base_url``."""
    ind = BY_ID[indicator]
    lv = snap.base
    west, north = lv.x0, lv.y0
    east, south = lv.x0 + lv.dx * lv.shape[1], lv.y0 + lv.dy * lv.shape[0]
    epoch = snap.epochs[epoch_index]
    return {
        "tilejson": "3.0.0",
        "name": ind.title,
        "description": ind.definition,
        "version": snap.snapshot_id,
        "scheme": "xyz",
        "tiles": [f"{base_url}/v1/tiles/{ind.id}/{{z}}/{{x}}/{{y}}.png?epoch={epoch}"],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": [max(-180.0, west), max(-85.0511, south), min(180.0, east), min(85.0511, north)],
        "attribution": attribution(snap),
        "tms": TMS.id,
    }


def legend_body(indicator: str, colormap: str | None, rescale: str | None) -> dict[str, Any]:
    """Colour stops with values and unit (continuous maps) or the classes and their colours."""
    ind = BY_ID[indicator]
    cmap = colormap if colormap is not None else ind.colormap
    stops: list[dict[str, Any]]
    if ind.kind == "class":
        cmap = tile_colormap(ind, colormap)
        stops = [
            {"value": k, "label": c, "color": "#" + bytes(PALETTES[cmap][k]).hex()}
            for k, c in CLASSES[ind.id]
        ]
    else:
        if cmap in CLASS_COLOURS:
            raise BadParameter(
                f"colormap {cmap!r} is for classes.", parameter="colormap", allowed=list(RAMP_COLORMAPS)
            )
        stops = legend(cmap, parse_rescale(rescale, ind.rescale))
    return {"indicator": ind.id, "unit": ind.unit, "colormap": cmap, "stops": stops, "nodata": "transparent"}


def point(snap: Snapshot, lat: float, lon: float) -> dict[str, Any]:
    """Every map's time series in the base-grid cell holding (lat, lon); RothC potentials there.
    Reads one chunk per map and epoch (in parallel when cold), never a whole map."""
    lv = snap.base
    col = int(np.floor((lon - lv.x0) / lv.dx))
    row = int(np.floor((lat - lv.y0) / lv.dy))
    if not (0 <= row < lv.shape[0] and 0 <= col < lv.shape[1]):
        south, east = lv.y0 + lv.dy * lv.shape[0], lv.x0 + lv.dx * lv.shape[1]
        raise NotFound(
            f"({lat}, {lon}) lies outside the maps' extent: lon {lv.x0}..{east}, lat {south}..{lv.y0}.",
            parameter="lat/lon",
        )
    x, y = lv.x0 + (col + 0.5) * lv.dx, lv.y0 + (row + 0.5) * lv.dy
    sp = snap.extra.get(SEQ_POTENTIAL)
    sp_cell = _cell(snap.rothc, x, y) if sp is not None and snap.rothc is not None else None
    pt = snap.point
    drill = [pt.values] if pt is not None else []
    if pt is not None and pt.static_values is not None:
        drill.append(pt.static_values)
    wanted = [c for a in (drill or list(lv.arrays.values())) for c in snap.chunks.series_chunks(a, row, col)]
    if sp is not None and sp_cell is not None:
        wanted += snap.chunks.series_chunks(sp, *sp_cell)
    snap.chunks.warm(wanted)
    cell = _point_layers(snap, row, col) if pt is not None else {}
    maps: dict[str, Any] = {}
    for name, a in lv.arrays.items():
        series = cell[name] if name in cell else snap.chunks.series(a, row, col)
        if len(a.shape) == 2:  # a static (y, x) map: the same value at every epoch
            series = np.repeat(series, len(snap.epochs))
        nodata = CLASS_NODATA if a.array.dtype == np.uint8 else None
        values = [None if nodata is not None and v == nodata else num(v) for v in series.tolist()]
        maps[name] = {"unit": lv.units[name], "epochs": snap.epochs, "values": values}
    body: dict[str, Any] = {
        "lat": lat,
        "lon": lon,
        "snapshot_id": snap.snapshot_id,
        "maps": maps,
        "cell": {"x": x, "y": y, "row": row, "col": col},
    }
    if sp is not None and snap.rothc is not None:
        body["seq_potential"] = None
        if sp_cell is not None:
            scenarios = [str(s) for s in snap.rothc["scenario"].values]
            vals = snap.chunks.series(sp, *sp_cell).tolist()
            body["seq_potential"] = {s: num(v) for s, v in zip(scenarios, vals, strict=True)}
    return body


def _point_layers(snap: Snapshot, row: int, col: int) -> dict[str, np.ndarray]:
    """Every map's series at one cell from the point group: one chunk per epoch, one for the
    static maps; each series in its map's dtype (float32 holds the uint8 classes exactly)."""
    pt = snap.point
    assert pt is not None
    values = snap.chunks.series(pt.values, row, col).reshape(len(snap.epochs), len(pt.layers))
    out = {n: values[:, j].astype(pt.dtypes.get(n, "float32")) for j, n in enumerate(pt.layers)}
    if pt.static_values is not None:
        static = snap.chunks.series(pt.static_values, row, col)
        out.update(
            {n: static[j : j + 1].astype(pt.dtypes.get(n, "float32")) for j, n in enumerate(pt.static)}
        )
    return out


def _cell(ds: Any, x: float, y: float) -> tuple[int, int] | None:
    """(row, col) of the cell of ``ds``'s grid whose centre is within half a cell of (x, y)."""
    xs, ys = ds["x"].values, ds["y"].values
    col, row = int(np.abs(xs - x).argmin()), int(np.abs(ys - y).argmin())
    dx = abs(float(xs[1] - xs[0])) if xs.size > 1 else 360.0
    dy = abs(float(ys[1] - ys[0])) if ys.size > 1 else 180.0
    if abs(xs[col] - x) > dx / 2 or abs(ys[row] - y) > dy / 2:
        return None
    return row, col
