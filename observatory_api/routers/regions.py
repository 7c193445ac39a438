"""Regions, the indicator registry, time series, summaries and rankings."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from observatory_api.deps import SnapshotDep, epoch_index, json_response, num, region_row, stratum_index
from observatory_api.models import (
    ERROR_RESPONSES,
    IndicatorId,
    IndicatorList,
    LevelName,
    Ranking,
    RegionDetail,
    RegionList,
    Series,
    Stratum,
    Summary,
)
from observatory_api.reader import Snapshot
from pipeline.indicator_registry import BY_ID, INDICATORS, SH_CLASSES, STRATA, TABLE_UNITS


def _boxes(snap: Snapshot, rid: str) -> tuple[list[float] | None, list[float] | None]:
    """(bbox, main_bbox) of a region from the region table (``pipeline.regions`` computes them)."""
    cache = snap.memo.setdefault("bbox", {})
    if rid not in cache:
        row = snap.regions.loc[rid] if rid in snap.regions.index else None
        cache[rid] = tuple(_box(None if row is None else row.get(c)) for c in ("bbox", "main_bbox"))
    return cache[rid]


def _box(v: Any) -> list[float] | None:
    if v is None or isinstance(v, float) or len(v) != 4:  # missing (None or NaN)
        return None
    return [round(float(x), 6) for x in v]


def _region(snap: Snapshot, i: int) -> dict[str, Any]:
    rid = snap.region_ids[i]
    bbox, main_bbox = _boxes(snap, rid)
    return {"region_id": rid, "name": snap.names[i], "level": snap.levels_of[i],
            "parent_id": snap.parents[i] or None, "bbox": bbox, "main_bbox": main_bbox}  # fmt: skip


def router() -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["regions and indicators"], responses=ERROR_RESPONSES)

    @r.get("/regions", response_model=RegionList)
    def regions(
        snap: SnapshotDep,
        level: Annotated[LevelName | None, Query(description="Only this level")] = None,
        parent: Annotated[str | None, Query(description="Only the children of this region id")] = None,
        q: Annotated[
            str | None, Query(max_length=100, description="Case-insensitive name or id search")
        ] = None,
    ) -> Response:
        """Regions of the hierarchy, filtered by level, parent or name; each with its bbox and main_bbox
        ([west, south, east, north], west > east across the antimeridian)."""
        out = []
        needle = q.lower() if q else None
        for i, rid in enumerate(snap.region_ids):
            if level is not None and snap.levels_of[i] != level.value:
                continue
            if parent is not None and snap.parents[i] != parent:
                continue
            if needle and needle not in snap.names[i].lower() and needle not in rid.lower():
                continue
            out.append(_region(snap, i))
        return json_response({"count": len(out), "regions": out}, snap)

    @r.get("/regions/{region_id}", response_model=RegionDetail)
    def region(
        snap: SnapshotDep, region_id: str,
        geometry: Annotated[bool, Query(description="Include the GeoJSON geometry")] = False,
    ) -> Response:  # fmt: skip
        """One region with its parent, children, bbox, main_bbox and (on request) geometry."""
        i = region_row(snap, region_id)
        body = _region(snap, i)
        p = snap.parents[i]
        body["parent"] = _region(snap, snap.row[p]) if p and p in snap.row else None
        body["children"] = [
            _region(snap, snap.row[c]) for c in snap.children.get(region_id, []) if c in snap.row
        ]
        body["geometry"] = None
        if geometry and region_id in snap.regions.index:
            import shapely

            body["geometry"] = shapely.geometry.mapping(snap.regions.geometry[region_id])
        return json_response(body, snap)

    @r.get("/indicators", response_model=IndicatorList)
    def indicators(snap: SnapshotDep) -> Response:
        """The registry: id, unit, definition, reference, available epochs and strata."""
        rows = [{"id": i.id, "unit": i.unit, "title": i.title, "definition": i.definition,
                 "reference": i.reference, "map": i.map_var is not None, "columns": list(i.table_vars),
                 "bounds": list(i.bounds) if i.bounds else None, "epochs": snap.epochs,
                 "strata": list(STRATA)} for i in INDICATORS]  # fmt: skip
        return json_response({"snapshot_id": snap.snapshot_id, "baseline_epoch": snap.epochs[0],
                              "indicators": rows}, snap)  # fmt: skip

    @r.get("/regions/{region_id}/indicators/{indicator}", response_model=Series,
           responses={200: {"content": {"text/csv": {}}}})  # fmt: skip
    def series(
        snap: SnapshotDep, region_id: str, indicator: IndicatorId,
        stratum: Stratum = Stratum("all"),
        format: Annotated[Literal["json", "csv"] | None, Query(description="Or use Accept: text/csv")] = None,
        accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Response:  # fmt: skip
        """Time series of one indicator for a region (epochs, stratum, uncertainty bounds); JSON or CSV."""
        i = region_row(snap, region_id)
        s = stratum_index(stratum.value)
        ind = BY_ID[indicator.value]
        cols = list(ind.table_vars)
        points = []
        for k, e in enumerate(snap.epochs):
            values = {c: num(snap.tables[c][i, k, s]) for c in cols}
            p: dict[str, Any] = {"epoch": e, "value": values[cols[0]], "columns": values,
                                 "input_snapshot": snap.input_snapshot[k], "source_latest": snap.source_latest[k]}  # fmt: skip
            if ind.bounds:
                p["lower"] = num(snap.tables[ind.bounds[0]][i, k, s])
                p["upper"] = num(snap.tables[ind.bounds[1]][i, k, s])
            points.append(p)
        want_csv = format == "csv" or (format is None and accept is not None and "text/csv" in accept)
        if want_csv:
            buf = io.StringIO()
            w = csv.writer(buf)
            head = ["region_id", "stratum", "epoch", *cols] + (["lower", "upper"] if ind.bounds else [])
            w.writerow([*head, "unit", "input_snapshot", "source_latest", "snapshot_id"])
            for p in points:
                vals = [p["columns"][c] for c in cols] + ([p["lower"], p["upper"]] if ind.bounds else [])
                w.writerow([region_id, stratum.value, p["epoch"], *("" if v is None else repr(v) for v in vals),
                            ind.unit, p["input_snapshot"], p["source_latest"], snap.snapshot_id])  # fmt: skip
            return Response(
                buf.getvalue(), media_type="text/csv", headers={"X-Snapshot-Id": snap.snapshot_id}
            )
        return json_response({"region_id": region_id, "name": snap.names[i], "indicator": ind.id, "unit": ind.unit,
                              "stratum": stratum.value, "snapshot_id": snap.snapshot_id, "series": points}, snap)  # fmt: skip

    @r.get("/regions/{region_id}/summary", response_model=Summary)
    async def summary(snap: SnapshotDep, region_id: str, stratum: Stratum = Stratum("all")) -> Response:
        """Latest value of every indicator, trend, 4 per 1000 progress, SH class shares, freshness."""
        # async and memoised per snapshot: this is what dashboards poll most, and it never blocks
        key = ("summary", region_id, stratum.value)
        body = snap.memo.get(key)
        if body is None:
            body = _summary(snap, region_row(snap, region_id), stratum_index(stratum.value))
            snap.memo[key] = body
        return Response(body, media_type="application/json", headers={"X-Snapshot-Id": snap.snapshot_id})

    @r.get("/rankings/{indicator}", response_model=Ranking)
    def rankings(
        snap: SnapshotDep, indicator: IndicatorId,
        level: LevelName = LevelName("country"),
        epoch: Annotated[int | None, Query(description="Default: the latest epoch")] = None,
        stratum: Stratum = Stratum("all"),
        order: Literal["desc", "asc"] = "desc",
        parent: Annotated[str | None, Query(description="Only the children of this region")] = None,
    ) -> Response:  # fmt: skip
        """Regions of one level ranked by an indicator; ties share a rank, missing data listed last."""
        k = epoch_index(snap, epoch)
        s = stratum_index(stratum.value)
        ind = BY_ID[indicator.value]
        col = ind.table_vars[0]
        rows = [
            i
            for i, lv in enumerate(snap.levels_of)
            if lv == level.value and (parent is None or snap.parents[i] == parent)
        ]
        vals = {i: num(snap.tables[col][i, k, s]) for i in rows}
        have = {i: v for i, v in vals.items() if v is not None}
        sign = -1.0 if order == "desc" else 1.0
        ranked = sorted(have, key=lambda i: (sign * have[i], snap.region_ids[i]))
        counts: dict[float, int] = {}
        for v in have.values():
            counts[v] = counts.get(v, 0) + 1
        out: list[dict[str, Any]] = []
        rank, prev = 0, None
        for n, i in enumerate(ranked, start=1):
            if have[i] != prev:  # competition ranking: equal values share the first rank
                rank, prev = n, have[i]
            out.append({"region_id": snap.region_ids[i], "name": snap.names[i], "parent_id": snap.parents[i] or None,
                        "value": have[i], "unit": TABLE_UNITS[col], "rank": rank, "tied": counts[have[i]] > 1,
                        "missing": False})  # fmt: skip
        missing = [i for i in rows if vals[i] is None]
        for i in sorted(missing, key=lambda i: snap.region_ids[i]):
            out.append({"region_id": snap.region_ids[i], "name": snap.names[i], "parent_id": snap.parents[i] or None,
                        "value": None, "unit": TABLE_UNITS[col], "rank": None, "tied": False, "missing": True})  # fmt: skip
        return json_response({"indicator": ind.id, "column": col, "unit": TABLE_UNITS[col], "level": level.value,
                              "epoch": snap.epochs[k], "stratum": stratum.value, "order": order,
                              "snapshot_id": snap.snapshot_id, "n_missing": len(missing), "rows": out}, snap)  # fmt: skip

    return r


def _summary(snap: Snapshot, i: int, s: int) -> bytes:
    import orjson

    k = len(snap.epochs) - 1
    t = snap.tables

    def v(col: str) -> dict[str, Any]:
        return {"value": num(t[col][i, k, s]), "unit": TABLE_UNITS[col]}

    progress = num(t["progress_4p1000"][i, k, s])
    latest = snap.source_latest[k]
    age = None
    if latest:
        age = round((datetime.now(UTC) - datetime.fromisoformat(latest)).total_seconds() / 86400, 1)
    body = {
        "region_id": snap.region_ids[i], "name": snap.names[i], "level": snap.levels_of[i],
        "parent_id": snap.parents[i] or None, "stratum": STRATA[s], "epoch": snap.epochs[k],
        "baseline_epoch": snap.epochs[0], "snapshot_id": snap.snapshot_id,
        "values": {c: v(c) for c in TABLE_UNITS if not c.startswith(("sh_share_", "trend_"))},
        "trend": {c: v(c) for c in ("trend_slope", "trend_sig_increase_share", "trend_sig_decrease_share")},
        "progress_4p1000": v("progress_4p1000"),
        "on_4p1000_path": None if progress is None else progress >= 1.0,
        "sh_class_shares": {c: num(t[f"sh_share_{c}"][i, k, s]) for c in SH_CLASSES},
        "freshness": {"source_latest": latest or None, "source_age_days": age,
                      "committed_at": snap.written_at.isoformat(), "input_snapshot": snap.input_snapshot[k]},
    }  # fmt: skip
    return orjson.dumps(body)
