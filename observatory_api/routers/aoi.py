"""``POST /v1/aoi/assess``: a project polygon's SOC change against a control ring (objective E3).

The control is the ring of ``ring_km`` around the polygon (geodesic buffer, computed in an
azimuthal equidistant projection centred on the polygon), restricted to cells of the polygon's
dominant land-cover class at the start epoch: same land use, same neighbourhood, no project. Both
areas are reduced with exact coverage fractions and true cell areas (the zonal kernel), over cells
valid at both epochs, so the two rates compare like with like.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pyproj import CRS, Geod

from kernels.zonal import AREA, AREA_SUM, AREA_TOTAL, zonal_stats
from observatory_api.deps import SnapshotDep, json_response, num
from observatory_api.errors import BadParameter, NotFound, PayloadTooLarge
from observatory_api.models import ERROR_RESPONSES, AoiRequest, AoiResult
from observatory_api.reader import Snapshot
from pipeline.zonal import Grid, coverage_from_entries, exact_entries

UNITS = {"stock": "t C/ha", "change": "t C/ha", "rate": "t C/ha/yr", "rate_permille": "permille/yr",
         "progress_4p1000": "1", "area": "km2"}  # fmt: skip


def parse_polygon(doc: dict[str, Any], max_vertices: int, max_km2: float) -> shapely.Geometry:
    """A valid (Multi)Polygon from GeoJSON, or a 4xx naming what is wrong."""
    geom_doc = doc.get("geometry") if doc.get("type") == "Feature" else doc
    if not isinstance(geom_doc, dict):
        raise BadParameter("geometry: expected a GeoJSON Polygon or MultiPolygon (or a Feature of one).",
                           parameter="geometry", allowed=["Polygon", "MultiPolygon"])  # fmt: skip
    kind = geom_doc.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise BadParameter(f"geometry: expected type Polygon or MultiPolygon, got {kind!r}.",
                           parameter="geometry.type", allowed=["Polygon", "MultiPolygon"])  # fmt: skip
    try:
        geom = shapely.geometry.shape(geom_doc)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise BadParameter(f"geometry: malformed GeoJSON coordinates ({exc}). Expected rings of [lon, lat] "
                           "positions, each ring closed.", parameter="geometry.coordinates") from None  # fmt: skip
    n = shapely.get_num_coordinates(geom)
    if n > max_vertices:
        raise PayloadTooLarge(f"geometry: {n} vertices; at most {max_vertices} are accepted. Simplify it first.",
                              parameter="geometry", allowed={"max_vertices": max_vertices})  # fmt: skip
    if geom.is_empty or not geom.is_valid:
        why = shapely.is_valid_reason(geom) if not geom.is_empty else "empty"
        raise BadParameter(f"geometry: not a valid polygon ({why}). Repair it (e.g. shapely.make_valid).",
                           parameter="geometry")  # fmt: skip
    w, s, e, nn = geom.bounds
    if not (w >= -180 and e <= 180 and s >= -90 and nn <= 90):
        raise BadParameter(f"geometry: coordinates must be lon/lat in EPSG:4326, got bounds {geom.bounds}.",
                           parameter="geometry.coordinates")  # fmt: skip
    km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0]) / 1e6
    if km2 > max_km2:
        raise PayloadTooLarge(f"geometry: {km2:,.0f} km2; at most {max_km2:,.0f} km2 are assessed per request. "
                              "Use the region tables for larger areas.", parameter="geometry",
                              allowed={"max_km2": max_km2})  # fmt: skip
    return geom


def control_ring(geom: shapely.Geometry, ring_km: float) -> shapely.Geometry:
    c = geom.centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +datum=WGS84 +units=m")
    g = gpd.GeoSeries([geom], crs=4326).to_crs(aeqd)
    ring = g.buffer(ring_km * 1000.0, quad_segs=16).difference(g)
    return ring.to_crs(4326).iloc[0]


def _grid(snap: Snapshot) -> Grid:
    from affine import Affine

    lv = snap.base
    return Grid(Affine(lv.dx, 0, lv.x0, 0, lv.dy, lv.y0), lv.shape, CRS.from_epsg(4326))


def assess(snap: Snapshot, req: AoiRequest, max_vertices: int, max_km2: float) -> dict[str, Any]:
    geom = parse_polygon(req.geometry, max_vertices, max_km2)
    e0 = snap.epochs[0] if req.start_epoch is None else req.start_epoch
    e1 = snap.epochs[-1] if req.end_epoch is None else req.end_epoch
    for name, e in (("start_epoch", e0), ("end_epoch", e1)):
        if e not in snap.epochs:
            raise NotFound(f"{name} {e} is not in the store.", parameter=name, allowed=snap.epochs)
    if e1 <= e0:
        raise BadParameter(f"end_epoch ({e1}) must come after start_epoch ({e0}).", parameter="end_epoch")
    grid = _grid(snap)
    ring = control_ring(geom, req.ring_km)
    areas = gpd.GeoDataFrame(geometry=[geom, ring], crs=4326)
    cov = coverage_from_entries(*exact_entries(areas, grid), grid.shape, 2)
    k0, k1 = snap.epochs.index(e0), snap.epochs.index(e1)
    s0 = snap.slices.get(snap.base, "soc_stock", k0).astype(np.float64)
    s1 = snap.slices.get(snap.base, "soc_stock", k1).astype(np.float64)
    both = np.isfinite(s0) & np.isfinite(s1)
    lc_class = None
    ring_ok = both
    if snap.cube is not None and "landcover" in snap.cube:
        lc = np.asarray(snap.cube["landcover"].sel(epoch=e0).values)
        inside = zonal_stats(lc.astype(np.float32), cov, grid.row_areas(), strata=lc.astype(np.uint8),
                             n_strata=254, minmax=False)[0]  # fmt: skip
        per_class = inside[:254, AREA]
        if per_class.max() > 0:
            lc_class = int(np.argmax(per_class))
            ring_ok = both & (lc == lc_class)
    row_area = grid.row_areas()

    def reduce(mask: np.ndarray, which: int) -> dict[str, Any]:
        a0 = zonal_stats(np.where(mask, s0, np.nan), cov, row_area, minmax=False)[which, -1]
        a1 = zonal_stats(np.where(mask, s1, np.nan), cov, row_area, minmax=False)[which, -1]
        valid = a0[AREA]
        m0 = a0[AREA_SUM] / valid if valid > 0 else None
        m1 = a1[AREA_SUM] / valid if valid > 0 else None
        out: dict[str, Any] = {"area_km2": a0[AREA_TOTAL] / 1e6, "valid_area_km2": valid / 1e6,
                               "stock_start": num(m0), "stock_end": num(m1)}  # fmt: skip
        if m0 is not None and m1 is not None:
            rate = (m1 - m0) / (e1 - e0)
            out.update(change=m1 - m0, rate=rate, rate_permille=1000 * rate / m0 if m0 > 0 else None,
                       progress_4p1000=(1000 * rate / m0) / 4 if m0 > 0 else None)  # fmt: skip
        else:
            out.update(change=None, rate=None, rate_permille=None, progress_4p1000=None)
        return out

    project = reduce(both, 0)
    if project["valid_area_km2"] == 0:
        raise BadParameter("geometry: the polygon covers no cell with data at both epochs (outside the maps, "
                           "on water or on an unmodelled surface).", parameter="geometry")  # fmt: skip
    control = reduce(ring_ok, 1)
    diff = None
    if project["rate"] is not None and control["rate"] is not None:
        diff = project["rate"] - control["rate"]
    return {"snapshot_id": snap.snapshot_id, "start_epoch": e0, "end_epoch": e1, "landcover_class": lc_class,
            "project": project, "control": control, "rate_difference": diff,
            "on_4p1000_path": None if project["rate_permille"] is None else project["rate_permille"] >= 4.0,
            "units": UNITS}  # fmt: skip


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/aoi", tags=["impact assessment"], responses=ERROR_RESPONSES)

    @r.post("/assess", response_model=AoiResult)
    def assess_(request: Request, snap: SnapshotDep, body: AoiRequest) -> Response:
        """A project polygon's SOC stock change and rate vs a same-land-cover control ring; 4 per 1000 path."""
        s = request.app.state.settings
        return json_response(assess(snap, body, s.max_aoi_vertices, s.max_aoi_km2), snap)

    return r
