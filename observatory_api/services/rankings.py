"""Regions of one level ranked by an indicator (competition ranking: ties share a rank)."""

from __future__ import annotations

from typing import Any

from observatory_api.reader import Snapshot
from observatory_api.services.common import num
from pipeline.indicators.registry import BY_ID, STRATA, TABLE_UNITS


def rankings(
    snap: Snapshot, indicator: str, level: str, k: int, s: int, order: str, parent: str | None
) -> dict[str, Any]:
    """The regions of ``level`` (children of ``parent``) by the indicator's first column at epoch
    index ``k``, stratum ``s``; missing values listed last, by id."""
    ind = BY_ID[indicator]
    col = ind.table_vars[0]
    unit = TABLE_UNITS[col]
    rows = [
        i
        for i, lv in enumerate(snap.levels_of)
        if lv == level and (parent is None or snap.parents[i] == parent)
    ]
    vals = {i: num(snap.tables[col][i, k, s]) for i in rows}
    have = {i: v for i, v in vals.items() if v is not None}
    sign = -1.0 if order == "desc" else 1.0
    ranked = sorted(have, key=lambda i: (sign * have[i], snap.region_ids[i]))
    counts: dict[float, int] = {}
    for v in have.values():
        counts[v] = counts.get(v, 0) + 1

    def row(i: int, value: float | None, rank: int | None) -> dict[str, Any]:
        return {
            "region_id": snap.region_ids[i],
            "name": snap.names[i],
            "parent_id": snap.parents[i] or None,
            "value": value,
            "unit": unit,
            "rank": rank,
            "tied": value is not None and counts[value] > 1,
            "missing": value is None,
        }

    out: list[dict[str, Any]] = []
    rank, prev = 0, None
    for n, i in enumerate(ranked, start=1):
        if have[i] != prev:  # competition ranking: equal values share the first rank
            rank, prev = n, have[i]
        out.append(row(i, have[i], rank))
    missing = sorted((i for i in rows if vals[i] is None), key=lambda i: snap.region_ids[i])
    out += [row(i, None, None) for i in missing]
    return {
        "indicator": ind.id,
        "column": col,
        "unit": unit,
        "level": level,
        "epoch": snap.epochs[k],
        "stratum": STRATA[s],
        "order": order,
        "snapshot_id": snap.snapshot_id,
        "n_missing": len(missing),
        "rows": out,
    }
