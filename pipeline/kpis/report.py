"""Every objective and KPI with its series, latest value, progress towards the targets and trend.

A KPI's series is its recorded observations (``objectives.yaml``) plus, for a computed KPI, the
values computed from the snapshot (one per epoch of the region tables, or one at the snapshot),
in date order. Dates are YYYY, YYYY-MM or YYYY-MM-DD; a year or a month stands for its middle
when ordered and in the trend (so "2019" sits at 2019.5). The latest value is the last point.

    progress  (latest - baseline) / (target - baseline) with the baseline's value, or
              latest / target without one (none when the target has no number); 1 = reached,
              not capped (above 1: beyond the target, below 0: moved away from it)
    trend     least-squares slope of value against decimal year over the series (>= 2 points
              at two or more dates), in the KPI's unit per year
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.kpis.catalog import Catalog, Kpi, Objective, Target, load_catalog
from pipeline.kpis.computed import TableView, Value, compute_all
from pipeline.registry.kpis import recorded_observations

COMPUTED_BY = "soc-observatory (computed)"


@dataclass(frozen=True)
class Point:
    value: float
    date: str
    source: str
    note: str
    recorded_by: str
    snapshot_id: str | None = None
    epoch: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "date": self.date,
            "source": self.source,
            "note": self.note,
            "recorded_by": self.recorded_by,
            "snapshot_id": self.snapshot_id,
            "epoch": self.epoch,
        }


def decimal_year(date: str) -> float:
    """``YYYY`` -> YYYY.5, ``YYYY-MM`` -> the month's middle, ``YYYY-MM-DD`` -> that day."""
    parts = [int(p) for p in date.split("-")]
    if len(parts) == 1:
        return parts[0] + 0.5
    if len(parts) == 2:
        return parts[0] + (parts[1] - 0.5) / 12.0
    return parts[0] + (parts[1] - 1) / 12.0 + (parts[2] - 1) / 365.25


def _computed_points(values: list[Value]) -> list[Point]:
    out = []
    for v in values:
        if v.value is None:
            continue
        if v.epoch is not None:
            source, note = f"region tables of snapshot {v.snapshot_id}", f"epoch {v.epoch}"
        else:
            source = f"{v.detail.get('catalog', 'the observatory')} at snapshot {v.snapshot_id}"
            note = "counted when the snapshot is served"
        out.append(Point(v.value, v.date, source, note, COMPUTED_BY, v.snapshot_id, v.epoch))
    return out


def series(
    kpi: Kpi, computed: dict[str, list[Value]], recorded: dict[str, list[dict[str, Any]]] | None = None
) -> list[Point]:
    """The KPI's observations (from the catalogue, then from the registry: ``socobs kpi record``,
    ``POST /v1/kpis/{id}/observations``) and computed values, oldest first (recorded before
    computed at a date)."""
    pts = [Point(o.value, o.date, o.source, o.note, o.recorded_by) for o in kpi.observations]
    pts += [
        Point(o["value"], o["date"], o["source"], o["note"], o["recorded_by"])
        for o in (recorded or {}).get(kpi.id, [])
    ]
    if kpi.computation is not None:
        pts += _computed_points(computed.get(kpi.computation, []))
    return sorted(
        pts, key=lambda p: (decimal_year(p.date) if p.date else float("inf"), p.snapshot_id is not None)
    )


def progress(latest: float | None, kpi: Kpi, target: Target | None) -> float | None:
    """Progress from the baseline (or zero) to the target (see the module docstring)."""
    if latest is None or target is None:
        return None
    base = kpi.baseline.value if kpi.baseline is not None else None
    if base is None:
        return None if target.value == 0 else latest / target.value
    if target.value == base:
        return None
    return (latest - base) / (target.value - base)


def trend(points: list[Point], unit: str) -> dict[str, Any] | None:
    """Least-squares slope per year over the points with a date; None below 2 points or 2 dates."""
    dated = [p for p in points if p.date]
    if len(dated) < 2:
        return None
    x = np.array([decimal_year(p.date) for p in dated])
    y = np.array([p.value for p in dated])
    if np.ptp(x) == 0:
        return None
    slope = float(np.polyfit(x - x.mean(), y, 1)[0])
    direction = "increasing" if slope > 0 else "decreasing" if slope < 0 else "flat"
    return {
        "slope_per_year": slope,
        "unit": f"{unit} per year",
        "direction": direction,
        "n": len(dated),
        "first_date": dated[0].date,
        "last_date": dated[-1].date,
    }


def _target(t: Target | None) -> dict[str, Any] | None:
    return None if t is None else t.model_dump()


def kpi_entry(
    objective: Objective,
    kpi: Kpi,
    computed: dict[str, list[Value]],
    recorded: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """One KPI with its latest value, targets, progress and trend (and its series under ``series``)."""
    pts = series(kpi, computed, recorded)
    latest = pts[-1] if pts else None
    value = latest.value if latest is not None else None
    return {
        "id": kpi.id,
        "objective": objective.code,
        "name": kpi.name,
        "definition": kpi.definition,
        "unit": kpi.unit,
        "obtained": kpi.obtained,
        "computation": kpi.computation,
        "baseline": None if kpi.baseline is None else kpi.baseline.model_dump(),
        "target_2030": _target(kpi.target_2030),
        "target_2050": _target(kpi.target_2050),
        "latest": None if latest is None else latest.as_dict(),
        "progress_2030": progress(value, kpi, kpi.target_2030),
        "progress_2050": progress(value, kpi, kpi.target_2050),
        "trend": trend(pts, kpi.unit),
        "n_points": len(pts),
        "series": [p.as_dict() for p in pts],
    }


def _objectives_with_value(view: TableView, entries: dict[str, dict[str, Any]], cat: Catalog) -> Value:
    n = sum(
        any(
            entries[k.id]["latest"] is not None
            for k in o.kpis
            if k.computation != "objectives_with_kpi_value"
        )
        for o in cat.objectives
    )
    date = view.written_at.date().isoformat() if view.written_at is not None else ""
    return Value(float(n), date, view.snapshot_id, None, {"catalog": "the KPIs of this dashboard"})


def report(
    view: TableView, catalog: Catalog | None = None, systems: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Every objective with its KPIs (each with its series) at the snapshot of ``view``."""
    cat = catalog or load_catalog()
    computed = compute_all(view, systems)
    recorded = recorded_observations()  # {} without a registry
    entries = {k.id: kpi_entry(o, k, computed, recorded) for o in cat.objectives for k in o.kpis}
    computed["objectives_with_kpi_value"] = [_objectives_with_value(view, entries, cat)]
    for o in cat.objectives:
        for k in o.kpis:
            if k.computation == "objectives_with_kpi_value":
                entries[k.id] = kpi_entry(o, k, computed, recorded)
    objectives = []
    for o in cat.objectives:
        head = o.model_dump(exclude={"kpis"})
        objectives.append({**head, "kpis": [entries[k.id] for k in o.kpis]})
    return {
        "snapshot_id": view.snapshot_id,
        "epochs": view.epochs,
        "n_objectives": len(objectives),
        "n_kpis": len(entries),
        "objectives": objectives,
    }
