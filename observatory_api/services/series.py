"""A region's time series of one indicator, as JSON rows or CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from observatory_api.reader import Snapshot
from observatory_api.services.common import num
from pipeline.indicators.registry import BY_ID, STRATA


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
    }


def series_csv(snap: Snapshot, body: dict[str, Any]) -> str:
    """The same rows as CSV: one line per epoch, units and snapshot ids in columns."""
    ind = BY_ID[body["indicator"]]
    cols = list(ind.table_vars)
    buf = io.StringIO()
    w = csv.writer(buf)
    head = ["region_id", "stratum", "epoch", *cols] + (["lower", "upper"] if ind.bounds else [])
    w.writerow([*head, "unit", "input_snapshot", "source_latest", "snapshot_id"])
    for p in body["series"]:
        vals = [p["columns"][c] for c in cols] + ([p["lower"], p["upper"]] if ind.bounds else [])
        cells = ("" if v is None else repr(v) for v in vals)
        prov = (p["input_snapshot"], p["source_latest"], snap.snapshot_id)
        w.writerow([body["region_id"], body["stratum"], p["epoch"], *cells, ind.unit, *prov])
    return buf.getvalue()
