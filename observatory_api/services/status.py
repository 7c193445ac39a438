"""What the store holds and how fresh it is: the body of ``/v1/status``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observatory_api.reader import Snapshot
from observatory_api.services import inputs as input_notes
from pipeline.store import MONTHLY


def source_freshness(snap: Snapshot, now: datetime) -> list[dict[str, Any]]:
    """Per source: its variables, its newest STAC item datetime and that item's age in days."""
    by_source: dict[str, dict[str, Any]] = {}
    for var, p in snap.provenance.items():
        name = p.get("source", var)
        src = by_source.setdefault(
            name, {"source": name, "collection": p.get("collection"), "variables": [], "latest_item": None}
        )
        src["variables"].append(var)
        for entry in p.get("inputs", {}).values():
            for d in entry.get("datetimes", []):
                if src["latest_item"] is None or d > src["latest_item"]:
                    src["latest_item"] = d
    for src in by_source.values():
        li = src["latest_item"]
        src["age_days"] = round((now - datetime.fromisoformat(li)).total_seconds() / 86400, 1) if li else None
    return sorted(by_source.values(), key=lambda s: s["source"])


def monthly_freshness(snap: Snapshot) -> dict[str, Any] | None:
    """The monthly signals' freshness: their newest month (None without a monthly group)."""
    g = snap.groups.get(MONTHLY)
    if g is None or "time" not in g.coords or g["time"].size == 0:
        return None
    months = [str(t)[:7] for t in g["time"].values]
    return {
        "newest_month": months[-1],
        "first_month": months[0],
        "months": len(months),
        "baseline": [int(y) for y in g.attrs.get("baseline", [])],
        "input_snapshot": g.attrs.get("input_snapshot"),
        "indicators": ["ndvi_anomaly", "bare_soil_frequency", "productivity_ratio"],
    }


def status(
    snap: Snapshot, now: datetime, checked_at: datetime | None, last_error: str | None, poll_seconds: float
) -> dict[str, Any]:
    """Last commit, snapshot id, newest source item, per-source freshness, the monthly signals'
    newest month and the poller's state."""
    sources = source_freshness(snap, now)
    newest = max((s["latest_item"] for s in sources if s["latest_item"]), default=None)
    return {
        "snapshot_id": snap.snapshot_id,
        "committed_at": snap.written_at.isoformat(),
        "message": snap.message,
        "input_snapshot": snap.attrs.get("input_snapshot"),
        "newest_source_item": newest,
        "sources": sources,
        "monthly": monthly_freshness(snap),
        "checked_at": checked_at.isoformat() if checked_at else None,
        "last_error": last_error,
        "poll_seconds": poll_seconds,
        "indicator_inputs": input_notes.notes(snap),
    }
