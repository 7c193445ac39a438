"""The region hierarchy: shipped countries plus user-registered sub-national and custom sets.

One table, one row per region: ``region_id, name, level, parent_id, iso_official, bbox,
main_bbox, geometry`` (EPSG:4326; the two boxes are described at "Bounding boxes" below),
levels ``global`` -> ``region`` -> ``country`` -> ``subnational`` -> ``custom``. The shipped
file is ``catalogs/regions/regions.parquet`` (see ``pipeline.regions.build`` for its recipe);
sets added with ``socobs regions add`` live as one GeoParquet per set in a registry directory
(``var/regions`` by default) and are validated against everything already known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from pipeline.errors import InputFileError, RegionError
from pipeline.paths import catalogs_dir

COLUMNS = ["region_id", "name", "level", "parent_id", "geometry"]
LEVELS = ("global", "region", "country", "subnational", "custom")
USER_LEVELS = ("subnational", "custom")
_SET_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def shipped_regions_path() -> Path:
    return catalogs_dir() / "regions" / "regions.parquet"


def load_regions(registry: Path | None = None) -> gpd.GeoDataFrame:
    """The whole hierarchy: shipped countries, regions and global, plus every registered set."""
    path = shipped_regions_path()
    if not path.exists():
        raise InputFileError(
            f"{path}: the shipped region file is missing. Regenerate it with "
            "`socobs regions build` or restore it from the repository."
        )
    frames = [gpd.read_parquet(path)]
    if registry is not None and registry.exists():
        frames += [gpd.read_parquet(p) for p in sorted(registry.glob("*.parquet"))]
    out = pd.concat(frames, ignore_index=True)
    return with_bboxes(gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326"))


@dataclass(frozen=True)
class AddResult:
    path: Path
    count: int
    reprojected_from: str | None
    repaired: int


def _read_vector(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise InputFileError(
            f"{path}: no such file. Expected a vector file (GeoPackage, GeoJSON, shapefile or "
            "GeoParquet); check the path."
        )
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            return gpd.read_parquet(path)
        return gpd.read_file(path)
    except Exception as exc:  # pyogrio/pyarrow raise many types; all mean "unreadable"
        raise InputFileError(
            f"{path}: cannot read it as a vector file ({type(exc).__name__}: {exc}). Expected "
            "GeoPackage, GeoJSON, shapefile or GeoParquet; check the format and that the file "
            "is complete."
        ) from exc


def _field(gdf: gpd.GeoDataFrame, field: str, option: str, path: Path) -> pd.Series:
    if field not in gdf.columns:
        cols = ", ".join(c for c in gdf.columns if c != gdf.geometry.name)
        raise RegionError(
            f"{path}: {option} {field!r} is not a field of the file. Its fields are: {cols}. "
            f"Pass one of them with {option}."
        )
    return gdf[field]


def prepare_region_set(
    path: Path,
    *,
    level: str,
    id_field: str,
    name_field: str,
    parent_field: str | None,
    known: gpd.GeoDataFrame,
    make_valid: bool = False,
) -> tuple[gpd.GeoDataFrame, str | None, int]:
    """Read and validate a user region set; returns (rows, original CRS if reprojected, repaired).

    Checks, each with its own message: readable file, fields present, non-empty ids and
    names, ids unique within the file and not clashing with known regions, every parent known
    (in the hierarchy or in the file itself), a CRS that is set and known, polygonal and valid
    geometry (``make_valid`` repairs instead of refusing).
    """
    if level not in USER_LEVELS:
        raise RegionError(
            f"--level: expected one of {', '.join(USER_LEVELS)}, got {level!r}. Countries, "
            "regions and global ship with the project."
        )
    gdf = _read_vector(path)
    if len(gdf) == 0:
        raise RegionError(f"{path}: the file has no features. Expected at least one polygon.")
    ids = _field(gdf, id_field, "--id-field", path)
    names = _field(gdf, name_field, "--name-field", path)
    if parent_field is not None:
        parents = _field(gdf, parent_field, "--parent-field", path).astype("string")
    elif level == "custom":
        parents = pd.Series(["global"] * len(gdf), dtype="string")
    else:
        raise RegionError(
            f"{path}: sub-national regions need a parent: pass --parent-field naming the field "
            "that holds each unit's country id (ISO 3166-1 alpha-3, e.g. KEN)."
        )
    ids = ids.astype("string").str.strip()
    if ids.isna().any() or (ids == "").any():
        bad = [int(i) for i in ids.index[ids.isna() | (ids == "")][:5]]
        raise RegionError(f"{path}: {id_field!r} is empty in features {bad}. Every region needs an id.")
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise RegionError(
            f"{path}: duplicate ids in {id_field!r}: {dup[:10]}. Region ids must be unique; "
            "choose an id field with one value per feature."
        )
    clash = sorted(set(ids) & set(known["region_id"]))
    if clash:
        raise RegionError(
            f"{path}: ids already registered: {clash[:10]}. Prefix them (e.g. 'KEN-' + code) "
            "or remove the set that holds them (`socobs regions remove SET`)."
        )
    known_ids = set(known["region_id"]) | set(ids)
    missing = sorted({p for p in parents.dropna() if p not in known_ids})
    if missing or parents.isna().any():
        raise RegionError(
            f"{path}: parents that do not exist: {missing[:10] or ['<empty>']}. Each value of "
            f"{parent_field!r} must be a known region id (e.g. a country's ISO alpha-3 code such "
            "as KEN) or an id in this file."
        )
    if gdf.crs is None:
        raise RegionError(
            f"{path}: the file declares no CRS. Expected a georeferenced file; set its CRS "
            "(e.g. `ogr2ogr -a_srs EPSG:4326 out.gpkg in.gpkg`) and add it again."
        )
    try:
        crs = CRS.from_user_input(gdf.crs)
    except CRSError as exc:
        raise RegionError(f"{path}: unknown CRS {gdf.crs!r} ({exc}). Reproject it to EPSG:4326.") from exc
    reprojected = None
    if crs.to_epsg() != 4326:
        reprojected = crs.to_string()
        gdf = gdf.to_crs("EPSG:4326")
    geoms = gdf.geometry.values
    if shapely.is_empty(geoms).any() or pd.isna(geoms).any():
        bad = ids[shapely.is_empty(geoms) | pd.isna(geoms)].tolist()[:10]
        raise RegionError(f"{path}: regions without geometry: {bad}. Every region needs a polygon.")
    kinds = set(shapely.get_type_id(geoms).tolist())
    if not kinds <= {3, 6}:
        raise RegionError(
            f"{path}: expected Polygon or MultiPolygon geometries, got types "
            f"{sorted(shapely.geometry.base.GEOMETRY_TYPES[k] for k in kinds)}."
        )
    valid = shapely.is_valid(geoms)
    repaired = 0
    if not valid.all():
        if not make_valid:
            reasons = [
                f"{i}: {shapely.is_valid_reason(g)}" for i, g in zip(ids[~valid], geoms[~valid], strict=True)
            ][:5]
            raise RegionError(
                f"{path}: invalid geometries in {int((~valid).sum())} regions "
                f"({'; '.join(reasons)}). "
                "Repair them in a GIS, or pass --make-valid to repair them with shapely.make_valid."
            )
        repaired = int((~valid).sum())
        geoms = shapely.make_valid(geoms)
    out = gpd.GeoDataFrame(
        {
            "region_id": ids.to_numpy(dtype=object),
            "name": names.astype("string").fillna("").to_numpy(dtype=object),
            "level": level,
            "parent_id": parents.to_numpy(dtype=object),
            "iso_official": False,
        },
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
    )
    return with_bboxes(out), reprojected, repaired


def add_region_set(
    path: Path,
    *,
    registry: Path,
    set_name: str | None = None,
    level: str = "subnational",
    id_field: str,
    name_field: str,
    parent_field: str | None = None,
    make_valid: bool = False,
    replace: bool = False,
) -> AddResult:
    """Validate ``path`` and register it as one set; nothing is written unless all checks pass."""
    name = set_name or path.stem
    if not _SET_NAME.match(name):
        raise RegionError(f"--set: expected 1-64 letters, digits, '_' or '-', got {name!r}. Pass --set NAME.")
    target = registry / f"{name}.parquet"
    if target.exists() and not replace:
        raise RegionError(
            f"region set {name!r} is already registered ({target}). Pass --replace to replace "
            "it, or --set OTHER to add it under another name."
        )
    known = load_regions(registry)
    if replace and target.exists():
        old = gpd.read_parquet(target)
        known = known[~known["region_id"].isin(old["region_id"])]
    rows, reprojected, repaired = prepare_region_set(
        path,
        level=level,
        id_field=id_field,
        name_field=name_field,
        parent_field=parent_field,
        known=known,
        make_valid=make_valid,
    )
    registry.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".parquet.tmp")
    rows.to_parquet(tmp, index=False)
    tmp.replace(target)  # atomic: readers see the old set or the new one, never half of one
    return AddResult(target, len(rows), reprojected, repaired)


# --- Bounding boxes -------------------------------------------------------------------------
# Two boxes per region, both [west, south, east, north] in degrees, in the GeoJSON/STAC
# convention: a box that crosses the antimeridian has west > east (Fiji: [174.6, ..., -178.2, ...]).
#
# ``bbox`` covers the whole geometry with the smallest longitude interval on the circle: the
# longitude spans of the polygon parts are merged, and the box is the complement of the widest
# gap between them (when the widest gap is the one containing the antimeridian, west < east).
# A geometry that leaves no gap (Antarctica, the World) gets [-180, ..., 180, ...].
#
# ``main_bbox`` ignores far outlying islands, by this rule:
# 1. the polygon parts are weighed by area on the sphere (equal-area: longitude x sin(latitude));
# 2. the link distance is d = max(2 deg, sqrt(total area in square degrees) / 4);
# 3. parts within d of each other (plain lon/lat distance between copies simplified by d/20,
#    measured across the antimeridian too) form clusters, transitively (an island chain is one);
# 4. the main parts are the cluster with the largest area plus every other cluster that holds at
#    least 25 % of the area; ``main_bbox`` is their ``bbox`` (same convention).
# So Africa keeps Cape Verde, Madagascar and Mauritius but not Saint Helena, Kerguelen or
# Christmas Island; France keeps Corsica but not French Guiana or Reunion; the USA is the
# contiguous states (Alaska holds 15 % and lies 8.6 deg away, d = 6.9). Europe's main box still
# crosses the antimeridian: Russia's far east is no outlying island.
BBOX_COLUMNS = ("bbox", "main_bbox")
MAIN_MIN_LINK = 2.0  # degrees
MAIN_LINK_FRACTION = 0.25  # of sqrt(total area)
MAIN_CLUSTER_SHARE = 0.25  # of the total area


def _polygons(geom: Any) -> np.ndarray:
    """The non-empty polygon parts of ``geom`` (lines and points of a collection dropped)."""
    if geom is None or shapely.is_empty(geom):
        return np.empty(0, dtype=object)
    parts = shapely.get_parts(geom)
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    if not keep.any():  # a collection of polygons nested in collections, or only lines/points
        parts = shapely.get_parts(shapely.get_parts(parts))
        keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    return parts[keep]


def _sphere_area(parts: np.ndarray) -> np.ndarray:
    """Areas in square degrees at the equator (Lambert cylindrical equal-area: y = sin(lat))."""
    k = 180.0 / np.pi

    def cea(c: np.ndarray) -> np.ndarray:
        return np.column_stack([c[:, 0], np.sin(np.radians(c[:, 1])) * k])

    return np.asarray(shapely.area(shapely.transform(parts, cea)), dtype=float)


def lon_cover(west: np.ndarray, east: np.ndarray) -> tuple[float, float]:
    """The smallest interval on the longitude circle covering every [west_i, east_i] (each with
    west_i <= east_i, within [-180, 180]); returns (west, east), west > east when it crosses."""
    order = np.lexsort((east, west))
    merged: list[list[float]] = []
    for w, e in zip(west[order].tolist(), east[order].tolist(), strict=True):
        if merged and w <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([w, e])
    best_gap, best_i = merged[0][0] + 360.0 - merged[-1][1], -1  # the gap holding the antimeridian
    for i in range(len(merged) - 1):
        gap = merged[i + 1][0] - merged[i][1]
        if gap > best_gap:
            best_gap, best_i = gap, i
    if best_gap <= 0.0:
        return -180.0, 180.0
    if best_i < 0:
        return merged[0][0], merged[-1][1]
    return merged[best_i + 1][0], merged[best_i][1]


def _bbox_of(parts: np.ndarray) -> list[float] | None:
    if len(parts) == 0:
        return None
    b = shapely.bounds(parts)
    west, east = lon_cover(b[:, 0], b[:, 2])
    return [round(float(v), 6) for v in (west, b[:, 1].min(), east, b[:, 3].max())]


def _clusters(parts: np.ndarray, link: float) -> np.ndarray:
    """Cluster label of each part: parts closer than ``link`` degrees share a label, also across
    the antimeridian (parts near +180 are compared shifted by -360)."""
    # Simplified copies for the distances: the error (< link/10 per part) is far below the link.
    coarse = shapely.simplify(parts, link / 20.0, preserve_topology=True)
    # Parts whose envelopes fit in one cell of side link/sqrt(2) are within ``link`` of each
    # other: group them first, so that distances are computed between groups (far fewer pairs).
    b = shapely.bounds(coarse)
    cell = np.floor(b / (link / np.sqrt(2.0)))
    fits = (cell[:, 0] == cell[:, 2]) & (cell[:, 1] == cell[:, 3])
    key = np.where(fits[:, None], cell[:, :2], np.column_stack([np.full(len(b), np.inf), np.arange(len(b))]))
    _, group = np.unique(key, axis=0, return_inverse=True)
    group = group.ravel()
    order = np.argsort(group, kind="stable")
    groups = shapely.geometrycollections(coarse[order], indices=group[order])
    tree = shapely.STRtree(groups)
    left, right = tree.query(groups, predicate="dwithin", distance=link)
    east = np.flatnonzero(shapely.bounds(groups)[:, 2] > 180.0 - link)
    if east.size:
        shifted = shapely.transform(groups[east], lambda c: c - np.array([360.0, 0.0]))
        lw, rw = tree.query(shifted, predicate="dwithin", distance=link)
        left, right = np.concatenate([left, east[lw]]), np.concatenate([right, rw])
    label = np.arange(len(groups))
    while True:  # min-label propagation with pointer jumping: the connected components
        low = np.minimum(label[left], label[right])
        new = label.copy()
        np.minimum.at(new, left, low)
        np.minimum.at(new, right, low)
        new = new[new]
        if np.array_equal(new, label):
            return label[group]
        label = new


def main_parts(geom: Any) -> np.ndarray:
    """The polygon parts that ``main_bbox`` covers (the rule above)."""
    parts = _polygons(geom)
    if len(parts) <= 1:
        return parts
    area = _sphere_area(parts)
    total = float(area.sum())
    if total <= 0.0:
        return parts
    link = max(MAIN_MIN_LINK, MAIN_LINK_FRACTION * float(np.sqrt(total)))
    label = _clusters(parts, link)
    ids, inverse = np.unique(label, return_inverse=True)
    share = np.bincount(inverse, weights=area, minlength=len(ids)) / total
    keep = share >= MAIN_CLUSTER_SHARE
    keep[int(np.argmax(share))] = True
    return parts[keep[inverse]]


def region_bboxes(geom: Any) -> tuple[list[float] | None, list[float] | None]:
    """(bbox, main_bbox) of one geometry; (None, None) when it is empty."""
    return _bbox_of(_polygons(geom)), _bbox_of(main_parts(geom))


def with_bboxes(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` with the columns ``bbox`` and ``main_bbox`` filled where missing (sets registered
    before the columns existed get them on load; the shipped file carries them)."""
    out = gdf.copy()
    boxes: dict[str, list[Any]] = {
        c: list(out[c]) if c in out.columns else [None] * len(out) for c in BBOX_COLUMNS
    }
    for i, geom in enumerate(out.geometry):
        if _missing(boxes["bbox"][i]) or _missing(boxes["main_bbox"][i]):
            boxes["bbox"][i], boxes["main_bbox"][i] = region_bboxes(geom)
    for c, values in boxes.items():
        out[c] = pd.Series(values, index=out.index, dtype=object)
    return out


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))
