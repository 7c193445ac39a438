"""Dependencies the routers share and the response helper every router uses."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.responses import Response

from observatory_api.errors import NotFound
from observatory_api.reader import Snapshot, StoreReader
from observatory_api.services.common import num
from observatory_api.settings import Settings
from pipeline.indicator_registry import STRATA

__all__ = [
    "ReaderDep",
    "SettingsDep",
    "SnapshotDep",
    "epoch_index",
    "json_response",
    "num",
    "region_row",
    "stratum_index",
]


# async: a plain ``def`` dependency would be sent to the thread pool on every request
async def get_reader(request: Request) -> StoreReader:
    reader: StoreReader = request.app.state.reader
    return reader


async def get_snapshot(request: Request) -> Snapshot:
    """The snapshot this request answers from: taken once, so one request never mixes two."""
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
