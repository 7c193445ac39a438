"""``POST /v1/aoi/assess``: a project polygon's SOC change against a control ring (objective E3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from observatory_api import aoi_grid, geometry
from observatory_api.deps import SettingsDep, SnapshotDep, aoi_slot, json_response
from observatory_api.jsonbody import MAX_DEPTH, parse_json
from observatory_api.models import ERROR_RESPONSES, AoiRequest, AoiResult
from observatory_api.services import aoi

router = APIRouter(prefix="/v1/aoi", tags=["impact assessment"], responses=ERROR_RESPONSES)

LIMITS = f"""
Limits (each refused at once with a problem+json 413 or 422 naming it): the body at most
SOCOBS_MAX_REQUEST_BYTES (1 MB), JSON nested at most {MAX_DEPTH} deep; at most
SOCOBS_MAX_AOI_VERTICES positions (20 000), {geometry.MAX_PARTS} parts, {geometry.MAX_HOLES} holes;
at most {geometry.MAX_EDGE_PAIRS:,} pairs of edges overlapping in longitude (the cost of the
validity check: a 20 000-pointed star is refused, a coastline of 20 000 vertices is not); at
most SOCOBS_MAX_AOI_KM2 (250 000 km2, exact area on the ellipsoid); `ring_km` at most 200; the
polygon's bounding box widened by the ring at most {aoi_grid.MAX_WINDOW_CELLS:,} cells of the
base grid. Per client at most SOCOBS_CLIENT_REQUESTS_PER_MINUTE assessments per minute and
SOCOBS_AOI_CONCURRENCY computed at once by the server (429 with Retry-After beyond).

Geography: edges are straight in lon/lat; an edge spanning more than 180 degrees of longitude
crosses the antimeridian (the short way); a ring winding once around a pole encloses it.
"""


async def raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/assess",
    response_model=AoiResult,
    description=(
        "A project polygon's SOC stock change and rate vs a same-land-cover control ring; "
        "4 per 1000 path.\n" + LIMITS
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": AoiRequest.model_json_schema()}},
        }
    },
)
def assess(
    snap: SnapshotDep,
    settings: SettingsDep,
    _slot: Annotated[None, Depends(aoi_slot)],
    raw: Annotated[bytes, Depends(raw_body)],
) -> Response:
    try:
        req = AoiRequest.model_validate(parse_json(raw))
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    shape = geometry.parse_aoi(req.geometry, settings.max_aoi_vertices, settings.max_aoi_km2)
    e0, e1 = aoi.epochs_of(snap, req.start_epoch, req.end_epoch)
    return json_response(aoi.assess(snap, shape, e0, e1, req.ring_km), snap)
