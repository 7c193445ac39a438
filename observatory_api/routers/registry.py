"""The registry of members, partners and their projects (issue #18): reads public, writes with
an API key (``observatory_api.auth``), every change in the audit log.

Projects are GeoJSON Features; each is assessed ex-ante (the E3 tool) when it is registered and
when it changes, and the assessment is returned with the write. ``PATCH`` and ``DELETE`` name
the version they were made against (``If-Match: "<version>"``, or ``version`` in the body or
query): a stale one is 409 with the current version, so no edit is lost. Lists answer CSV with
``?format=csv``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, FastAPI, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from observatory_api.auth import Admin, Editor, PreconditionRequired, registry_url
from observatory_api.deps import json_response
from observatory_api.errors import BadParameter, problem_response, request_id
from observatory_api.models import ERROR_RESPONSES
from observatory_api.services import registry as svc
from pipeline.registry import service
from pipeline.registry.db import ConflictError, RegistryError, unuse
from pipeline.registry.validate import OrganisationIn, ProjectIn


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The registry's schema is brought up to date before the first request."""
    url = await run_in_threadpool(svc.start, app.state)
    try:
        yield
    finally:
        svc.stop(app.state)
        if url is not None:
            unuse(url)


router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, lifespan=lifespan)
TAG = "registry"
FormatQuery = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]
ProjectId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A project id of GET /v1/projects")]
WRITE: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or not a live one"},
    403: {"description": "The key's role is not enough (viewer)"},
}
VERSIONED: dict[int | str, dict[str, Any]] = {
    **WRITE,
    409: {"description": "Stale version: the body holds current_version and the current project"},
    428: {"description": "Neither If-Match nor a version was sent"},
}
_ETAG = re.compile(r'^\s*(W/)?"?([0-9]{1,9})"?\s*$')


class ProjectFeatureIn(BaseModel):
    """A project to register: a GeoJSON Feature (Point needs properties.area_ha)."""

    model_config = ConfigDict(extra="ignore")
    type: Literal["Feature"]
    geometry: dict[str, Any] = Field(description="GeoJSON Point, Polygon or MultiPolygon, WGS84 lon/lat")
    properties: ProjectIn


class ProjectPatch(BaseModel):
    """The fields to change (a partial ``properties`` and/or a new ``geometry``)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Feature"] | None = None
    properties: dict[str, Any] | None = None
    geometry: dict[str, Any] | None = None
    version: int | None = Field(default=None, ge=1, description="The version edited (or If-Match)")


class ObservationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float = Field(allow_inf_nan=False)
    date: str = Field(
        pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$", description="YYYY, YYYY-MM or YYYY-MM-DD"
    )
    source: str = Field(min_length=1, max_length=2000)
    note: str = Field(default="", max_length=2000)


def _call(request: Request, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except ConflictError:
        raise
    except RegistryError as exc:
        raise svc.as_problem(exc) from None


def _conflict(exc: ConflictError, request: Request) -> Response:
    """409 with the current version (in the body and the ETag)."""
    body = svc.conflict_body(exc, request_id(request))
    return problem_response(body, {"ETag": f'"{exc.current_version}"'})


def _csv(text: str, name: str) -> Response:
    disposition = f'attachment; filename="{name}.csv"'
    return Response(text.encode(), media_type=svc.CSV, headers={"Content-Disposition": disposition})


def _version(if_match: str | None, given: int | None) -> int:
    if if_match is not None:
        m = _ETAG.match(if_match)
        if m is None:
            raise BadParameter(
                f'If-Match: expected the project\'s version as an ETag ("3"); got {if_match[:40]!r}.',
                parameter="If-Match",
            )
        return int(m.group(2))
    if given is not None:
        return given
    raise PreconditionRequired(
        "this change needs the version it was made against, so that no concurrent edit is lost: send "
        'If-Match: "<version>" (the ETag of GET /v1/projects/{id}) or a `version` field.',
        parameter="If-Match",
    )


@router.get("/organisations", tags=[TAG], responses={200: {"content": {"text/csv": {}}}})
def organisations(request: Request, format: FormatQuery = "json") -> Response:
    """The Initiative's members and partners (name, membership, type, country, region)."""
    rows = service.list_organisations(registry_url(request))
    if format == "csv":
        return _csv(svc.organisations_csv(rows), "organisations")
    return json_response({"organisations": rows, "count": len(rows)})


@router.post("/organisations", tags=[TAG], status_code=201, responses=WRITE)
def add_organisation(request: Request, who: Editor, body: OrganisationIn) -> Response:
    """Register a member or partner (editor key)."""
    url = registry_url(request)
    org = _call(request, service.create_organisation, url, body.model_dump(), who.who)
    return json_response(org, status=201, headers={"Location": f"/v1/organisations/{org['id']}"})


