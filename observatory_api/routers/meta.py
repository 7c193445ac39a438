"""The MRV-systems catalog, the products' STAC collection, status, health and admin."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from observatory_api.deps import ReaderDep, SnapshotDep, json_response
from observatory_api.errors import BadParameter, NotFound, Unauthorized
from observatory_api.models import ERROR_RESPONSES, Health, Refreshed, Status, SystemList
from pipeline.regions import catalogs_dir

KINDS = ("remote sensing", "database", "sensor network", "model", "survey", "methodology")
SCALES = ("global", "regional", "national", "sub-national")


@lru_cache(maxsize=1)
def systems() -> list[dict[str, Any]]:
    doc = yaml.safe_load((catalogs_dir() / "mrv_systems.yaml").read_text())
    return list(doc["systems"])


def router() -> APIRouter:
    r = APIRouter(tags=["catalog and status"], responses=ERROR_RESPONSES)

    @r.get("/v1/catalog/systems", response_model=SystemList)
    def catalog_systems(
        kind: Annotated[str | None, Query(description=f"One of: {', '.join(KINDS)}")] = None,
        scale: Annotated[str | None, Query(description=f"One of: {', '.join(SCALES)}")] = None,
        q: Annotated[str | None, Query(max_length=100, description="Search in names and operators")] = None,
    ) -> Response:
        """SOC / soil-health monitoring and MRV systems (objective E1), filterable by kind and scale."""
        if kind is not None and kind not in KINDS:
            raise BadParameter(
                f"kind {kind!r} is not a kind of system.", parameter="kind", allowed=list(KINDS)
            )
        if scale is not None and scale not in SCALES:
            raise BadParameter(f"scale {scale!r} is not a scale.", parameter="scale", allowed=list(SCALES))
        out = [s for s in systems() if (kind is None or s["kind"] == kind) and (scale is None or s["scale"] == scale)
               and (q is None or q.lower() in (s["name"] + " " + s["operator"]).lower())]  # fmt: skip
        return json_response({"count": len(out), "systems": out})

    @r.get("/v1/stac")
    def stac(request: Request, snap: SnapshotDep) -> Response:
        """The published products as a STAC collection (maps as Zarr assets with raster:bands)."""
        body = snap.memo.get("stac")
        if body is None:
            from pipeline.indicator_export import stac_collection

            store = request.app.state.settings.store
            body = stac_collection(store, snap.base.ds, snap.attrs.get("input_snapshot"), snap.snapshot_id)
            snap.memo["stac"] = body
        return json_response(body, snap)

    @r.get("/v1/status", response_model=Status)
    def status(reader: ReaderDep, snap: SnapshotDep) -> Response:
        """Last commit, snapshot id, newest source item and per-source freshness."""
        now = datetime.now(UTC)
        by_source: dict[str, dict[str, Any]] = {}
        for var, p in snap.provenance.items():
            src = by_source.setdefault(p.get("source", var), {"source": p.get("source", var),
                                                               "collection": p.get("collection"),
                                                               "variables": [], "latest_item": None})  # fmt: skip
            src["variables"].append(var)
            for entry in p.get("inputs", {}).values():
                for d in entry.get("datetimes", []):
                    if src["latest_item"] is None or d > src["latest_item"]:
                        src["latest_item"] = d
        for src in by_source.values():
            li = src["latest_item"]
            src["age_days"] = (
                round((now - datetime.fromisoformat(li)).total_seconds() / 86400, 1) if li else None
            )
        newest = max((s["latest_item"] for s in by_source.values() if s["latest_item"]), default=None)
        return json_response({
            "snapshot_id": snap.snapshot_id, "committed_at": snap.written_at.isoformat(), "message": snap.message,
            "input_snapshot": snap.attrs.get("input_snapshot"), "newest_source_item": newest,
            "sources": sorted(by_source.values(), key=lambda s: s["source"]),
            "checked_at": reader.checked_at.isoformat() if reader.checked_at else None,
            "last_error": reader.last_error, "poll_seconds": reader.settings.poll_seconds,
        }, snap)  # fmt: skip

    @r.get("/healthz", response_model=Health)
    def healthz(reader: ReaderDep) -> Response:
        """Liveness and readiness: 200 with the snapshot served, 503 before the first one."""
        snap = reader._current
        if snap is None:
            return json_response({"status": "starting", "snapshot_id": None}, status=503)
        return json_response({"status": "ok", "snapshot_id": snap.snapshot_id}, snap)

    @r.post("/v1/admin/refresh", response_model=Refreshed, tags=["admin"])
    async def refresh(reader: ReaderDep, x_api_key: Annotated[str | None, Header()] = None) -> Response:
        """Check the store now and serve its newest commit (needs the X-API-Key header)."""
        key = reader.settings.admin_api_key
        if key is None:
            raise NotFound("the admin endpoint is disabled: set SOCOBS_ADMIN_API_KEY to enable it.")
        if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), key.get_secret_value().encode()):
            raise Unauthorized("X-API-Key: missing or wrong key.", parameter="X-API-Key")
        changed = await reader.refresh()
        return json_response({"refreshed": changed, "snapshot_id": reader.current.snapshot_id})

    return r
