"""The Initiative's objectives and KPIs (objective F3) at a snapshot: JSON and CSV bodies.

The report (``pipeline.kpis.report``) is a pure function of the snapshot's region tables and
the shipped catalogs, so it is computed once per snapshot and kept in ``Snapshot.memo``; the CSV
bodies are ``pipeline.kpis.export``'s (the CLI writes the same).
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np

from observatory_api.errors import NotFound
from observatory_api.reader import Snapshot
from pipeline.indicators.registry import STRATA
from pipeline.kpis.computed import TABLE_COLUMNS, TableView
from pipeline.kpis.export import listing_csv, series_csv
from pipeline.kpis.report import report


def view(snap: Snapshot) -> TableView:
    """The part of the snapshot the computed KPIs read (a column an older store lacks: no data)."""
    shape = (len(snap.region_ids), len(snap.epochs), len(STRATA))
    return TableView(
        snapshot_id=snap.snapshot_id,
        written_at=snap.written_at,
        epochs=snap.epochs,
        region_ids=snap.region_ids,
        levels=snap.levels_of,
        tables={c: snap.tables[c] if c in snap.tables else np.full(shape, np.nan) for c in TABLE_COLUMNS},
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


__all__ = ["full", "listing", "listing_csv", "one", "series_csv", "view"]
