"""The region hierarchy: shipped countries plus user-registered sub-national and custom sets.

One table, one row per region: ``region_id, name, level, parent_id, geometry`` (EPSG:4326),
levels ``global`` -> ``region`` -> ``country`` -> ``subnational`` -> ``custom``. The shipped
file is ``catalogs/regions/regions.parquet`` (see ``pipeline.regions_build`` for its recipe);
sets added with ``socobs regions add`` live as one GeoParquet per set in a registry directory
(``var/regions`` by default) and are validated against everything already known.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from pipeline.errors import InputFileError, RegionError

COLUMNS = ["region_id", "name", "level", "parent_id", "geometry"]
LEVELS = ("global", "region", "country", "subnational", "custom")
USER_LEVELS = ("subnational", "custom")
_SET_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def catalogs_dir() -> Path:
    """The ``catalogs/`` data: ``$SOCOBS_CATALOGS`` when set (a deployment's own copy), else the
    copy inside the installed package (``pipeline/catalogs``, a link to the repository's
    top-level ``catalogs/`` in a checkout, real files in a wheel)."""
    env = os.environ.get("SOCOBS_CATALOGS")
    if env:
        return Path(env)
    return Path(str(resources.files("pipeline") / "catalogs"))


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
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


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
    return out, reprojected, repaired


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
        path, level=level, id_field=id_field, name_field=name_field,
        parent_field=parent_field, known=known, make_valid=make_valid,
    )  # fmt: skip
    registry.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".parquet.tmp")
    rows.to_parquet(tmp, index=False)
    tmp.replace(target)  # atomic: readers see the old set or the new one, never half of one
    return AddResult(target, len(rows), reprojected, repaired)
