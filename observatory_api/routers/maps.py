"""Map tiles (WebMercatorQuad PNG), TileJSON, legends and point queries."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from observatory_api.deps import SnapshotDep, epoch_index, json_response, num
from observatory_api.errors import BadParameter, NotFound
from observatory_api.models import ERROR_RESPONSES, Colormap, MapIndicator, Point
from observatory_api.reader import Snapshot
from observatory_api.render import (
    TMS,
    encode_png,
    legend,
    pick_level,
    sample,
    tile_geometry,
    to_index,
)
from pipeline.indicator_registry import BY_ID, SH_CLASSES

MAX_ZOOM = 12
CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=600"


class TileCache:
    """Rendered PNGs by (snapshot, request) key; LRU, thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            v = self.items.get(key)
            if v is not None:
                self.items.move_to_end(key)
            return v

    def put(self, key: str, png: bytes) -> None:
        if self.size <= 0:
            return
        with self.lock:
            self.items[key] = png
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def _rescale(text: str | None, default: tuple[float, float]) -> tuple[float, float]:
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


def render_tile(snap: Snapshot, indicator: str, z: int, x: int, y: int, epoch_index: int,
                colormap: str, rescale: tuple[float, float]) -> bytes:  # fmt: skip
    """The PNG of one tile (no caching here: the benchmark times this)."""
    ind = BY_ID[indicator]
    geo = tile_geometry(z, x, y)
    level = pick_level(snap.levels, geo.pixel_deg)
    data = snap.slices.get(level, ind.map_var or indicator, epoch_index)
    vals, inside = sample(level, data, geo)
    classes = ind.kind == "class"
    if classes:
        inside &= vals != 255
    return encode_png(to_index(vals, inside, rescale, classes), colormap)


def router(tile_cache_size: int) -> APIRouter:
    r = APIRouter(prefix="/v1/tiles", tags=["tiles"], responses=ERROR_RESPONSES)
    cache = TileCache(tile_cache_size)

    @r.get("/{indicator}/{z}/{x}/{y}.png", response_class=Response,
           responses={200: {"content": {"image/png": {}}}, 304: {"description": "Not modified"}})  # fmt: skip
    def tile(
        snap: SnapshotDep,
        indicator: MapIndicator,
        z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
        x: Annotated[int, Path(ge=0)],
        y: Annotated[int, Path(ge=0)],
        epoch: Annotated[int | None, Query(description="Default: the latest epoch")] = None,
        colormap: Annotated[Colormap | None, Query(description="Default: the indicator's")] = None,
        rescale: Annotated[str | None, Query(description="min,max of the colour ramp", max_length=64)] = None,
        if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Response:
        """A 256 x 256 PNG tile of an indicator map on WebMercatorQuad; transparent where no data."""
        n = 2**z
        if x >= n or y >= n:
            raise BadParameter(f"tile {z}/{x}/{y}: at zoom {z}, x and y must lie in 0..{n - 1}.",
                               parameter="x" if x >= n else "y", allowed=[0, n - 1])  # fmt: skip
        ind = BY_ID[indicator.value]
        k = epoch_index(snap, epoch)
        cmap = colormap.value if colormap is not None else ind.colormap
        if (ind.kind == "class") != (cmap == "sh"):
            raise BadParameter(f"colormap {cmap!r} does not fit {ind.id} ({ind.kind}).", parameter="colormap",
                               allowed=["sh"] if ind.kind == "class" else ["viridis", "ylorbr", "rdbu", "rdylgn"])  # fmt: skip
        rs = _rescale(rescale, ind.rescale)
        key = f"{snap.snapshot_id}/{ind.id}/{snap.epochs[k]}/{z}/{x}/{y}/{cmap}/{rs[0]!r},{rs[1]!r}"
        etag = '"' + hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + '"'
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "X-Snapshot-Id": snap.snapshot_id}
        if if_none_match is not None and etag in if_none_match:
            return Response(status_code=304, headers=headers)
        png = cache.get(key)
        if png is None:
            png = render_tile(snap, ind.id, z, x, y, k, cmap, rs)
            cache.put(key, png)
        return Response(png, media_type="image/png", headers=headers)

    @r.get("/{indicator}/tilejson.json")
    def tilejson(request: Request, snap: SnapshotDep, indicator: MapIndicator,
                 epoch: int | None = None) -> Response:  # fmt: skip
        """TileJSON 3.0 for an indicator's tiles."""
        k = epoch_index(snap, epoch)
        base = str(request.app.state.settings.public_url or str(request.base_url)).rstrip("/")
        lv = snap.base
        bounds = [lv.x0, lv.y0 + lv.dy * lv.shape[0], lv.x0 + lv.dx * lv.shape[1], lv.y0]
        ind = BY_ID[indicator.value]
        return json_response({
            "tilejson": "3.0.0", "name": ind.title, "description": ind.definition,
            "version": snap.snapshot_id, "scheme": "xyz",
            "tiles": [f"{base}/v1/tiles/{ind.id}/{{z}}/{{x}}/{{y}}.png?epoch={snap.epochs[k]}"],
            "minzoom": 0, "maxzoom": MAX_ZOOM, "bounds": [max(-180.0, bounds[0]), max(-85.0511, bounds[1]),
                                                        min(180.0, bounds[2]), min(85.0511, bounds[3])],
            "attribution": "soc-observatory (demo data are synthetic)", "tms": TMS.id,
        }, snap)  # fmt: skip

    @r.get("/{indicator}/legend")
    def legend_(snap: SnapshotDep, indicator: MapIndicator, colormap: Colormap | None = None,
                rescale: Annotated[str | None, Query(max_length=64)] = None) -> Response:  # fmt: skip
        """Legend of a tile layer: colour stops with values and unit (or the classes)."""
        ind = BY_ID[indicator.value]
        cmap = colormap.value if colormap is not None else ind.colormap
        if ind.kind == "class":
            from observatory_api.render import _PALETTES

            stops: list[dict[str, Any]] = [{"value": k, "label": c, "color": "#" + bytes(_PALETTES["sh"][k]).hex()}
                                           for k, c in enumerate(SH_CLASSES)]  # fmt: skip
        else:
            if cmap == "sh":
                raise BadParameter("colormap 'sh' is for classes.", parameter="colormap")
            stops = legend(cmap, _rescale(rescale, ind.rescale))
        return json_response({"indicator": ind.id, "unit": ind.unit, "colormap": cmap, "stops": stops,
                              "nodata": "transparent"}, snap)  # fmt: skip

    return r


