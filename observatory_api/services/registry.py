"""The registry behind the API: its database URL, the schema upgrade at start-up, the ex-ante
assessor bound to the served snapshot, the CSV bodies, and the registry's errors as problems.

The URL is the settings' ``database_url`` when the settings have one, else
``$SOCOBS_DATABASE_URL``, else ``SOCOBS_VAR/registry.sqlite`` (where ``socobs`` puts it too).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from typing import Any

from observatory_api.errors import APIError, BadParameter, NotFound, problem
from observatory_api.settings import Settings
from pipeline.registry.assessment import Assessment, ex_ante
from pipeline.registry.db import (
    ENV_URL,
    ConflictError,
    NotFoundError,
    RegistryError,
    database_url,
    upgrade,
    use,
)

CSV = "text/csv; charset=utf-8"
log = logging.getLogger("observatory_api")
ORG_COLUMNS = ("id", "name", "membership", "type", "country", "region", "created_at")
PROJECT_COLUMNS = (
    "id",
    "name",
    "organisation_id",
    "country",
    "area_ha",
    "centroid_lon",
    "centroid_lat",
    "start_date",
    "end_date",
    "practices",
    "soil_type",
    "status",
    "funding",
    "version",
    "created_at",
    "updated_at",
    "geometry",
)


def url_for(settings: Settings) -> str:
    explicit = getattr(settings, "database_url", None) or os.environ.get(ENV_URL)
    return database_url(settings.var, explicit)


def start(state: Any) -> str | None:
    """At start-up: the registry's URL (kept in ``app.state.registry_url``), schema upgraded. A
    registry that cannot be opened does not stop the observatory: its endpoints answer 503 with
    the reason (``app.state.registry_error``) and the rest of the API serves as before."""
    state.registry_url = None
    try:
        url = url_for(state.settings)
        upgrade(url)
    except RegistryError as exc:
        state.registry_error = str(exc)
        log.error("registry unavailable: %s", exc)
        return None
    state.registry_url = url
    use(url)  # the KPIs of this process count this registry
    from observatory_api.services.expost import ExPost

    state.expost = ExPost(url, state.reader, state.settings, lambda: forget_kpis(state))
    state.expost.start()  # ex-post assessments at each snapshot, in a background thread
    return url


def stop(state: Any) -> None:
    worker = getattr(state, "expost", None)
    if worker is not None:
        worker.stop()


def after_write(state: Any) -> None:
    """A project was created or changed: the KPIs are recounted and its ex-post is computed (in
    the background) if a snapshot is served."""
    forget_kpis(state)
    worker = getattr(state, "expost", None)
    if worker is not None and state.reader.loaded is not None:
        worker.poke()


def assessor(state: Any) -> Any:
    """The ex-ante assessor at the snapshot the API serves (none loaded: the tip of the store)."""
    settings: Settings = state.settings
    snap = state.reader.loaded
    sid = snap.snapshot_id if snap is not None else None

    def run(row: dict[str, Any]) -> Assessment:
        return ex_ante(row, settings.store, sid)

    return run


def forget_kpis(state: Any) -> None:
    """The KPI report is kept per snapshot; the registry's figures are part of it, so a write
    drops the kept report and bodies (the next GET /v1/kpis recomputes them)."""
    snap = state.reader.loaded
    if snap is None:
        return
    snap.memo.pop("kpis", None)
    if any(isinstance(k, tuple) and k and k[0] in ("kpis", "kpi") for k, _ in snap.bodies.items()):
        snap.bodies.clear()  # the LRU has no single-key removal; writes are rare, bodies cheap to redo


def as_problem(exc: RegistryError) -> APIError:
    """The registry's error as the API's problem (404, 422; 409 is answered by ``conflict``)."""
    if isinstance(exc, NotFoundError):
        return NotFound(str(exc), parameter=exc.field, allowed=exc.allowed)
    return BadParameter(str(exc), parameter=exc.field, allowed=exc.allowed)


def conflict_body(exc: ConflictError, request_id: str | None) -> dict[str, Any]:
    """The 409 problem with the current version and the current project."""
    return problem(
        409,
        str(exc),
        request_id=request_id,
        parameter="version",
        current_version=exc.current_version,
        current=exc.current,
    )


def _cell(v: Any) -> Any:
    if isinstance(v, (list, dict)):
        return json.dumps(v) if isinstance(v, dict) else ";".join(str(x) for x in v)
    return "" if v is None else v


def organisations_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=ORG_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(r.get(k)) for k in ORG_COLUMNS})
    return buf.getvalue()


def projects_csv(collection: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=PROJECT_COLUMNS, lineterminator="\n")
    w.writeheader()
    for f in collection["features"]:
        p = dict(f["properties"])
        p["centroid_lon"], p["centroid_lat"] = p.pop("centroid")
        p["geometry"] = f["geometry"]
        w.writerow({k: _cell(p.get(k)) for k in PROJECT_COLUMNS})
    return buf.getvalue()
