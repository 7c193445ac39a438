"""The monthly signals' maps as tiles: PNG, TileJSON and legend, one month at a time (#20)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from observatory_api.deps import SettingsDep, SnapshotDep, json_response, public_base
from observatory_api.models import ERROR_RESPONSES, Legend, TileJson
from observatory_api.routers.maps import RescaleQuery, TileCacheDep, png_tile
from observatory_api.services import maps as map_service
from observatory_api.services import monthly

router = APIRouter(responses=ERROR_RESPONSES)
SignalPath = Annotated[
    str, Path(max_length=64, description=f"A monthly signal: one of {', '.join(monthly.SIGNALS)}")
]
MonthQuery = Annotated[str | None, Query(max_length=32, description="A month YYYY-MM (default: the newest)")]
ColormapQuery = Annotated[
    str | None, Query(max_length=32, description="A colour ramp (default: the signal's)")
]


@router.get(
    "/v1/tiles/monthly/{signal}/{z}/{x}/{y}.png",
    tags=["tiles"],
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 304: {"description": "Not modified"}},
)
def tile(
    snap: SnapshotDep,
    cache: TileCacheDep,
    signal: SignalPath,
    z: Annotated[int, Path(ge=0, le=map_service.MAX_ZOOM)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    month: MonthQuery = None,
    colormap: ColormapQuery = None,
    rescale: RescaleQuery = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """A 256 x 256 PNG tile of one month of a monthly signal on WebMercatorQuad (NDVI anomaly,
    bare-soil frequency or productivity ratio); transparent where no data."""
    map_service.check_tile(z, x, y)
    sig = monthly.signal_of(signal)
    k = monthly.month_index(snap, month)
    cmap = monthly.colormap_of(sig, colormap)
    rs = map_service.parse_rescale(rescale, sig.rescale)
    label = monthly.months(snap)[k]
    key = f"{snap.snapshot_id}/monthly/{signal}/{label}/{z}/{x}/{y}/{cmap}/{rs[0]!r},{rs[1]!r}"
    return png_tile(
        snap, cache, key, if_none_match, lambda: monthly.render_tile(snap, signal, z, x, y, k, cmap, rs)
    )


@router.get("/v1/tiles/monthly/{signal}/tilejson.json", tags=["tiles"], response_model=TileJson)
def tilejson(
    request: Request,
    snap: SnapshotDep,
    settings: SettingsDep,
    signal: SignalPath,
    month: MonthQuery = None,
    colormap: ColormapQuery = None,
    rescale: RescaleQuery = None,
) -> Response:
    """TileJSON 3.0 for one month of a monthly signal's tiles."""
    sig = monthly.signal_of(signal)
    k = monthly.month_index(snap, month)
    cmap = monthly.colormap_of(sig, colormap) if colormap is not None else None
    rs = map_service.parse_rescale(rescale, sig.rescale) if rescale is not None else None
    rs_text = f"{rs[0]!r},{rs[1]!r}" if rs is not None else None  # normalised, safe in a URL
    body = monthly.tilejson(snap, signal, k, public_base(request, settings), cmap, rs_text)
    return json_response(body, snap)


@router.get("/v1/tiles/monthly/{signal}/legend", tags=["tiles"], response_model=Legend)
def legend(
    snap: SnapshotDep, signal: SignalPath, colormap: ColormapQuery = None, rescale: RescaleQuery = None
) -> Response:
    """Legend of a monthly signal's tiles: colour stops with values (the signals are unitless)."""
    monthly.group(snap)  # 404 saying how to get monthly signals when the store has none
    return json_response(monthly.legend_body(signal, colormap, rescale), snap)
