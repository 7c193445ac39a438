"""Regions, the indicator registry, time series, summaries and rankings.

The answers of a snapshot never change, so their encoded bodies are kept per snapshot
(``Snapshot.bodies``, bounded): what dashboards poll most is answered from memory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from observatory_api.deps import (
    SnapshotDep,
    epoch_index,
    json_response,
    limit_client,
    region_row,
    stratum_index,
)
from observatory_api.errors import NotFound
from observatory_api.models import (
    ERROR_RESPONSES,
    IndicatorId,
    IndicatorList,
    LevelName,
    MonthlySeries,
    Ranking,
    RegionDetail,
    RegionList,
    Series,
    Stratum,
    Summary,
)
from observatory_api.reader import Snapshot
from observatory_api.services import rankings as ranking_service
from observatory_api.services import regions as region_service
from observatory_api.services import series as series_service
from observatory_api.services import summary as summary_service

router = APIRouter(prefix="/v1", tags=["regions and indicators"], responses=ERROR_RESPONSES)
GEOMETRY_CACHE = "public, max-age=300"


def _json(snap: Snapshot, body: bytes, media_type: str = "application/json") -> Response:
    return Response(body, media_type=media_type, headers={"X-Snapshot-Id": snap.snapshot_id})


@router.get("/regions", response_model=RegionList)
async def regions(
    snap: SnapshotDep,
    level: Annotated[LevelName | None, Query(description="Only this level")] = None,
    parent: Annotated[
        str | None, Query(max_length=100, description="Only the children of this region id")
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="Case-insensitive name or id search")] = None,
) -> Response:
    """Regions of the hierarchy, filtered by level, parent or name; each with its bbox and main_bbox
    ([west, south, east, north], west > east across the antimeridian)."""
    key = ("regions", level.value if level else None, parent, q.lower() if q else None)
    body = snap.bodies.get(key)
    if body is None:
        body = orjson.dumps(region_service.find(snap, level.value if level else None, parent, q))
        snap.bodies.put(key, body)
    return _json(snap, body)


@router.get(
    "/regions/{region_id}",
    response_model=RegionDetail,
    responses={304: {"description": "Not modified (If-None-Match matched the geometry's ETag)"}},
)
async def region(
    request: Request,
    snap: SnapshotDep,
    region_id: str,
    geometry: Annotated[
        bool, Query(description="Include the GeoJSON geometry (rate-limited per client; ETag)")
    ] = False,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """One region with its parent, children, bbox, main_bbox and (on request) geometry."""
    i = region_row(snap, region_id)
    if geometry:
        limit_client(request, "geometry")
    body, etag = region_service.detail_json(snap, i, geometry)
    if etag is None:
        return _json(snap, body)
    headers = {"ETag": etag, "Cache-Control": GEOMETRY_CACHE, "X-Snapshot-Id": snap.snapshot_id}
    if if_none_match is not None and etag in if_none_match:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/indicators", response_model=IndicatorList)
async def indicators(snap: SnapshotDep) -> Response:
    """The registry: id, unit, definition, reference, available epochs and strata."""
    return json_response(region_service.indicators(snap), snap)


def _monthly_route(signal: str) -> None:
    """``GET /v1/regions/{region_id}/indicators/<signal>`` for a monthly signal: registered before
    the yearly route, so the same series door answers months (the yearly ids are unchanged)."""

    async def monthly(
        snap: SnapshotDep,
        region_id: str,
        format: Annotated[Literal["json", "csv"] | None, Query(description="Or use Accept: text/csv")] = None,
        accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Response:
        want_csv = format == "csv" or (format is None and accept is not None and "text/csv" in accept)
        i = region_row(snap, region_id)
        if series_service.monthly_group(snap) is None:
            raise NotFound(
                f"{signal}: the store has no monthly signals yet. They come from a monthly NDVI "
                "source (e.g. demo-ndvi): run `socobs indicators JOB.yaml` on a cube that has one.",
                parameter="indicator",
            )
        key = ("monthly", region_id, signal, want_csv)
        body = snap.bodies.get(key)
        if body is None:
            data = series_service.monthly_series(snap, i, signal)
            body = series_service.monthly_csv(data).encode() if want_csv else orjson.dumps(data)
            snap.bodies.put(key, body)
        return _json(snap, body, "text/csv; charset=utf-8" if want_csv else "application/json")

    monthly.__doc__ = (
        f"Monthly series of {signal} for a region: {series_service.MONTHLY_SIGNALS[signal]}; one "
        "value per month of the monthly NDVI (JSON or CSV). 404 while the store has no monthly signals."
    )
    router.add_api_route(
        f"/regions/{{region_id}}/indicators/{signal}",
        monthly,
        methods=["GET"],
        response_model=MonthlySeries,
        responses={200: {"content": {"text/csv": {}}}},
        name=f"monthly_{signal}",
        summary=f"Monthly series: {signal}",
    )


for _signal in series_service.MONTHLY_SIGNALS:
    _monthly_route(_signal)


@router.get(
    "/regions/{region_id}/indicators/{indicator}",
    response_model=Series,
    responses={200: {"content": {"text/csv": {}}}},
)
async def series(
    snap: SnapshotDep,
    region_id: str,
    indicator: IndicatorId,
    stratum: Stratum = Stratum("all"),
    format: Annotated[Literal["json", "csv"] | None, Query(description="Or use Accept: text/csv")] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Time series of one indicator for a region (epochs, stratum, uncertainty bounds); JSON or CSV."""
    want_csv = format == "csv" or (format is None and accept is not None and "text/csv" in accept)
    key = ("series", region_id, indicator.value, stratum.value, want_csv)
    body = snap.bodies.get(key)
    if body is None:
        data = series_service.series(
            snap, region_row(snap, region_id), indicator.value, stratum_index(stratum.value)
        )
        body = series_service.series_csv(snap, data).encode() if want_csv else orjson.dumps(data)
        snap.bodies.put(key, body)
    return _json(snap, body, "text/csv; charset=utf-8" if want_csv else "application/json")


@router.get("/regions/{region_id}/summary", response_model=Summary)
async def summary(snap: SnapshotDep, region_id: str, stratum: Stratum = Stratum("all")) -> Response:
    """Latest value of every indicator, trend, 4 per 1000 progress, SH class shares, freshness."""
    key = ("summary", region_id, stratum.value)
    body = snap.bodies.get(key)
    if body is None:
        i = region_row(snap, region_id)
        body = orjson.dumps(summary_service.summary(snap, i, stratum_index(stratum.value), datetime.now(UTC)))
        snap.bodies.put(key, body)
    return _json(snap, body)


@router.get("/rankings/{indicator}", response_model=Ranking)
async def rankings(
    snap: SnapshotDep,
    indicator: IndicatorId,
    level: LevelName = LevelName("country"),
    epoch: Annotated[int | None, Query(description="Default: the latest epoch")] = None,
    stratum: Stratum = Stratum("all"),
    order: Literal["desc", "asc"] = "desc",
    parent: Annotated[
        str | None, Query(max_length=100, description="Only the children of this region")
    ] = None,
) -> Response:
    """Regions of one level ranked by an indicator; ties share a rank, missing data listed last."""
    k = epoch_index(snap, epoch)
    key = ("rankings", indicator.value, level.value, k, stratum.value, order, parent)
    body = snap.bodies.get(key)
    if body is None:
        data = ranking_service.rankings(
            snap, indicator.value, level.value, k, stratum_index(stratum.value), order, parent
        )
        body = orjson.dumps(data)
        snap.bodies.put(key, body)
    return _json(snap, body)
