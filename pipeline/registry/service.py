"""Reads and writes of the registry, each write in one transaction with its audit entry.

Every function takes the database URL and, for writes, ``who`` (``key:<id>`` for an API key,
``cli:<user>`` for the command line). Input is checked first (``validate``), the ex-ante
assessment computed next (``assessment``, outside any transaction: it reads the cube), then the
rows are written. Updates and deletes name the version they were made against: a stale version
is a ``ConflictError`` carrying the current one, and the UPDATE itself is conditional on the
version (SQLAlchemy's version counter), so two concurrent edits never both win.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from pipeline.registry.assessment import Assessment, summary
from pipeline.registry.db import ConflictError, NotFoundError, RegistryError, session
from pipeline.registry.models import AuditEntry, KpiObservation, Organisation, Project, ProjectAssessment
from pipeline.registry.validate import (
    OrganisationIn,
    ProjectIn,
    check_country,
    project_row,
    pydantic_error,
)

Assessor = Callable[[dict[str, Any]], Assessment]
PROJECT_FIELDS = ("name", "country", "start_date", "end_date", "soil_type", "status", "funding")


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(v: Any) -> Any:
    if isinstance(v, datetime):
        return (v if v.tzinfo is not None else v.replace(tzinfo=UTC)).isoformat()  # SQLite drops the zone
    return v.isoformat() if isinstance(v, date) else v


def org_dict(o: Organisation) -> dict[str, Any]:
    return {
        "id": o.id,
        "name": o.name,
        "membership": o.membership,
        "type": o.type,
        "country": o.country,
        "region": o.region,
        "created_at": _iso(o.created_at),
    }


def project_props(p: Project) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "organisation_id": p.organisation_id,
        "country": p.country,
        "area_ha": p.area_ha,
        "centroid": [p.centroid_lon, p.centroid_lat],
        "start_date": _iso(p.start_date),
        "end_date": _iso(p.end_date),
        "practices": json.loads(p.practices),
        "soil_type": p.soil_type,
        "status": p.status,
        "funding": p.funding,
        "version": p.version,
        "created_at": _iso(p.created_at),
        "updated_at": _iso(p.updated_at),
    }


def feature(p: Project, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": p.id,
        "geometry": json.loads(p.geometry),
        "properties": {**project_props(p), **(extra or {})},
    }


def _brief(a: ProjectAssessment | None) -> dict[str, Any] | None:
    """An assessment in a project's properties: status, snapshot, when, its summary (or error)."""
    if a is None:
        return None
    result = json.loads(a.result)
    out = {"status": a.status, "snapshot_id": a.snapshot_id, "computed_at": _iso(a.computed_at)}
    return {**out, **(summary(result) if a.status == "done" else {"error": result.get("error")})}


def _listing_extras(s: Session, ids: list[int] | None) -> dict[int, dict[str, Any]]:
    """Per project: its organisation's name and its newest ex-ante and ex-post (briefly)."""
    q = select(ProjectAssessment).order_by(ProjectAssessment.id)
    if ids is not None:
        q = q.where(ProjectAssessment.project_id.in_(ids))
    newest: dict[tuple[int, str], ProjectAssessment] = {}
    for a in s.scalars(q):
        newest[(a.project_id, a.kind)] = a
    names = {int(i): str(n) for i, n in s.execute(select(Organisation.id, Organisation.name))}
    q2 = select(Project.id, Project.organisation_id)
    if ids is not None:
        q2 = q2.where(Project.id.in_(ids))
    return {
        pid: {
            "organisation_name": names.get(oid),
            "ex_ante": _brief(newest.get((pid, "ex_ante"))),
            "ex_post": _brief(newest.get((pid, "ex_post"))),
        }
        for pid, oid in s.execute(q2)
    }


def audit_state(p: Project) -> dict[str, Any]:
    return {**project_props(p), "geometry": json.loads(p.geometry)}


def audit(
    s: Session, who: str, action: str, table: str, row_id: Any, before: Any = None, after: Any = None
) -> None:
    dump = lambda v: None if v is None else json.dumps(v, default=_iso, sort_keys=True)  # noqa: E731
    s.add(
        AuditEntry(
            who=who,
            at=_now(),
            action=action,
            table_name=table,
            row_id=str(row_id),
            before=dump(before),
            after=dump(after),
        )
    )


# --- organisations ---------------------------------------------------------------------------


def organisation_row(data: dict[str, Any], where: str = "") -> dict[str, Any]:
    try:
        o = OrganisationIn.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, where) from None
    country, region = check_country(o.country)
    return {"name": o.name, "membership": o.membership, "type": o.type, "country": country, "region": region}


