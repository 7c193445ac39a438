"""The region hierarchy: listings, one region with its family, its geometry (GeoJSON bytes,
built once per snapshot and region, with an ETag), and the indicator registry."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import shapely

from observatory_api.reader import Snapshot
from observatory_api.services import inputs as input_notes
from observatory_api.services import monthly as monthly_service
from observatory_api.services import sdg as sdg_service
from pipeline.indicators.registry import INDICATORS

BOX_COLUMNS = ("bbox", "main_bbox")


def _box(v: Any) -> list[float] | None:
    if v is None or isinstance(v, float) or len(v) != 4:  # missing (None or NaN)
        return None
    return [round(float(x), 6) for x in v]


def boxes(snap: Snapshot, rid: str) -> tuple[list[float] | None, list[float] | None]:
    """(bbox, main_bbox) of a region from the region table (``pipeline.regions.hierarchy`` computes them)."""
    cache = snap.memo.setdefault("bbox", {})
    if rid not in cache:
        row = snap.regions.loc[rid] if rid in snap.regions.index else None
        cache[rid] = tuple(_box(None if row is None else row.get(c)) for c in BOX_COLUMNS)
    return cache[rid]


def region(snap: Snapshot, i: int) -> dict[str, Any]:
    """One row of the hierarchy as the API shows it."""
    rid = snap.region_ids[i]
    bbox, main_bbox = boxes(snap, rid)
    return {
        "region_id": rid,
        "name": snap.names[i],
        "level": snap.levels_of[i],
        "parent_id": snap.parents[i] or None,
        "bbox": bbox,
        "main_bbox": main_bbox,
    }


def find(snap: Snapshot, level: str | None, parent: str | None, q: str | None) -> dict[str, Any]:
    """Regions of ``level``, children of ``parent``, whose name or id contains ``q``."""
    needle = q.lower() if q else None
    out = [
        region(snap, i)
        for i, rid in enumerate(snap.region_ids)
        if (level is None or snap.levels_of[i] == level)
        and (parent is None or snap.parents[i] == parent)
        and (needle is None or needle in snap.names[i].lower() or needle in rid.lower())
    ]
    return {"count": len(out), "regions": out}


def family(snap: Snapshot, i: int) -> dict[str, Any]:
    """A region with its parent and children (no geometry)."""
    body = region(snap, i)
    p = snap.parents[i]
    body["parent"] = region(snap, snap.row[p]) if p and p in snap.row else None
    body["children"] = [
        region(snap, snap.row[c]) for c in snap.children.get(body["region_id"], []) if c in snap.row
    ]
    body["geometry"] = None
    return body


def geometry_json(snap: Snapshot, rid: str) -> tuple[bytes, str]:
    """The region's GeoJSON geometry as JSON bytes and its ETag, computed once per snapshot."""
    key = ("geometry", rid)
    hit = snap.memo.get(key)
    if hit is None:
        geom = snap.regions.geometry[rid] if rid in snap.regions.index else None
        raw = orjson.dumps(None if geom is None else shapely.geometry.mapping(geom))
        etag = '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'
        hit = snap.memo[key] = (raw, etag)
    return hit


def detail_json(snap: Snapshot, i: int, with_geometry: bool) -> tuple[bytes, str | None]:
    """The body of /v1/regions/{id} as bytes (geometry spliced in without re-encoding it)."""
    body = orjson.dumps(family(snap, i))
    if not with_geometry:
        return body, None
    raw, etag = geometry_json(snap, snap.region_ids[i])
    assert body.endswith(b'"geometry":null}')
    return body[: -len(b"null}")] + raw + b"}", etag


def indicators(snap: Snapshot) -> dict[str, Any]:
    """The registry: id, unit, definition, reference, epochs held and strata."""
    rows = [
        {
            "id": i.id,
            "unit": i.unit,
            "title": i.title,
            "definition": i.definition,
            "reference": i.reference,
            "map": i.map_var is not None,
            "columns": list(i.table_vars),
            "bounds": list(i.bounds) if i.bounds else None,
            "epochs": snap.epochs,
            "strata": input_notes.strata(snap),
            "not_available": input_notes.not_available(snap, i.id),
            "bounds_not_available": input_notes.bounds_not_available(snap) if i.bounds else None,
        }
        for i in INDICATORS
    ]
    body = {
        "snapshot_id": snap.snapshot_id,
        "baseline_epoch": snap.epochs[0],
        "indicators": rows,
        "inputs": input_notes.notes(snap),
    }
    sdg = sdg_service.catalogue(snap)  # SDG 15.3.1 maps by period (not epoch): listed apart
    if sdg is not None:
        body["sdg15_3_1"] = sdg
    monthly = monthly_service.catalogue(snap)  # the monthly signals by month: listed apart too
    if monthly is not None:
        body["monthly"] = monthly
    return body
