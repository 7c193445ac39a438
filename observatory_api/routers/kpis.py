"""The "4 per 1000" Strategic Plan's objectives and KPIs (objective F3), read-only and public.

``GET /v1/kpis`` lists the 24 objectives with their baselines and targets as written and every
KPI with its latest value, numeric baseline and targets, progress towards 2030 and 2050 and
trend; ``GET /v1/kpis/{kpi_id}`` adds the KPI's series. Both answer CSV with ``?format=csv`` or
``Accept: text/csv``, name the snapshot in ``X-Snapshot-Id``, and are kept per snapshot.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from observatory_api.deps import SnapshotDep
from observatory_api.models import ERROR_RESPONSES
from observatory_api.reader import Snapshot
from observatory_api.services import kpis as kpi_service

router = APIRouter(prefix="/v1", tags=["objectives and KPIs"], responses=ERROR_RESPONSES)
CSV = "text/csv; charset=utf-8"
FormatQuery = Annotated[Literal["json", "csv"] | None, Query(description="Or use Accept: text/csv")]


class KpiBaseline(BaseModel):
    value: float | None = Field(description="The baseline as a number, where the text gives one")
    low: float | None = Field(description="Lower bound where the text gives a range")
    high: float | None
    out_of: float | None = Field(description="The population counted (A1: 196 NDCs)")
    date: str = Field(description="YYYY, YYYY-MM or YYYY-MM-DD")
    quote: str = Field(description="The source's sentence")


class KpiTarget(BaseModel):
    value: float = Field(description="The number progress is measured against")
    low: float | None
    high: float | None
    basis: str = Field(description="The words of the target this number is read from")


class KpiPoint(BaseModel):
    value: float
    date: str = Field(description="YYYY, YYYY-MM or YYYY-MM-DD (an epoch's year for computed values)")
    source: str
    note: str
    recorded_by: str
    snapshot_id: str | None = Field(description="The snapshot a computed value comes from")
    epoch: int | None = Field(description="The epoch of the region tables a computed value is of")


class KpiTrend(BaseModel):
    slope_per_year: float = Field(description="Least-squares slope of value against decimal year")
    unit: str
    direction: Literal["increasing", "decreasing", "flat"]
    n: int
    first_date: str
    last_date: str


class Kpi(BaseModel):
    id: str
    objective: str
    name: str
    definition: str
    unit: str
    obtained: Literal["computed", "recorded"]
    computation: str | None
    baseline: KpiBaseline | None
    target_2030: KpiTarget | None
    target_2050: KpiTarget | None
    latest: KpiPoint | None = Field(description="The newest point of the series (null: none yet)")
    progress_2030: float | None = Field(
        description="(latest - baseline) / (target - baseline), or latest / target without a numeric "
        "baseline; 1 = reached, not capped; null without a numeric target or a value"
    )
    progress_2050: float | None
    trend: KpiTrend | None = Field(description="Over the series, when it has 2 or more dated points")
    n_points: int


class KpiDetail(Kpi):
    objective_title: str
    snapshot_id: str
    series: list[KpiPoint]


class ObjectiveSource(BaseModel):
    document: Literal["plan", "task forces"]
    section: str
    pages: str | None


class Objective(BaseModel):
    code: str
    goal: Literal["A", "B", "C", "D", "E", "F"]
    title: str
    aim: str | None
    facility: Literal["CF", "GF"] = Field(description="CF: Core Facility, GF: Global Facility")
    description: str
    baseline_2020: str = Field(description="As written in the Strategic Plan (or the Task Forces page)")
    target_2030: str
    target_2050: str
    source: ObjectiveSource
    notes: str | None
    kpis: list[Kpi]


class KpiList(BaseModel):
    snapshot_id: str
    epochs: list[int]
    n_objectives: int
    n_kpis: int
    objectives: list[Objective]


def _answer(snap: Snapshot, body: bytes, want_csv: bool) -> Response:
    media = CSV if want_csv else "application/json"
    return Response(body, media_type=media, headers={"X-Snapshot-Id": snap.snapshot_id})


def _csv_wanted(format: str | None, accept: str | None) -> bool:
    return format == "csv" or (format is None and accept is not None and "text/csv" in accept)


@router.get("/kpis", response_model=KpiList, responses={200: {"content": {"text/csv": {}}}})
async def kpis(
    snap: SnapshotDep,
    format: FormatQuery = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The Strategic Plan's 24 objectives (baseline 2020, targets 2030 and 2050 as written) and
    their KPIs: latest value, numeric baseline and targets, progress, trend; JSON or CSV."""
    want_csv = _csv_wanted(format, accept)
    key = ("kpis", want_csv)
    body = snap.bodies.get(key)
    if body is None:
        data = kpi_service.listing(snap)
        body = kpi_service.listing_csv(data).encode() if want_csv else orjson.dumps(data)
        snap.bodies.put(key, body)
    return _answer(snap, body, want_csv)


@router.get("/kpis/{kpi_id}", response_model=KpiDetail, responses={200: {"content": {"text/csv": {}}}})
async def kpi(
    snap: SnapshotDep,
    kpi_id: Annotated[str, Path(max_length=100, description="A KPI id of GET /v1/kpis")],
    format: FormatQuery = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """One KPI with its series (recorded observations and values computed from the snapshot)."""
    want_csv = _csv_wanted(format, accept)
    key = ("kpi", kpi_id, want_csv)
    body = snap.bodies.get(key)
    if body is None:
        data = kpi_service.one(snap, kpi_id)
        body = kpi_service.series_csv(data).encode() if want_csv else orjson.dumps(data)
        snap.bodies.put(key, body)
    return _answer(snap, body, want_csv)
