"""Dependencies the routers share and the response helper every router uses."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.responses import Response

from observatory_api.errors import NotFound, RateLimited
from observatory_api.limits import ClientLimiter, Gate
from observatory_api.reader import Snapshot, StoreReader
from observatory_api.services.common import num
from observatory_api.settings import Settings
from pipeline.indicators.registry import STRATA

__all__ = [
    "ReaderDep",
    "SettingsDep",
    "SnapshotDep",
    "aoi_slot",
    "epoch_index",
    "json_response",
    "limit_client",
    "num",
    "public_base",
    "region_row",
    "stratum_index",
]


# async: a plain ``def`` dependency would be sent to the thread pool on every request
async def get_reader(request: Request) -> StoreReader:
    reader: StoreReader = request.app.state.reader
    return reader


async def get_snapshot(request: Request) -> Snapshot:
    """The snapshot this request answers from: taken once, so one request never mixes two (or
    the one a request made ahead of a swap names, see ``observatory_api.responses.prepare``)."""
    ahead = request.scope.get("state", {}).get("snapshot")
    if ahead is not None:
        return ahead
    reader: StoreReader = request.app.state.reader
    return reader.current


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
ReaderDep = Annotated[StoreReader, Depends(get_reader)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def json_response(
    data: Any, snap: Snapshot | None = None, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """orjson-encoded JSON (NaN as null) with the snapshot id in ``X-Snapshot-Id``."""
    h = dict(headers or {})
    if snap is not None:
        h["X-Snapshot-Id"] = snap.snapshot_id
    body = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(body, status_code=status, media_type="application/json", headers=h)


def region_row(snap: Snapshot, region_id: str) -> int:
    """Row of ``region_id`` in the tables; 404 naming close ids."""
    row = snap.row.get(region_id)
    if row is None:
        close = [r for r in snap.region_ids if r.lower().startswith(region_id[:2].lower())][:10]
        raise NotFound(
            f"region_id {region_id!r} is not a known region. See GET /v1/regions (search with ?q=).",
            parameter="region_id",
            allowed=close or snap.region_ids[:10],
        )
    return row


def epoch_index(snap: Snapshot, epoch: int | None) -> int:
    """Index of ``epoch`` in the snapshot (default: the latest); 404 naming the epochs held."""
    if epoch is None:
        return len(snap.epochs) - 1
    if epoch not in snap.epochs:
        raise NotFound(
            f"epoch {epoch} is not in the store; it holds {snap.epochs}.",
            parameter="epoch",
            allowed=snap.epochs,
        )
    return snap.epochs.index(epoch)


def stratum_index(stratum: str) -> int:
    return STRATA.index(stratum)


def limit_client(request: Request, kind: str) -> None:
    """429 (with Retry-After) when this client has used up its budget of expensive requests."""
    limiter: ClientLimiter = request.app.state.limiter
    client = request.scope.get("state", {}).get("client", "unknown")
    wait = limiter.take(f"{kind}:{client}")
    if wait > 0:
        per_minute = limiter.rate * 60
        raise RateLimited(
            f"too many expensive requests ({kind}) from this client: at most {per_minute:g} per minute "
            f"(SOCOBS_CLIENT_REQUESTS_PER_MINUTE). Retry in {math.ceil(wait)} s.",
            retry_after=wait,
        )


async def aoi_slot(request: Request) -> AsyncIterator[None]:
    """The client's budget, then one of the ``SOCOBS_AOI_CONCURRENCY`` assessment slots (429 if
    none is free: assessments are refused rather than queued)."""
    limit_client(request, "aoi")
    gate: Gate = request.app.state.aoi_gate
    if not gate.try_enter():
        raise RateLimited(
            f"{gate.limit} assessments are being computed already; retry in a second.", retry_after=1.0
        )
    try:
        yield
    finally:
        gate.leave()


_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def public_base(request: Request, settings: Settings) -> str:
    """The API's public base URL: SOCOBS_PUBLIC_URL, else X-Forwarded-Proto/-Host from a trusted
    proxy, else the address the server listens on; never the request's Host header."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    peer = request.client.host if request.client else None
    if peer is not None and peer in settings.trusted_proxies:
        host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if _HOST.match(host) and proto in ("http", "https"):
            return f"{proto}://{host}"
    server = request.scope.get("server")
    scheme = request.scope.get("scheme", "http")
    if not server:
        return f"{scheme}://localhost"
    host, port = server[0], server[1]
    if ":" in str(host):
        host = f"[{host}]"
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443) or port is None
    return f"{scheme}://{host}" if default else f"{scheme}://{host}:{port}"