def add_organisation(s: Session, row: dict[str, Any], who: str) -> Organisation:
    if s.scalar(select(Organisation.id).where(Organisation.name == row["name"])) is not None:
        raise RegistryError(
            f"name: an organisation named {row['name'][:100]!r} is registered already. Use its id "
            "(GET /v1/organisations) or another name.",
            field="name",
        )
    o = Organisation(**row, created_at=_now())
    s.add(o)
    s.flush()
    audit(s, who, "create", "organisations", o.id, None, org_dict(o))
    return o


def create_organisation(url: str, data: dict[str, Any], who: str) -> dict[str, Any]:
    row = organisation_row(data)
    with session(url) as s:
        return org_dict(add_organisation(s, row, who))


def list_organisations(url: str) -> list[dict[str, Any]]:
    with session(url) as s:
        return [org_dict(o) for o in s.scalars(select(Organisation).order_by(Organisation.id))]


def _organisation_id(s: Session, ref: int | str) -> int:
    if isinstance(ref, int):
        found = s.get(Organisation, ref)
    else:
        found = s.scalar(select(Organisation).where(Organisation.name == ref))
    if found is None:
        raise RegistryError(
            f"organisation: expected the id or exact name of a registered organisation (GET "
            f"/v1/organisations); got {str(ref)[:100]!r}. Register it first (POST /v1/organisations).",
            field="organisation",
        )
    return found.id


# --- projects --------------------------------------------------------------------------------


def _props(data: Any, where: str = "") -> ProjectIn:
    try:
        return ProjectIn.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, where) from None


def checked_project(s: Session, feature_in: dict[str, Any], where: str = "") -> dict[str, Any]:
    """The checked column values of a GeoJSON Feature (``properties`` + ``geometry``)."""
    if not isinstance(feature_in, dict) or feature_in.get("type") != "Feature":
        raise RegistryError(
            f"{where}body: expected a GeoJSON Feature (type, geometry, properties); got "
            f"{str(feature_in.get('type') if isinstance(feature_in, dict) else type(feature_in).__name__)[:40]!r}.",
            field="type",
        )
    props = _props(feature_in.get("properties"), where)
    try:
        return project_row(props, feature_in.get("geometry"), _organisation_id(s, props.organisation))
    except RegistryError as exc:
        if where:
            exc.args = (where + str(exc),)
        raise


def store_assessment(s: Session, p: Project, a: Assessment) -> dict[str, Any]:
    row = ProjectAssessment(
        project_id=p.id,
        project_version=p.version,
        kind=a.kind,
        snapshot_id=a.snapshot_id,
        method=a.method,
        status=a.status,
        result=json.dumps(a.result, default=_iso),
        computed_at=_now(),
    )
    s.add(row)
    s.flush()
    return assessment_dict(row)


def assessment_dict(a: ProjectAssessment) -> dict[str, Any]:
    result = json.loads(a.result)
    return {
        "project_id": a.project_id,
        "project_version": a.project_version,
        "kind": a.kind,
        "snapshot_id": a.snapshot_id,
        "method": a.method,
        "status": a.status,
        "computed_at": _iso(a.computed_at),
        "summary": summary(result),
        "result": result,
    }


def create_project(url: str, data: dict[str, Any], who: str, assessor: Assessor) -> dict[str, Any]:
    with session(url) as s:
        row = checked_project(s, data)
    done = assessor(row)
    with session(url) as s:
        _organisation_id(s, row["organisation_id"])  # still there
        now = _now()
        p = Project(**row, created_at=now, updated_at=now)
        s.add(p)
        s.flush()
        audit(s, who, "create", "projects", p.id, None, audit_state(p))
        return {**feature(p), "assessment": store_assessment(s, p, done)}


def _get(s: Session, project_id: int) -> Project:
    p = s.get(Project, project_id)
    if p is None:
        raise NotFoundError(
            f"project_id: expected the id of a registered project (GET /v1/projects); got {project_id}.",
            field="project_id",
        )
    return p


def get_project(url: str, project_id: int) -> dict[str, Any]:
    with session(url) as s:
        return feature(_get(s, project_id), _listing_extras(s, [project_id]).get(project_id))


def list_projects(url: str, country: str | None = None, organisation: int | None = None) -> dict[str, Any]:
    with session(url) as s:
        q = select(Project).order_by(Project.id)
        if country:
            q = q.where(Project.country == country.upper())
        if organisation is not None:
            q = q.where(Project.organisation_id == organisation)
        extras = _listing_extras(s, None)
        return {"type": "FeatureCollection", "features": [feature(p, extras.get(p.id)) for p in s.scalars(q)]}


