"""``POST /v1/aoi/assess``: a project polygon's SOC change against a control ring (objective E3)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from observatory_api.deps import SettingsDep, SnapshotDep, json_response
from observatory_api.models import ERROR_RESPONSES, AoiRequest, AoiResult
from observatory_api.services import aoi

router = APIRouter(prefix="/v1/aoi", tags=["impact assessment"], responses=ERROR_RESPONSES)


@router.post("/assess", response_model=AoiResult)
def assess(snap: SnapshotDep, settings: SettingsDep, body: AoiRequest) -> Response:
    """A project polygon's SOC stock change and rate vs a same-land-cover control ring; 4 per 1000 path."""
    result = aoi.assess(
        snap,
        body.geometry,
        body.start_epoch,
        body.end_epoch,
        body.ring_km,
        settings.max_aoi_vertices,
        settings.max_aoi_km2,
    )
    return json_response(result, snap)
