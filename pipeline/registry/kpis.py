"""What the registry gives the Initiative's KPIs (objectives A2 and E3), and recorded KPI
observations checked against the objectives catalogue.

``registry_kpis(url)`` counts, over the registered projects and their newest ex-ante
assessment: projects registered, projects assessed (an assessment that succeeded), projects in
line with the "4 per 1000" vision (the E3 tool's verdict ``in_line``), the area under improved
practices (ha) and the expected removals (t CO2e per year, positive = removal, from each
project's ex-ante balance over its accounting period); and over their newest ex-post
assessment (E2): the projects observed (a polygon assessed against its control) and the
area-weighted mean difference of their SOC change rate from their control's (t C/ha/yr; NaN
when none is observed).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from sqlalchemy import select

from pipeline.registry.db import NotFoundError, RegistryError, session
from pipeline.registry.models import Project, ProjectAssessment

DATE = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")
log = logging.getLogger("pipeline.registry")
REGISTRY_KPIS = (
    "projects_registered",
    "projects_assessed",
    "projects_in_line",
    "project_area_ha",
    "expected_removals_t_co2e_yr",
    "projects_observed",
    "observed_rate_difference_t_c_ha_yr",
)


def registry_kpis(url: str) -> dict[str, float]:
    """The registry's figures for the KPIs (see the module docstring)."""
    with session(url) as s:
        projects = {p.id: p.area_ha for p in s.scalars(select(Project))}
        newest: dict[int, ProjectAssessment] = {}
        post: dict[int, ProjectAssessment] = {}
        for a in s.scalars(select(ProjectAssessment).order_by(ProjectAssessment.id)):
            (newest if a.kind == "ex_ante" else post)[a.project_id] = a
    assessed = in_line = 0
    removals = 0.0
    for a in newest.values():
        if a.status != "done" or a.project_id not in projects:
            continue
        result = json.loads(a.result)
        assessed += 1
        in_line += bool((result.get("verdict") or {}).get("in_line"))
        removals += -float(result.get("balance_t_co2e_per_yr", 0.0))
    observed, weighted, weights = 0, 0.0, 0.0
    for a in post.values():
        if a.status != "done" or a.project_id not in projects:
            continue
        diff = json.loads(a.result).get("rate_difference")
        if diff is None:
            continue
        observed += 1
        weighted += float(diff) * projects[a.project_id]
        weights += projects[a.project_id]
    return {
        "projects_observed": float(observed),
        "observed_rate_difference_t_c_ha_yr": weighted / weights if weights > 0 else float("nan"),
        "projects_registered": float(len(projects)),
        "projects_assessed": float(assessed),
        "projects_in_line": float(in_line),
        "project_area_ha": float(sum(projects.values())),
        "expected_removals_t_co2e_yr": removals,
    }


def kpi_values(url: str | None = None) -> dict[str, float] | None:
    """``registry_kpis`` of the registry this process serves (``db.kpi_url``); None when there is
    none, it has no project yet, or it cannot be read (the KPI report must not fail for it)."""
    from sqlalchemy.exc import SQLAlchemyError

    from pipeline.registry.db import kpi_url

    chosen = url or kpi_url()
    if chosen is None:
        return None
    try:
        values = registry_kpis(chosen)
    except (SQLAlchemyError, RegistryError) as exc:
        log.warning("registry KPIs unavailable: %s", str(exc)[:300])
        return None
    return values if values["projects_registered"] > 0 else None


def recorded_observations(url: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The observations recorded in the registry this process serves, by KPI id, oldest first
    (for the KPI report's series; empty without a registry)."""
    from sqlalchemy.exc import SQLAlchemyError

    from pipeline.registry.db import kpi_url
    from pipeline.registry.models import KpiObservation

    chosen = url or kpi_url()
    if chosen is None:
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    try:
        with session(chosen) as s:
            for o in s.scalars(select(KpiObservation).order_by(KpiObservation.id)):
                out.setdefault(o.kpi_id, []).append(
                    {
                        "value": o.value,
                        "date": o.date,
                        "source": o.source,
                        "note": o.note,
                        "recorded_by": o.recorded_by,
                    }
                )
    except (SQLAlchemyError, RegistryError) as exc:
        log.warning("recorded KPI observations unavailable: %s", str(exc)[:300])
        return {}
    return out


def check_observation(kpi_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """A recorded observation of ``kpi_id``: the KPI must exist and be ``recorded``."""
    from pipeline.kpis.catalog import load_catalog

    found = load_catalog().kpi(kpi_id)
    if found is None:
        raise NotFoundError(
            f"kpi_id: expected a KPI id of GET /v1/kpis; got {kpi_id[:80]!r}.", field="kpi_id"
        )
    kpi = found[1]
    if kpi.obtained != "recorded":
        raise RegistryError(
            f"kpi_id: {kpi_id} is computed by the observatory ({kpi.computation}); only recorded KPIs "
            "take observations. Choose a KPI whose `obtained` is `recorded` (GET /v1/kpis).",
            field="kpi_id",
        )
    value = data.get("value")
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value
        or abs(value) == float("inf")
    ):
        raise RegistryError(
            f"value: expected a finite number in the KPI's unit ({kpi.unit}); got {str(value)[:40]!r}.",
            field="value",
        )
    date = data.get("date")
    if not isinstance(date, str) or not DATE.match(date):
        raise RegistryError(
            f"date: expected YYYY, YYYY-MM or YYYY-MM-DD; got {str(date)[:40]!r}.", field="date"
        )
    source = data.get("source")
    if not isinstance(source, str) or not source.strip() or len(source) > 2000:
        raise RegistryError(
            "source: expected where the value comes from (1-2000 characters, e.g. a report and its "
            f"page); got {str(source)[:40]!r}.",
            field="source",
        )
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > 2000:
        raise RegistryError("note: expected text of at most 2000 characters.", field="note")
    unknown = sorted(set(data) - {"value", "date", "source", "note"})
    if unknown:
        raise RegistryError(
            f"{unknown[0]}: not a field of an observation (value, date, source, note). Remove it.",
            field=unknown[0],
        )
    return {"kpi_id": kpi_id, "value": float(value), "date": date, "source": source, "note": note}
