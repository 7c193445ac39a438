"""The dashboard's offline basemap: the project's own region geometries of one level, simplified
for display, as a GeoJSON FeatureCollection (JSON bytes and their gzip).

Land, coastlines and borders are drawn from the countries; the map's region choropleth uses the
same features (joined in the browser to ``/v1/rankings`` by ``properties.id``). Simplifying the
countries takes seconds, and the geometries seldom change between commits, so the answer is kept
per level and per geometry fingerprint (a hash of the level's WKB) for the process's life, and
in the snapshot's memo for the snapshot's.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass

import numpy as np
import orjson
import shapely

from observatory_api.reader import Snapshot

TOLERANCE_DEG = 0.15  # Douglas-Peucker tolerance: ~17 km, about a pixel at zoom 3
GRID_DEG = 0.02  # coordinates rounded to this grid (~2 km)
MIN_AREA_DEG2 = 0.01  # parts smaller than this (about 11 km x 11 km) are dropped
LEVELS = ("region", "country", "subnational")
_KEPT: dict[tuple[str, str], Basemap] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Basemap:
    body: bytes  # GeoJSON FeatureCollection
    gzipped: bytes
    etag: str
    count: int


def _drop_specks(geom: shapely.Geometry) -> shapely.Geometry | None:
    parts = shapely.get_parts(geom)
    keep = parts[shapely.area(parts) >= MIN_AREA_DEG2]
    if len(keep) == 0:
        return None
    return keep[0] if len(keep) == 1 else shapely.MultiPolygon(list(keep))


def _build(ids: list[str], names: list[str], geoms: np.ndarray) -> list[dict[str, object]]:
    simple = shapely.set_precision(shapely.simplify(geoms, TOLERANCE_DEG, preserve_topology=True), GRID_DEG)
    features = []
    for rid, name, geom in zip(ids, names, simple, strict=True):
        shape = None if geom is None or shapely.is_empty(geom) else _drop_specks(geom)
        if shape is None:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"id": rid, "name": name},
                "geometry": shapely.geometry.mapping(shape),
            }
        )
    return features


def basemap(snap: Snapshot, level: str) -> Basemap:
    """The simplified geometries of every region of ``level`` (an empty collection if none)."""
    hit: Basemap | None = snap.memo.get(("basemap", level))
    if hit is not None:
        return hit
    rows = snap.regions[snap.regions["level"] == level]
    geoms = np.asarray(rows.geometry.values, dtype=object)
    ids = [str(r) for r in rows.index]
    digest = hashlib.blake2b(digest_size=12)
    for rid, raw in zip(ids, shapely.to_wkb(geoms), strict=True):
        digest.update(rid.encode() + b"\0" + (raw or b"") + b"\0")
    key = (level, digest.hexdigest())
    with _LOCK:  # one thread simplifies; the others wait for its answer
        hit = _KEPT.get(key)
        if hit is None:
            features = _build(ids, [str(n) for n in rows["name"]], geoms)
            body = orjson.dumps({"type": "FeatureCollection", "level": level, "features": features})
            hit = Basemap(body, gzip.compress(body, 6), f'"{key[1]}"', len(features))
            for old in [k for k in _KEPT if k[0] == level]:  # superseded geometries
                del _KEPT[old]
            _KEPT[key] = hit
    snap.memo[("basemap", level)] = hit
    return hit
