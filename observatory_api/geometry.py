"""AOI polygons: from a GeoJSON document to a normalised polygon whose cost is known in advance.

Limits (each refused with a 4xx naming it, before any heavy step):

- at most ``max_vertices`` positions in all (``SOCOBS_MAX_AOI_VERTICES``, 20 000), counted ring
  by ring while the coordinates are read; at most ``MAX_PARTS`` parts and ``MAX_HOLES`` holes;
- at most ``MAX_EDGE_PAIRS`` pairs of edges whose longitude ranges overlap: the validity check
  (no self-intersection) costs about that many segment tests, so a polygon of 20 000 vertices
  drawn as a coastline passes, a 20 000-pointed star (84 million pairs) is refused;
- at most ``max_km2`` of area (``SOCOBS_MAX_AOI_KM2``), the area being exact on the ellipsoid.

Geography. Edges are straight lines in longitude/latitude (as GeoJSON and the cube grid have
them). An edge spanning more than 180 degrees of longitude goes the short way, across the
antimeridian: a 1 x 1 degree square from 179.5 E to 179.5 W is that square, not a 359-degree
band. Such a ring is unwrapped to continuous longitudes (179.5 .. 180.5) and rasterised on the
grid with wrapped columns, so nothing is split. Edges whose two ends lie on a pole, or on the
same meridian +-180, are kept as written, so ``[[-180, -90], [180, -90], [180, 90], [-180, 90]]``
is the whole Earth (and refused by the area limit with its true area, 510 million km2). A ring
that winds once around a pole (its longitudes advance by 360 degrees) encloses that pole: the
one on the ring's side of the equator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from kernels.areas import geographic_row_areas
from observatory_api.errors import BadParameter, PayloadTooLarge

MAX_PARTS = 1_000
MAX_HOLES = 1_000
MAX_EDGE_PAIRS = 10_000_000
GEOJSON_TYPES = ["Polygon", "MultiPolygon"]
# 3-point Gauss-Legendre nodes and weights on [0, 1]: the area integral along one edge
_GL_T = np.array([0.5 - np.sqrt(0.15), 0.5, 0.5 + np.sqrt(0.15)])
_GL_W = np.array([5.0, 8.0, 5.0]) / 18.0


@dataclass(frozen=True)
class Aoi:
    """A normalised (multi)polygon: parts in continuous longitudes (possibly beyond +-180)."""

    parts: tuple[shapely.Polygon, ...]
    area_km2: float
    n_vertices: int

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        b = np.array([p.bounds for p in self.parts])
        return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def _bad(detail: str, parameter: str = "geometry.coordinates") -> BadParameter:
    return BadParameter(f"geometry: {detail}", parameter=parameter)


def geometry_of(doc: Any) -> tuple[str, Any]:
    """(type, coordinates) of a GeoJSON Polygon/MultiPolygon or a Feature of one."""
    geom = doc.get("geometry") if isinstance(doc, dict) and doc.get("type") == "Feature" else doc
    if not isinstance(geom, dict):
        raise BadParameter(
            "geometry: expected a GeoJSON Polygon or MultiPolygon (or a Feature of one).",
            parameter="geometry",
            allowed=GEOJSON_TYPES,
        )
    kind = geom.get("type")
    if kind not in GEOJSON_TYPES:
        raise BadParameter(
            f"geometry: expected type Polygon or MultiPolygon, got {str(kind)[:40]!r}.",
            parameter="geometry.type",
            allowed=GEOJSON_TYPES,
        )
    return str(kind), geom.get("coordinates")


def _ring(ring: Any, where: str) -> np.ndarray:
    if not isinstance(ring, list) or len(ring) < 4:
        raise _bad(f"{where}: expected a closed ring of at least 4 [lon, lat] positions.")
    try:
        arr = np.asarray(ring)
    except ValueError:  # ragged: positions of different lengths or nesting
        raise _bad(f"{where}: expected positions [lon, lat] (or [lon, lat, alt]) of numbers.") from None
    if arr.ndim != 2 or not 2 <= arr.shape[-1] <= 3 or arr.dtype.kind not in "iuf":
        raise _bad(
            f"{where}: expected positions [lon, lat] (or [lon, lat, alt]) of numbers, e.g. [2.35, 48.85]."
        )
    xy = arr[:, :2].astype(np.float64)
    if not np.isfinite(xy).all():
        raise _bad(f"{where}: coordinates must be finite numbers.")
    if (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        raise _bad(
            f"{where}: expected lon in -180..180 and lat in -90..90 (EPSG:4326), got {xy.min(0)}..{xy.max(0)}."
        )
    if not np.array_equal(xy[0], xy[-1]):
        raise _bad(f"{where}: the ring is not closed (its last position must equal its first).")
    return xy


def read_rings(kind: str, coords: Any, max_vertices: int) -> list[list[np.ndarray]]:
    """Parts -> rings -> (n, 2) lon/lat arrays; vertices, parts and holes counted as they are read."""
    polys = [coords] if kind == "Polygon" else coords
    if not isinstance(polys, list) or not polys:
        raise _bad(f"expected the coordinates of a {kind}: a non-empty list.")
    if len(polys) > MAX_PARTS:
        raise PayloadTooLarge(
            f"geometry: {len(polys)} parts; at most {MAX_PARTS} are accepted. Assess the parts in "
            "several requests or merge them.",
            parameter="geometry",
            allowed={"max_parts": MAX_PARTS},
        )
    parts: list[list[np.ndarray]] = []
    n_vertices = n_holes = 0
    for i, poly in enumerate(polys):
        if not isinstance(poly, list) or not poly:
            raise _bad(f"part {i}: expected a list of rings (exterior first, then holes).")
        n_holes += len(poly) - 1
        if n_holes > MAX_HOLES:
            raise PayloadTooLarge(
                f"geometry: more than {MAX_HOLES} holes; at most {MAX_HOLES} are accepted. Fill the small "
                "ones (they barely change an assessment) or split the area.",
                parameter="geometry",
                allowed={"max_holes": MAX_HOLES},
            )
        rings = []
        for j, ring in enumerate(poly):
            n_vertices += len(ring) if isinstance(ring, list) else 0
            if n_vertices > max_vertices:
                raise PayloadTooLarge(
                    f"geometry: more than {max_vertices} vertices; at most {max_vertices} are accepted. "
                    "Simplify it first (e.g. shapely.simplify with a tolerance of a tenth of a grid cell).",
                    parameter="geometry",
                    allowed={"max_vertices": max_vertices},
                )
            rings.append(_ring(ring, f"part {i}, ring {j}"))
        parts.append(rings)
    return parts


def unwrap(xy: np.ndarray) -> tuple[np.ndarray, int]:
    """Continuous longitudes (edges over 180 degrees go the short way) and the turns around a pole."""
    lon, lat = xy[:, 0], xy[:, 1]
    d = np.diff(lon)
    on_pole = (np.abs(lat[:-1]) == 90) & (lat[:-1] == lat[1:])
    same_meridian = np.abs(d) == 360
    wrap = (np.abs(d) > 180) & ~on_pole & ~same_meridian
    d = np.where(wrap, d - 360.0 * np.sign(d), d)
    out = xy.copy()
    out[1:, 0] = lon[0] + np.cumsum(d)
    turns = round(float(out[-1, 0] - out[0, 0]) / 360.0)
    return out, turns


def close_around_pole(xy: np.ndarray) -> np.ndarray:
    """A ring that winds once around a pole, closed through that pole (planar in lon/lat)."""
    pole = 90.0 if xy[:, 1].mean() >= 0 else -90.0
    end, start = xy[-1, 0], xy[0, 0]
    return np.vstack([xy, [[end, pole], [start, pole], [start, xy[0, 1]]]])


def normalise(parts: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """Unwrap every ring, close polar exteriors, shift holes next to their exterior and every
    part next to the first one (by whole turns of 360 degrees)."""
    out: list[list[np.ndarray]] = []
    ref: float | None = None
    for i, rings in enumerate(parts):
        norm = []
        for j, ring in enumerate(rings):
            xy, turns = unwrap(ring)
            if turns != 0:
                if j > 0 or abs(turns) > 1:
                    raise _bad(
                        f"part {i}, ring {j}: winds {abs(turns)} time(s) around a pole; only an exterior "
                        "ring may enclose a pole, once."
                    )
                xy = close_around_pole(xy)
            norm.append(xy)
        centre = float(norm[0][:, 0].mean())
        ref = centre if ref is None else ref
        shift = 360.0 * round((ref - centre) / 360.0)
        centre += shift
        placed = [norm[0] + np.array([shift, 0.0])]
        for hole in norm[1:]:
            turns = round((centre - float(hole[:, 0].mean())) / 360.0)
            placed.append(hole + np.array([360.0 * turns, 0.0]))
        out.append(placed)
    return out


def edge_pairs(rings: list[np.ndarray]) -> int:
    """Pairs of edges whose longitude ranges overlap: an upper bound of the segment tests of a
    validity check (computed in O(n log n))."""
    lo = np.concatenate([np.minimum(r[:-1, 0], r[1:, 0]) for r in rings])
    hi = np.concatenate([np.maximum(r[:-1, 0], r[1:, 0]) for r in rings])
    starts, ends = np.sort(lo), np.sort(hi)
    overlapping = np.searchsorted(starts, hi, "right") - np.searchsorted(ends, lo, "left") - 1
    return int(overlapping.sum() // 2)


def _zone_area(lat_deg: np.ndarray) -> np.ndarray:
    """Signed area (m2) between the equator and each latitude, per radian of longitude (WGS84)."""
    edges = np.zeros(2 * lat_deg.size)
    edges[1::2] = np.clip(lat_deg, -90.0, 90.0).ravel()
    per_radian = geographic_row_areas(edges, float(np.degrees(1.0)))[0::2]
    return np.sign(lat_deg.ravel()) * per_radian


def ring_area_m2(xy: np.ndarray) -> float:
    """Area on the WGS84 ellipsoid of a ring whose edges are straight in lon/lat (Green's theorem:
    the integral of the zone area along the ring, Gauss-Legendre on each edge; exact for edges
    along meridians and parallels)."""
    lam = np.radians(xy[:, 0])
    p0, p1 = xy[:-1, 1], xy[1:, 1]
    lat = p0[:, None] + (p1 - p0)[:, None] * _GL_T[None, :]
    mean_zone = (_zone_area(lat).reshape(lat.shape) * _GL_W).sum(axis=1)
    return abs(float(np.sum(np.diff(lam) * mean_zone)))


def parse_aoi(doc: Any, max_vertices: int, max_km2: float) -> Aoi:
    """The normalised polygon of a GeoJSON Polygon/MultiPolygon (or Feature), or a 4xx."""
    kind, coords = geometry_of(doc)
    parts = normalise(read_rings(kind, coords, max_vertices))
    rings = [r for p in parts for r in p]
    pairs = edge_pairs(rings)
    if pairs > MAX_EDGE_PAIRS:
        raise PayloadTooLarge(
            f"geometry: too intricate to check in bounded time ({pairs:,} pairs of edges overlap in "
            f"longitude; at most {MAX_EDGE_PAIRS:,}). Simplify it to the grid's resolution "
            "(e.g. shapely.simplify) or split it.",
            parameter="geometry",
            allowed={"max_edge_pairs": MAX_EDGE_PAIRS},
        )
    polys = [shapely.Polygon(p[0], p[1:]) for p in parts]
    for i, poly in enumerate(polys):
        if not shapely.is_valid(poly):
            why = shapely.is_valid_reason(poly)
            where = f" (part {i})" if len(polys) > 1 else ""
            raise BadParameter(
                f"geometry: not a valid polygon{where}: {why}. Rings must not cross themselves or each "
                "other; repair it (e.g. shapely.make_valid).",
                parameter="geometry",
            )
    if len(polys) > 1 and not shapely.is_valid(shapely.MultiPolygon(polys)):
        # parts may touch (an antimeridian split shares the meridian), not overlap
        planar = sum(p.area for p in polys)
        if shapely.union_all(polys).area < planar * (1 - 1e-9):
            raise BadParameter(
                "geometry: parts of the MultiPolygon overlap; merge them (e.g. shapely.union_all).",
                parameter="geometry",
            )
    m2 = sum(ring_area_m2(p[0]) - sum(ring_area_m2(h) for h in p[1:]) for p in parts)
    km2 = m2 / 1e6
    if km2 > max_km2:
        raise PayloadTooLarge(
            f"geometry: {km2:,.0f} km2; at most {max_km2:,.0f} km2 are assessed per request. "
            "Use the region tables for larger areas.",
            parameter="geometry",
            allowed={"max_km2": max_km2},
        )
    if km2 <= 0:
        raise _bad("the polygon has no area.", parameter="geometry")
    return Aoi(tuple(polys), km2, sum(len(r) for r in rings))
