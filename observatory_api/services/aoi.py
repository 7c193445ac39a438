"""A project polygon's SOC change against a control ring (objective E3, impact assessment).

The control is the ring of ``ring_km`` around the polygon (geodesic buffer, computed in an
azimuthal equidistant projection centred on the polygon), restricted to cells of the polygon's
dominant land-cover class at the start epoch: same land use, same neighbourhood, no project. Both
areas are reduced with exact coverage fractions and true cell areas (the zonal kernel), over cells
valid at both epochs, so the two rates compare like with like. Change, rates and 4 per 1000
progress come from ``kernels.change`` (linear convention), as for the maps and tables.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Geod

from kernels.change import change_and_rates
from kernels.zonal import AREA, AREA_SUM, AREA_TOTAL, zonal_stats
from observatory_api.errors import BadParameter, NotFound, PayloadTooLarge
from observatory_api.reader import Snapshot
from observatory_api.services.common import num
from pipeline.zonal import Grid, coverage_from_entries, exact_entries

UNITS = {
    "stock": "t C/ha",
    "change": "t C/ha",
    "rate": "t C/ha/yr",
    "rate_permille": "permille/yr",
    "progress_4p1000": "1",
    "area": "km2",
}


def parse_polygon(doc: dict[str, Any], max_vertices: int, max_km2: float) -> shapely.Geometry:
    """A valid (Multi)Polygon from GeoJSON, or a 4xx naming what is wrong."""
    geom_doc = doc.get("geometry") if doc.get("type") == "Feature" else doc
    if not isinstance(geom_doc, dict):
        raise BadParameter(
            "geometry: expected a GeoJSON Polygon or MultiPolygon (or a Feature of one).",
            parameter="geometry",
            allowed=["Polygon", "MultiPolygon"],
        )
    kind = geom_doc.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise BadParameter(
            f"geometry: expected type Polygon or MultiPolygon, got {kind!r}.",
            parameter="geometry.type",
            allowed=["Polygon", "MultiPolygon"],
        )
    try:
        geom = shapely.geometry.shape(geom_doc)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise BadParameter(
            f"geometry: malformed GeoJSON coordinates ({exc}). Expected rings of [lon, lat] "
            "positions, each ring closed.",
            parameter="geometry.coordinates",
        ) from None
    n = shapely.get_num_coordinates(geom)
    if n > max_vertices:
        raise PayloadTooLarge(
            f"geometry: {n} vertices; at most {max_vertices} are accepted. Simplify it first.",
            parameter="geometry",
            allowed={"max_vertices": max_vertices},
        )
    if geom.is_empty or not geom.is_valid:
        why = shapely.is_valid_reason(geom) if not geom.is_empty else "empty"
        raise BadParameter(
            f"geometry: not a valid polygon ({why}). Repair it (e.g. shapely.make_valid).",
            parameter="geometry",
        )
    w, s, e, nn = geom.bounds
    if not (w >= -180 and e <= 180 and s >= -90 and nn <= 90):
        raise BadParameter(
            f"geometry: coordinates must be lon/lat in EPSG:4326, got bounds {geom.bounds}.",
            parameter="geometry.coordinates",
        )
    km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0]) / 1e6
    if km2 > max_km2:
        raise PayloadTooLarge(
            f"geometry: {km2:,.0f} km2; at most {max_km2:,.0f} km2 are assessed per request. "
            "Use the region tables for larger areas.",
            parameter="geometry",
            allowed={"max_km2": max_km2},
        )
    return geom


def control_ring(geom: shapely.Geometry, ring_km: float) -> shapely.Geometry:
    c = geom.centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +datum=WGS84 +units=m")
    g = gpd.GeoSeries([geom], crs=4326).to_crs(aeqd)
    ring = g.buffer(ring_km * 1000.0, quad_segs=16).difference(g)
    return ring.to_crs(4326).iloc[0]


def epochs_of(snap: Snapshot, start: int | None, end: int | None) -> tuple[int, int]:
    """The start and end epochs (default: baseline and latest), both held, start before end."""
    e0 = snap.epochs[0] if start is None else start
    e1 = snap.epochs[-1] if end is None else end
    for name, e in (("start_epoch", e0), ("end_epoch", e1)):
        if e not in snap.epochs:
            raise NotFound(f"{name} {e} is not in the store.", parameter=name, allowed=snap.epochs)
    if e1 <= e0:
        raise BadParameter(f"end_epoch ({e1}) must come after start_epoch ({e0}).", parameter="end_epoch")
    return e0, e1


def area_result(stats0: np.ndarray, stats1: np.ndarray, years: int) -> dict[str, Any]:
    """Area, valid area, mean stocks and (through ``kernels.change``) change, rates, progress."""
    valid = float(stats0[AREA])
    m0 = float(stats0[AREA_SUM]) / valid if valid > 0 else float("nan")
    m1 = float(stats1[AREA_SUM]) / valid if valid > 0 else float("nan")
    r = {k: v[0] for k, v in change_and_rates([m1], [m0], years).items()}
    return {
        "area_km2": float(stats0[AREA_TOTAL]) / 1e6,
        "valid_area_km2": valid / 1e6,
        "stock_start": num(m0),
        "stock_end": num(m1),
        "change": num(r["soc_stock_change"]),
        "rate": num(r["soc_change_rate"]),
        "rate_permille": num(r["soc_change_rate_permille"]),
        "progress_4p1000": num(r["progress_4p1000"]),
    }


def assess(
    snap: Snapshot,
    geometry: dict[str, Any],
    start_epoch: int | None,
    end_epoch: int | None,
    ring_km: float,
    max_vertices: int,
    max_km2: float,
) -> dict[str, Any]:
    """The assessment of the polygon ``geometry`` (GeoJSON) between two epochs of ``snap``."""
    geom = parse_polygon(geometry, max_vertices, max_km2)
    e0, e1 = epochs_of(snap, start_epoch, end_epoch)
    lv = snap.base
    grid = Grid(Affine(lv.dx, 0, lv.x0, 0, lv.dy, lv.y0), lv.shape, CRS.from_epsg(4326))
    ring = control_ring(geom, ring_km)
    areas = gpd.GeoDataFrame(geometry=[geom, ring], crs=4326)
    cov = coverage_from_entries(*exact_entries(areas, grid), grid.shape, 2)
    k0, k1 = snap.epochs.index(e0), snap.epochs.index(e1)
    s0 = snap.slices.get(lv, "soc_stock", k0).astype(np.float64)
    s1 = snap.slices.get(lv, "soc_stock", k1).astype(np.float64)
    both = np.isfinite(s0) & np.isfinite(s1)
    row_area = grid.row_areas()
    lc_class = None
    ring_ok = both
    if snap.cube is not None and "landcover" in snap.cube:
        lc = np.asarray(snap.cube["landcover"].sel(epoch=e0).values)
        inside = zonal_stats(
            lc.astype(np.float32), cov, row_area, strata=lc.astype(np.uint8), n_strata=254, minmax=False
        )[0]
        per_class = inside[:254, AREA]
        if per_class.max() > 0:
            lc_class = int(np.argmax(per_class))
            ring_ok = both & (lc == lc_class)

    def reduce(mask: np.ndarray, which: int) -> dict[str, Any]:
        a0 = zonal_stats(np.where(mask, s0, np.nan), cov, row_area, minmax=False)[which, -1]
        a1 = zonal_stats(np.where(mask, s1, np.nan), cov, row_area, minmax=False)[which, -1]
        return area_result(a0, a1, e1 - e0)

    project = reduce(both, 0)
    if project["valid_area_km2"] == 0:
        raise BadParameter(
            "geometry: the polygon covers no cell with data at both epochs (outside the maps, "
            "on water or on an unmodelled surface).",
            parameter="geometry",
        )
    control = reduce(ring_ok, 1)
    diff = None
    if project["rate"] is not None and control["rate"] is not None:
        diff = project["rate"] - control["rate"]
    progress = project["progress_4p1000"]
    return {
        "snapshot_id": snap.snapshot_id,
        "start_epoch": e0,
        "end_epoch": e1,
        "landcover_class": lc_class,
        "project": project,
        "control": control,
        "rate_difference": diff,
        "on_4p1000_path": None if progress is None else progress >= 1.0,
        "units": UNITS,
    }
