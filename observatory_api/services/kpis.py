"""The Initiative's objectives and KPIs (objective F3) at a snapshot: JSON and CSV bodies.

The report (``pipeline.kpis.report``) is a pure function of the snapshot's region tables and
the shipped catalogs, so it is computed once per snapshot and kept in ``Snapshot.memo``.
"""

from __future__ import annotations

import csv
import difflib
import io
from typing import Any

from observatory_api.errors import NotFound
from observatory_api.reader import Snapshot
from pipeline.kpis.computed import TABLE_COLUMNS, TableView
from pipeline.kpis.report import report

LIST_COLUMNS = (
    "objective",
    "facility",
    "kpi_id",
    "name",
    "unit",
    "obtained",
    "baseline_value",
    "baseline_date",
    "target_2030",
    "target_2050",
    "latest_value",
    "latest_date",
    "progress_2030",
    "progress_2050",
    "trend_slope_per_year",
    "n_points",
    "snapshot_id",
)
SERIES_COLUMNS = ("kpi_id", "date", "value", "unit", "epoch", "source", "note", "recorded_by", "snapshot_id")


def view(snap: Snapshot) -> TableView:
    """The part of the snapshot the computed KPIs read."""
    return TableView(
        snapshot_id=snap.snapshot_id,
        written_at=snap.written_at,
        epochs=snap.epochs,
        region_ids=snap.region_ids,
        levels=snap.levels_of,
        tables={c: snap.tables[c] for c in TABLE_COLUMNS},
    )


def full(snap: Snapshot) -> dict[str, Any]:
    """Every objective and KPI with its series, computed once per snapshot."""
    body = snap.memo.get("kpis")
    if body is None:
        body = snap.memo["kpis"] = report(view(snap))
    return body


def listing(snap: Snapshot) -> dict[str, Any]:
    """``GET /v1/kpis``: every objective and KPI without the series."""
    body = full(snap)
    objectives = [
        {**o, "kpis": [{k: v for k, v in kpi.items() if k != "series"} for kpi in o["kpis"]]}
        for o in body["objectives"]
    ]
    return {**body, "objectives": objectives}


def one(snap: Snapshot, kpi_id: str) -> dict[str, Any]:
    """``GET /v1/kpis/{kpi_id}``: one KPI with its series; 404 naming the closest ids."""
    body = full(snap)
    for o in body["objectives"]:
        for kpi in o["kpis"]:
            if kpi["id"] == kpi_id:
                return {**kpi, "objective_title": o["title"], "snapshot_id": body["snapshot_id"]}
    ids = [k["id"] for o in body["objectives"] for k in o["kpis"]]
    close = difflib.get_close_matches(kpi_id.lower(), ids, n=5, cutoff=0.5) or [
        i for i in ids if i.startswith(kpi_id[:2].lower())
    ]
    raise NotFound(
        f"kpi_id {kpi_id[:80]!r} is not a KPI of the Strategic Plan's objectives. Expected one of the "
        "ids GET /v1/kpis lists (e.g. a1_ndcs_with_soc, e2_countries_with_soc_data).",
        parameter="kpi_id",
        allowed=close[:10] or ids[:10],
    )


def _cell(v: Any) -> Any:
    return "" if v is None else repr(v) if isinstance(v, float) else v


def listing_csv(body: dict[str, Any]) -> str:
    """One line per KPI: baseline, targets, latest value, progress, trend; the snapshot id."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(LIST_COLUMNS)
    for o in body["objectives"]:
        for k in o["kpis"]:
            base, latest, trend = k["baseline"] or {}, k["latest"] or {}, k["trend"] or {}
            t30, t50 = k["target_2030"] or {}, k["target_2050"] or {}
            row = [
                o["code"],
                o["facility"],
                k["id"],
                k["name"],
                k["unit"],
                k["obtained"],
                base.get("value"),
                base.get("date"),
                t30.get("value"),
                t50.get("value"),
                latest.get("value"),
                latest.get("date"),
                k["progress_2030"],
                k["progress_2050"],
                trend.get("slope_per_year"),
                k["n_points"],
                body["snapshot_id"],
            ]
            w.writerow([_cell(v) for v in row])
    return buf.getvalue()


def series_csv(body: dict[str, Any]) -> str:
    """One line per point of the KPI's series; the served snapshot's id in every line."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(SERIES_COLUMNS)
    for p in body["series"]:
        row = [body["id"], p["date"], p["value"], body["unit"], p["epoch"], p["source"], p["note"]]
        w.writerow([_cell(v) for v in [*row, p["recorded_by"], body["snapshot_id"]]])
    return buf.getvalue()