@router.get("/projects", tags=[TAG], responses={200: {"content": {"text/csv": {}}}})
def projects(
    request: Request,
    format: FormatQuery = "json",
    country: Annotated[str | None, Query(min_length=3, max_length=3, description="ISO3")] = None,
    organisation: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Registered projects as a GeoJSON FeatureCollection (or CSV, geometry as GeoJSON text)."""
    body = service.list_projects(registry_url(request), country, organisation)
    if format == "csv":
        return _csv(svc.projects_csv(body), "projects")
    return json_response(body)


@router.post("/projects", tags=[TAG], status_code=201, responses=WRITE)
def add_project(request: Request, who: Editor, body: ProjectFeatureIn) -> Response:
    """Register a project (editor key); the answer holds its ex-ante assessment."""
    url = registry_url(request)
    data = body.model_dump(mode="json")
    out = _call(request, service.create_project, url, data, who.who, svc.assessor(request.app.state))
    svc.after_write(request.app.state)
    headers = {"Location": f"/v1/projects/{out['id']}", "ETag": f'"{out["properties"]["version"]}"'}
    return json_response(out, status=201, headers=headers)


@router.get("/projects/{project_id}", tags=[TAG])
def project(request: Request, project_id: ProjectId) -> Response:
    """One project (GeoJSON Feature); its ``ETag`` is its version, for If-Match."""
    out = _call(request, service.get_project, registry_url(request), project_id)
    return json_response(out, headers={"ETag": f'"{out["properties"]["version"]}"'})


@router.patch("/projects/{project_id}", tags=[TAG], responses=VERSIONED)
def change_project(
    request: Request,
    who: Editor,
    project_id: ProjectId,
    body: Annotated[ProjectPatch, Body()],
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Change a project (editor key) at the version named by If-Match or ``version``; re-assessed."""
    expected = _version(if_match, body.version)
    patch = body.model_dump(exclude_none=True, mode="json")
    try:
        out = _call(
            request,
            service.update_project,
            registry_url(request),
            project_id,
            patch,
            expected,
            who.who,
            svc.assessor(request.app.state),
        )
    except ConflictError as exc:
        return _conflict(exc, request)
    svc.after_write(request.app.state)
    return json_response(out, headers={"ETag": f'"{out["properties"]["version"]}"'})


@router.delete(
    "/projects/{project_id}",
    tags=[TAG],
    status_code=204,
    responses=VERSIONED,
)
def remove_project(
    request: Request,
    who: Editor,
    project_id: ProjectId,
    if_match: Annotated[str | None, Header()] = None,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Delete a project (editor key) at the version named by If-Match or ``?version``."""
    expected = _version(if_match, version)
    try:
        _call(request, service.delete_project, registry_url(request), project_id, expected, who.who)
    except ConflictError as exc:
        return _conflict(exc, request)
    svc.forget_kpis(request.app.state)
    return Response(status_code=204)


@router.get("/projects/{project_id}/assessment", tags=[TAG])
def project_assessment(request: Request, project_id: ProjectId) -> Response:
    """The project's newest ex-ante (E3 tool) and ex-post (its polygon against a control, as POST
    /v1/aoi/assess, at the newest snapshot assessed) assessments: snapshot id, method, result."""
    url = registry_url(request)
    ex_ante = _call(request, service.get_assessment, url, project_id, "ex_ante")
    ex_post = _call(request, service.get_assessment, url, project_id, "ex_post")
    return json_response({"project_id": project_id, "ex_ante": ex_ante, "ex_post": ex_post})


@router.post("/kpis/{kpi_id}/observations", tags=["objectives and KPIs"], status_code=201, responses=WRITE)
def add_observation(
    request: Request,
    who: Editor,
    kpi_id: Annotated[str, Path(max_length=100, description="A recorded KPI's id (GET /v1/kpis)")],
    body: ObservationIn,
) -> Response:
    """Record an observation of a KPI (editor key); ``recorded_by`` is the key."""
    data = body.model_dump()
    out = _call(request, service.record_observation, registry_url(request), kpi_id, data, who.who)
    svc.forget_kpis(request.app.state)
    return json_response(out, status=201)


@router.get("/kpis/{kpi_id}/observations", tags=["objectives and KPIs"])
def observations(
    request: Request, kpi_id: Annotated[str, Path(max_length=100, description="A KPI id")]
) -> Response:
    """The observations of a KPI recorded in the registry (oldest first)."""
    rows = service.list_observations(registry_url(request), kpi_id)
    return json_response({"kpi_id": kpi_id, "observations": rows})


@router.get("/audit", tags=[TAG], responses={**WRITE, 403: {"description": "Not an admin key"}})
def audit(
    request: Request,
    who: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    """Every change to the registry, newest first: who, when, what, before and after (admin key)."""
    return json_response(service.audit_log(registry_url(request), limit, offset))
