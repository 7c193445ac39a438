"""A region's time series of one indicator (yearly epochs, or months for the monthly signals),
as JSON rows or CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from observatory_api.reader import Snapshot
from observatory_api.services import inputs as input_notes
from observatory_api.services.common import num
from pipeline.indicators.registry import BY_ID, STRATA
from pipeline.store import MONTHLY


def series(snap: Snapshot, i: int, indicator: str, s: int) -> dict[str, Any]:
    """Every epoch's value (first column), all columns, bounds and provenance."""
    ind = BY_ID[indicator]
    cols = list(ind.table_vars)
    points = []
    for k, e in enumerate(snap.epochs):
        values = {c: num(snap.tables[c][i, k, s]) for c in cols}
        p: dict[str, Any] = {
            "epoch": e,
            "value": values[cols[0]],
            "columns": values,
            "input_snapshot": snap.input_snapshot[k],
            "source_latest": snap.source_latest[k],
        }
        if ind.bounds:
            p["lower"] = num(snap.tables[ind.bounds[0]][i, k, s])
            p["upper"] = num(snap.tables[ind.bounds[1]][i, k, s])
        points.append(p)
    return {
        "region_id": snap.region_ids[i],
        "name": snap.names[i],
        "indicator": ind.id,
        "unit": ind.unit,
        "stratum": STRATA[s],
        "snapshot_id": snap.snapshot_id,
        "series": points,
        "not_available": input_notes.not_available(snap, ind.id, s),
        "bounds_not_available": input_notes.bounds_not_available(snap) if ind.bounds else None,
        "notes": input_notes.notes(snap)["assumptions"],
    }


NOTE_COLUMNS = ("not_available", "bounds_not_available")  # why a column is empty, as in the JSON


def series_csv(snap: Snapshot, body: dict[str, Any]) -> str:
    """The same rows as CSV: one line per epoch, units and snapshot ids in columns, and why a
    value or its bounds are not available (empty when they are)."""
    ind = BY_ID[body["indicator"]]
    cols = list(ind.table_vars)
    buf = io.StringIO()
    w = csv.writer(buf)
    head = ["region_id", "stratum", "epoch", *cols] + (["lower", "upper"] if ind.bounds else [])
    w.writerow([*head, "unit", "input_snapshot", "source_latest", "snapshot_id", *NOTE_COLUMNS])
    notes = ["" if body.get(n) is None else str(body[n]) for n in NOTE_COLUMNS]
    for p in body["series"]:
        vals = [p["columns"][c] for c in cols] + ([p["lower"], p["upper"]] if ind.bounds else [])
        cells = ("" if v is None else repr(v) for v in vals)
        prov = (p["input_snapshot"], p["source_latest"], snap.snapshot_id)
        w.writerow([body["region_id"], body["stratum"], p["epoch"], *cells, ind.unit, *prov, *notes])
    return buf.getvalue()


# ---- monthly signals (group ``monthly``, pipeline.monthly) ---------------------------------

MONTHLY_SIGNALS: dict[str, str] = {
    "ndvi_anomaly": "area-weighted mean NDVI z-score against the monthly climatology of the baseline years",
    "bare_soil_frequency": "area-weighted mean share of the last 12 months with NDVI < the threshold (bare soil); "
    "soil-cover frequency = 1 - this",
    "productivity_ratio": "NDVI integral January..month over the baseline's (1 = as productive as the baseline)",
}


def monthly_group(snap: Snapshot) -> Any:
    """The snapshot's monthly group, or None when it has none yet."""
    return snap.groups.get(MONTHLY)


def monthly_series(snap: Snapshot, i: int, signal: str) -> dict[str, Any]:
    """Every month's area-weighted value of one monthly signal for region row ``i``."""
    g = snap.groups[MONTHLY]
    values = g[f"region_{signal}"].values[i]
    valid = g["region_valid_fraction"].values[i]
    months = [str(t)[:7] for t in g["time"].values]
    return {
        "region_id": snap.region_ids[i],
        "name": snap.names[i],
        "indicator": signal,
        "unit": "1",
        "frequency": "monthly",
        "definition": MONTHLY_SIGNALS[signal],
        "baseline": [int(y) for y in g.attrs.get("baseline", [])],
        "input_snapshot": g.attrs.get("input_snapshot"),
        "snapshot_id": snap.snapshot_id,
        "series": [
            {"month": m, "value": num(v), "valid_fraction": num(f)}
            for m, v, f in zip(months, values, valid, strict=True)
        ],
    }


def monthly_csv(body: dict[str, Any]) -> str:
    """The same rows as CSV: one line per month."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        ["region_id", "month", body["indicator"], "valid_fraction", "unit", "input_snapshot", "snapshot_id"]
    )
    for p in body["series"]:
        cells = ["" if v is None else repr(v) for v in (p["value"], p["valid_fraction"])]
        w.writerow(
            [body["region_id"], p["month"], *cells, body["unit"], body["input_snapshot"], body["snapshot_id"]]
        )
    return buf.getvalue()
