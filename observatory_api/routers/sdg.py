"""SDG 15.3.1: a region's land degradation by period, and its maps as tiles (#20)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from observatory_api.deps import SettingsDep, SnapshotDep, json_response, public_base, region_row
from observatory_api.models import ERROR_RESPONSES, TileJson
from observatory_api.routers.maps import TileCacheDep, png_tile
from observatory_api.services import maps as map_service
from observatory_api.services import sdg
from pipeline.indicators.sdg_periods import LAYERS

router = APIRouter(responses=ERROR_RESPONSES)
SdgLayer = Enum("SdgLayer", {n: n for n in LAYERS}, type=str)  # type: ignore[misc]
PeriodQuery = Annotated[
    str | None,
    Query(
        max_length=32, description="An SDG period label, e.g. 2015-2019 (default: the last reporting period)"
    ),
]


@router.get("/v1/regions/{region_id}/sdg15_3_1", tags=["regions and indicators"])
def region_sdg(
    snap: SnapshotDep,
    region_id: Annotated[str, Path(max_length=100)],
    period: PeriodQuery = None,
) -> Response:
    """SDG 15.3.1 of a region in one period: land area and the area and share degraded, stable,
    improved and without data, for the indicator and each sub-indicator (land cover, land
    productivity, SOC), with the period, the method and the units."""
    region_row(snap, region_id)  # 404 for an unknown region, naming close ids
    return json_response(sdg.region_sdg(snap, region_id, period), snap)


@router.get("/v1/tiles/sdg/{layer}/tilejson.json", tags=["tiles"], response_model=TileJson)
def tilejson(
    request: Request, snap: SnapshotDep, settings: SettingsDep, layer: SdgLayer, period: PeriodQuery = None
) -> Response:
    """TileJSON 3.0 of an SDG 15.3.1 map in one period (its minzoom: the lowest zoom its tiles,
    read from the base grid without overviews, can be drawn at)."""
    return json_response(sdg.tilejson(snap, layer.value, period, public_base(request, settings)), snap)


@router.get("/v1/tiles/sdg/{layer}/legend", tags=["tiles"])
def legend(snap: SnapshotDep, layer: SdgLayer) -> Response:
    """Classes and colours of an SDG 15.3.1 map (the same for every layer)."""
    return json_response(sdg.legend(), snap)


@router.get(
    "/v1/tiles/sdg/{layer}/{z}/{x}/{y}.png",
    tags=["tiles"],
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 304: {"description": "Not modified"}},
)
def tile(
    snap: SnapshotDep,
    cache: TileCacheDep,
    layer: SdgLayer,
    z: Annotated[int, Path(ge=0, le=map_service.MAX_ZOOM)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    period: PeriodQuery = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """A 256 x 256 PNG tile of an SDG 15.3.1 map on WebMercatorQuad (degraded, stable, improved;
    transparent where no data, inland water or sea)."""
    map_service.check_tile(z, x, y)
    t = sdg.tables(snap)
    label = t.periods[sdg.period_index(t, period)]
    key = f"{snap.snapshot_id}/sdg/{layer.value}/{label}/{z}/{x}/{y}"
    return png_tile(
        snap, cache, key, if_none_match, lambda: sdg.render_tile(snap, layer.value, z, x, y, label)
    )
