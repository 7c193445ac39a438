"""``/healthz`` (the process answers), ``/readyz`` (a snapshot is loaded and the store is
readable now) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from observatory_api.deps import ReaderDep, json_response
from observatory_api.errors import NotReady
from observatory_api.models import ERROR_RESPONSES, Health, Ready

router = APIRouter(tags=["health and metrics"], responses=ERROR_RESPONSES)


@router.get("/healthz", response_model=Health)
async def healthz(reader: ReaderDep) -> Response:
    """Liveness: 200 while the process answers (whatever the store's state)."""
    snap = reader.loaded
    return json_response({"status": "ok", "snapshot_id": snap.snapshot_id if snap else None})


@router.get("/readyz", response_model=Ready)
async def readyz(reader: ReaderDep) -> Response:
    """Readiness: 200 when a snapshot is loaded and the store can be read now; else 503 (with
    Retry-After) saying which."""
    snap = reader.loaded
    if snap is None:
        raise NotReady(f"not ready: no snapshot loaded yet ({reader.last_error or 'loading'}).")
    error = await reader.store_error()
    if error is not None:
        raise NotReady(f"not ready: {error}. Still serving snapshot {snap.snapshot_id} where it can.")
    return json_response({"status": "ready", "snapshot_id": snap.snapshot_id}, snap)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format"}},
)
async def metrics(request: Request) -> Response:
    """Request counts and latency histograms per route, cache hit rates, snapshot age."""
    body = request.app.state.metrics.render()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
