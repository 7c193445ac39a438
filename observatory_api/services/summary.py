"""A region's dashboard card: the latest value of every table column, the trend, 4 per 1000
progress, soil-health class shares and how fresh the sources are."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observatory_api.reader import Snapshot
from observatory_api.services import inputs as input_notes
from observatory_api.services.common import num
from pipeline.indicators.registry import SH_CLASSES, STRATA, TABLE_UNITS

TREND = ("trend_slope", "trend_sig_increase_share", "trend_sig_decrease_share")


def summary(snap: Snapshot, i: int, s: int, now: datetime) -> dict[str, Any]:
    """The summary of region row ``i``, stratum ``s``, at the latest epoch."""
    k = len(snap.epochs) - 1
    t = snap.tables

    def v(col: str) -> dict[str, Any]:
        return {"value": num(t[col][i, k, s]), "unit": TABLE_UNITS[col]}

    progress = num(t["progress_4p1000"][i, k, s])
    latest = snap.source_latest[k]
    age = round((now - datetime.fromisoformat(latest)).total_seconds() / 86400, 1) if latest else None
    return {
        "region_id": snap.region_ids[i],
        "name": snap.names[i],
        "level": snap.levels_of[i],
        "parent_id": snap.parents[i] or None,
        "stratum": STRATA[s],
        "epoch": snap.epochs[k],
        "baseline_epoch": snap.epochs[0],
        "snapshot_id": snap.snapshot_id,
        "values": {c: v(c) for c in TABLE_UNITS if not c.startswith(("sh_share_", "trend_"))},
        "trend": {c: v(c) for c in TREND},
        "progress_4p1000": v("progress_4p1000"),
        "on_4p1000_path": None if progress is None else progress >= 1.0,
        "sh_class_shares": {c: num(t[f"sh_share_{c}"][i, k, s]) for c in SH_CLASSES},
        "freshness": {
            "source_latest": latest or None,
            "source_age_days": age,
            "committed_at": snap.written_at.isoformat(),
            "input_snapshot": snap.input_snapshot[k],
        },
        "inputs": input_notes.notes(snap),
    }
