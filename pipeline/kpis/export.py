"""The KPI report as CSV: one line per KPI, or one line per point of a KPI's series."""

from __future__ import annotations

import csv
import io
from typing import Any

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
