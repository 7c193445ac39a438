"""Map tiles (WebMercatorQuad PNG), TileJSON, legends and point queries."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response

from observatory_api.caches import TileCache
from observatory_api.deps import SettingsDep, SnapshotDep, epoch_index, json_response, public_base
from observatory_api.models import ERROR_RESPONSES, Colormap, Legend, MapIndicator, Point, TileJson
from observatory_api.reader import Snapshot
from observatory_api.services import maps
from pipeline.indicators.registry import BY_ID

CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=600"

router = APIRouter(responses=ERROR_RESPONSES)


async def get_tile_cache(request: Request) -> TileCache:
    cache: TileCache = request.app.state.tile_cache
    return cache


TileCacheDep = Annotated[TileCache, Depends(get_tile_cache)]
EpochQuery = Annotated[int | None, Query(description="Default: the latest epoch")]
RescaleQuery = Annotated[str | None, Query(description="min,max of the colour ramp", max_length=64)]


@router.get(
    "/v1/tiles/{indicator}/{z}/{x}/{y}.png",
    tags=["tiles"],
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 304: {"description": "Not modified"}},
)
def tile(
    snap: SnapshotDep,
    cache: TileCacheDep,
    indicator: MapIndicator,
    z: Annotated[int, Path(ge=0, le=maps.MAX_ZOOM)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    epoch: EpochQuery = None,
    colormap: Annotated[Colormap | None, Query(description="Default: the indicator's")] = None,
    rescale: RescaleQuery = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """A 256 x 256 PNG tile of an indicator map on WebMercatorQuad; transparent where no data."""
    maps.check_tile(z, x, y)
    ind = BY_ID[indicator.value]
    k = epoch_index(snap, epoch)
    cmap = maps.tile_colormap(ind, colormap.value if colormap is not None else None)
    rs = maps.parse_rescale(rescale, ind.rescale)
    key = f"{snap.snapshot_id}/{ind.id}/{snap.epochs[k]}/{z}/{x}/{y}/{cmap}/{rs[0]!r},{rs[1]!r}"
    return png_tile(
        snap, cache, key, if_none_match, lambda: maps.render_tile(snap, ind.id, z, x, y, k, cmap, rs)
    )


def png_tile(
    snap: Snapshot, cache: TileCache, key: str, if_none_match: str | None, render: Callable[[], bytes]
) -> Response:
    """The PNG tile named by ``key`` (which holds the snapshot id and everything that changes the
    tile): 304 when the client has it (ETag), else from the tile cache, else ``render()`` cached."""
    etag = '"' + hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "X-Snapshot-Id": snap.snapshot_id}
    if if_none_match is not None and etag in if_none_match:
        return Response(status_code=304, headers=headers)
    png = cache.get(key)
    if png is None:
        png = render()
        cache.put(key, png)
    return Response(png, media_type="image/png", headers=headers)


@router.get("/v1/tiles/{indicator}/tilejson.json", tags=["tiles"], response_model=TileJson)
def tilejson(
    request: Request,
    snap: SnapshotDep,
    settings: SettingsDep,
    indicator: MapIndicator,
    epoch: EpochQuery = None,
) -> Response:
    """TileJSON 3.0 for an indicator's tiles."""
    k = epoch_index(snap, epoch)
    return json_response(maps.tilejson(snap, indicator.value, k, public_base(request, settings)), snap)


@router.get("/v1/tiles/{indicator}/legend", tags=["tiles"], response_model=Legend)
def legend(
    snap: SnapshotDep, indicator: MapIndicator, colormap: Colormap | None = None, rescale: RescaleQuery = None
) -> Response:
    """Legend of a tile layer: colour stops with values and unit (or the classes)."""
    body = maps.legend_body(indicator.value, colormap.value if colormap is not None else None, rescale)
    return json_response(body, snap)


@router.get("/v1/point", tags=["maps"], response_model=Point)
def point(
    snap: SnapshotDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
) -> Response:
    """Every map's values and time series at a point (the cell that contains it)."""
    return json_response(maps.point(snap, lat, lon), snap)
