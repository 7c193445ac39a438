"""The MRV-systems catalog, the products' STAC collection, status and admin."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from observatory_api.deps import ReaderDep, SettingsDep, SnapshotDep, json_response, public_base
from observatory_api.errors import NotFound, Unauthorized
from observatory_api.models import (
    ERROR_RESPONSES,
    Refreshed,
    StacCollection,
    StacItem,
    StacItemCollection,
    Status,
    SystemList,
)
from observatory_api.services import catalog, stac, status

router = APIRouter(responses=ERROR_RESPONSES)


@router.get("/v1/catalog/systems", tags=["catalog and status"], response_model=SystemList)
def catalog_systems(
    kind: Annotated[str | None, Query(description=f"One of: {', '.join(catalog.KINDS)}")] = None,
    scale: Annotated[str | None, Query(description=f"One of: {', '.join(catalog.SCALES)}")] = None,
    q: Annotated[str | None, Query(max_length=100, description="Search in names and operators")] = None,
) -> Response:
    """SOC / soil-health monitoring and MRV systems (objective E1), filterable by kind and scale."""
    return json_response(catalog.find_systems(kind, scale, q))


@router.get("/v1/stac", tags=["catalog and status"], response_model=StacCollection)
def stac_collection(request: Request, snap: SnapshotDep, settings: SettingsDep) -> Response:
    """The published products as a STAC collection (maps as Zarr assets with raster:bands)."""
    href = stac.store_href(settings.store, settings.public_store_url)
    return json_response(stac.collection(snap, href, public_base(request, settings)), snap)


@router.get("/v1/stac/items", tags=["catalog and status"], response_model=StacItemCollection)
def stac_items(request: Request, snap: SnapshotDep, settings: SettingsDep) -> Response:
    """One STAC item per epoch: that epoch's maps as Zarr assets (xarray-assets, projection)."""
    href = stac.store_href(settings.store, settings.public_store_url)
    return json_response(stac.items(snap, href, public_base(request, settings)), snap)


@router.get("/v1/stac/items/{item_id}", tags=["catalog and status"], response_model=StacItem)
def stac_item(
    request: Request,
    snap: SnapshotDep,
    settings: SettingsDep,
    item_id: Annotated[str, Path(max_length=64, description="indicators-<epoch>, e.g. indicators-2017")],
) -> Response:
    """One epoch's STAC item."""
    href = stac.store_href(settings.store, settings.public_store_url)
    return json_response(stac.item(snap, href, public_base(request, settings), item_id), snap)


@router.get("/v1/status", tags=["catalog and status"], response_model=Status)
def store_status(reader: ReaderDep, snap: SnapshotDep) -> Response:
    """Last commit, snapshot id, newest source item and per-source freshness."""
    body = status.status(
        snap, datetime.now(UTC), reader.checked_at, reader.last_error, reader.settings.poll_seconds
    )
    return json_response(body, snap)


@router.post(
    "/v1/admin/refresh",
    response_model=Refreshed,
    tags=["admin"],
    responses={401: {"description": "Missing or wrong X-API-Key"}},
)
async def refresh(reader: ReaderDep, x_api_key: Annotated[str | None, Header()] = None) -> Response:
    """Check the store now and serve its newest commit (needs the X-API-Key header)."""
    key = reader.settings.admin_api_key
    if key is None:
        raise NotFound("the admin endpoint is disabled: set SOCOBS_ADMIN_API_KEY to enable it.")
    if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), key.get_secret_value().encode()):
        raise Unauthorized("X-API-Key: missing or wrong key.", parameter="X-API-Key")
    changed = await reader.refresh()
    return json_response({"refreshed": changed, "snapshot_id": reader.current.snapshot_id})