def point_router() -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["maps"], responses=ERROR_RESPONSES)

    @r.get("/point", response_model=Point)
    def point(
        snap: SnapshotDep,
        lat: Annotated[float, Query(ge=-90, le=90)],
        lon: Annotated[float, Query(ge=-180, le=180)],
    ) -> Response:
        """Every map's values and time series at a point (the cell that contains it)."""
        lv = snap.base
        col = int(np.floor((lon - lv.x0) / lv.dx))
        row = int(np.floor((lat - lv.y0) / lv.dy))
        if not (0 <= row < lv.shape[0] and 0 <= col < lv.shape[1]):
            south = lv.y0 + lv.dy * lv.shape[0]
            raise NotFound(f"({lat}, {lon}) lies outside the maps' extent: lon {lv.x0}..{lv.x0 + lv.dx * lv.shape[1]}, "
                           f"lat {south}..{lv.y0}.", parameter="lat/lon")  # fmt: skip
        maps: dict[str, Any] = {}
        for name, da in lv.ds.data_vars.items():
            series = [snap.slices.get(lv, str(name), k)[row, col] for k in range(len(snap.epochs))]
            maps[str(name)] = {"unit": da.attrs.get("units", ""), "epochs": snap.epochs,
                               "values": [None if (v == 255 and da.dtype == np.uint8) else num(v) for v in series]}  # fmt: skip
        body: dict[str, Any] = {"lat": lat, "lon": lon, "snapshot_id": snap.snapshot_id, "maps": maps,
                                "cell": {"x": lv.x0 + (col + 0.5) * lv.dx, "y": lv.y0 + (row + 0.5) * lv.dy,
                                         "row": row, "col": col}}  # fmt: skip
        if snap.rothc is not None and "seq_potential" in snap.rothc:
            sp = snap.rothc["seq_potential"]
            try:
                cell = sp.sel(
                    x=body["cell"]["x"], y=body["cell"]["y"], method="nearest", tolerance=abs(lv.dx) / 2
                )
                body["seq_potential"] = {str(s): num(v) for s, v in
                                         zip(cell["scenario"].values, cell.values, strict=True)}  # fmt: skip
            except KeyError:
                body["seq_potential"] = None
        return json_response(body, snap)

    return r