def _conflict(p: Project, expected: int) -> ConflictError:
    return ConflictError(
        f"version: the project was changed since version {expected}; its current version is "
        f"{p.version}. Fetch it again (GET /v1/projects/{p.id}), reapply your change and send "
        f"If-Match: {p.version}.",
        current_version=p.version,
        current=feature(p),
    )


def update_project(
    url: str, project_id: int, patch: dict[str, Any], expected: int, who: str, assessor: Assessor
) -> dict[str, Any]:
    """Merge ``patch`` (``properties`` and/or ``geometry``) into the project at ``expected`` version."""
    props_patch = patch.get("properties") or {}
    if not isinstance(props_patch, dict):
        raise RegistryError("properties: expected an object of the fields to change.", field="properties")
    with session(url) as s:
        p = _get(s, project_id)
        if p.version != expected:
            raise _conflict(p, expected)
        merged = {
            **{k: _iso(getattr(p, k)) for k in PROJECT_FIELDS},
            "organisation": p.organisation_id,
            "practices": json.loads(p.practices),
            **({"area_ha": p.area_ha} if p.geometry.startswith('{"type": "Point"') else {}),
            **{k: v for k, v in props_patch.items() if k not in ("id", "version")},
        }
        geometry = patch.get("geometry") or json.loads(p.geometry)
        row = checked_project(s, {"type": "Feature", "geometry": geometry, "properties": merged})
    done = assessor(row)
    try:
        with session(url) as s:
            p = _get(s, project_id)
            if p.version != expected:
                raise _conflict(p, expected)
            before = audit_state(p)
            for k, v in row.items():
                setattr(p, k, v)
            p.updated_at = _now()
            s.flush()  # UPDATE ... WHERE version = :expected
            audit(s, who, "update", "projects", p.id, before, audit_state(p))
            return {**feature(p), "assessment": store_assessment(s, p, done)}
    except StaleDataError:
        with session(url) as s:
            raise _conflict(_get(s, project_id), expected) from None


def delete_project(url: str, project_id: int, expected: int, who: str) -> None:
    try:
        with session(url) as s:
            p = _get(s, project_id)
            if p.version != expected:
                raise _conflict(p, expected)
            before = audit_state(p)
            s.execute(delete(ProjectAssessment).where(ProjectAssessment.project_id == p.id))
            s.delete(p)
            s.flush()
            audit(s, who, "delete", "projects", project_id, before, None)
    except StaleDataError:
        with session(url) as s:
            raise _conflict(_get(s, project_id), expected) from None


def get_assessment(url: str, project_id: int, kind: str = "ex_ante") -> dict[str, Any] | None:
    with session(url) as s:
        _get(s, project_id)
        a = s.scalar(
            select(ProjectAssessment)
            .where(ProjectAssessment.project_id == project_id, ProjectAssessment.kind == kind)
            .order_by(ProjectAssessment.id.desc())
            .limit(1)
        )
        return assessment_dict(a) if a is not None else None


# --- KPI observations and the audit log ------------------------------------------------------


def obs_dict(o: KpiObservation) -> dict[str, Any]:
    return {
        "id": o.id,
        "kpi_id": o.kpi_id,
        "value": o.value,
        "date": o.date,
        "source": o.source,
        "note": o.note,
        "recorded_by": o.recorded_by,
        "recorded_at": _iso(o.recorded_at),
    }


def record_observation(url: str, kpi_id: str, data: dict[str, Any], who: str) -> dict[str, Any]:
    from pipeline.registry.kpis import check_observation

    row = check_observation(kpi_id, data)
    with session(url) as s:
        o = KpiObservation(**row, recorded_by=who, recorded_at=_now())
        s.add(o)
        s.flush()
        audit(s, who, "create", "kpi_observations", o.id, None, obs_dict(o))
        return obs_dict(o)


def list_observations(url: str, kpi_id: str | None = None) -> list[dict[str, Any]]:
    with session(url) as s:
        q = select(KpiObservation).order_by(KpiObservation.id)
        if kpi_id is not None:
            q = q.where(KpiObservation.kpi_id == kpi_id)
        return [obs_dict(o) for o in s.scalars(q)]


def audit_log(url: str, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    with session(url) as s:
        total = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
        entries = [
            {
                "id": e.id,
                "who": e.who,
                "at": _iso(e.at),
                "action": e.action,
                "table": e.table_name,
                "row_id": e.row_id,
                "before": None if e.before is None else json.loads(e.before),
                "after": None if e.after is None else json.loads(e.after),
            }
            for e in rows
        ]
    return {"total": total, "limit": limit, "offset": offset, "entries": entries}
