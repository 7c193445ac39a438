"""``socobs stac index SOURCE... --out DIR``: a static STAC catalog describing existing rasters.

Sources are Cloud-Optimized GeoTIFFs, other GeoTIFFs or GDAL VRTs: local files, folders (searched
recursively for ``*.tif``, ``*.tiff``, ``*.vrt``, ``*.nc``) or URLs GDAL reads (``https://``, ``s3://`` ...).
A folder's VRTs stand for the rasters they read: a file a VRT of the same folder search mosaics
is not an asset of its own (SoilGrids' layout: ``soc/soc_0-5cm_mean.vrt``, its overviews
``soc_0-5cm_mean.vrt.ovr`` and the folder ``soc/soc_0-5cm_mean/`` of GeoTIFF tiles indexes as
the one asset ``soc_0-5cm_mean``). Each raster is opened once with rasterio and becomes one asset:

- the asset key is the file name without its suffix and without the date in it
  (``soc_0-5cm_mean_2016.tif`` -> ``soc_0-5cm_mean``), so one variable has one key in every item
  and ``odc.stac.load(items, bands=[key])`` stacks it over time;
- rasters of the same date on the same grid (CRS, transform, shape) share one item;
- the date comes from ``--datetime`` or from the file name: a ``YYYYMMDD_YYYYMMDD`` range (as
  OpenLandMap names files) or a year standing alone (``_2016``);
- the projection extension (``proj:code`` or ``proj:wkt2`` when the CRS has no EPSG code,
  ``proj:shape``, ``proj:transform``, ``proj:bbox``) is on the item, and the raster extension's
  ``raster:bands`` (``nodata``, ``data_type``, ``scale``, ``offset``, ``unit``,
  ``spatial_resolution``: value = DN * scale + offset, in ``unit``) on each asset.

Local hrefs are absolute ``file://`` URIs (what rustac and odc-stac read); URLs are kept as given.
A collection has one CRS: rasters in several CRSs are refused (index them as separate
collections). The catalog is written in a temporary sibling directory and renamed into place,
so a failure leaves nothing behind; ``socobs stac serve DIR`` serves it.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pystac
import rasterio
from rasterio.errors import RasterioError
from rasterio.warp import transform_bounds

from pipeline.errors import CatalogError, clip

PROJ_EXT = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
RASTER_EXT = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
COG = "image/tiff; application=geotiff; profile=cloud-optimized"
GEOTIFF = "image/tiff; application=geotiff"
SUFFIXES = (".tif", ".tiff", ".vrt", ".nc")  # .nc: one variable per file (TerraClimate), its bands
URL_SCHEMES = ("http://", "https://", "s3://", "gs://", "az://", "/vsi")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_RANGE = re.compile(r"(?<![0-9])((?:19|20)[0-9]{6})_((?:19|20)[0-9]{6})(?![0-9])")
_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")
_WHEN = re.compile(r"^([0-9]{4})(?:-([0-9]{2})-([0-9]{2}))?$")


@dataclass(frozen=True)
class Period:
    """What an item covers: from ``start`` to ``end`` (UTC), named ``label`` in item ids."""

    start: datetime
    end: datetime
    label: str


@dataclass(frozen=True)
class Raster:
    """One indexed raster: its asset key, where it is, its grid and its bands."""

    source: str
    href: str
    key: str
    period: Period
    crs_wkt: str
    epsg: int | None
    crs_name: str
    transform: tuple[float, ...]
    shape: tuple[int, int]
    native_bbox: tuple[float, float, float, float]
    bbox: tuple[float, float, float, float]
    bands: list[dict[str, Any]]
    media_type: str | None


def _year_period(year: int) -> Period:
    return Period(datetime(year, 1, 1, tzinfo=UTC), datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC), str(year))


def parse_when(value: str) -> Period:
    """``--datetime``: a year (``2016``: the whole year) or a day (``2016-06-30``)."""
    m = _WHEN.match(value.strip())
    try:
        if m is None:
            raise ValueError
        year = int(m[1])
        if m[2] is None:
            return _year_period(year)
        day = datetime(year, int(m[2]), int(m[3]), tzinfo=UTC)
    except ValueError:
        raise CatalogError(
            f"--datetime: expected a year (2016) or a day (2016-06-30), got {clip(value)!r}. "
            "Pass the date the rasters describe, or leave it out to read it from the file names."
        ) from None
    return Period(day, day.replace(hour=23, minute=59, second=59), day.strftime("%Y-%m-%d"))


def period_from_name(stem: str) -> tuple[Period, str] | None:
    """The period a file name states, and the name without it; None when it states none."""
    m = _RANGE.search(stem)
    if m is not None:
        try:
            a = datetime.strptime(m[1], "%Y%m%d").replace(tzinfo=UTC)
            b = datetime.strptime(m[2], "%Y%m%d").replace(tzinfo=UTC, hour=23, minute=59, second=59)
        except ValueError:
            return None
        label = (
            str(a.year)
            if (a.month, a.day, b.month, b.day, a.year) == (1, 1, 12, 31, b.year)
            else f"{m[1]}-{m[2]}"
        )
        return Period(a, b, label), _cut(stem, m.start(), m.end())
    years = list(_YEAR.finditer(stem))
    if len(years) == 1:
        m = years[0]
        return _year_period(int(m[1])), _cut(stem, m.start(), m.end())
    return None


def _cut(stem: str, a: int, b: int) -> str:
    left, right = stem[:a].rstrip("_-. "), stem[b:].lstrip("_-. ")
    return f"{left}_{right}" if left and right else left or right


def is_url(source: str) -> bool:
    return source.startswith(URL_SCHEMES)


def find_sources(sources: Iterable[str]) -> list[str]:
    """The rasters named by ``sources`` (files, folders searched recursively, URLs), in order."""
    out: list[str] = []
    for source in sources:
        if is_url(source):
            out.append(source)
            continue
        path = Path(source)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not found:
                raise CatalogError(
                    f"{clip(path)}: no rasters in this folder. Expected GeoTIFF (.tif, .tiff), "
                    "VRT (.vrt) or one-variable NetCDF (.nc) files in it or its subfolders; pass the folder that holds them, or "
                    "the files themselves."
                )
            out += _without_vrt_members([p.resolve() for p in found])
        elif path.is_file():
            out.append(str(path.resolve()))
        else:
            raise CatalogError(
                f"{clip(source)}: no such file or folder. Expected a raster file (.tif, .tiff, .vrt, .nc), "
                "a folder of them or a URL (https://, s3://); check the path."
            )
    if not out:
        raise CatalogError(
            "no sources: expected at least one raster file, folder or URL after `socobs stac index`."
        )
    return out


def _without_vrt_members(found: list[Path]) -> list[str]:
    """``found`` without the files its VRTs read (a VRT that cannot be opened keeps them all;
    ``read_raster`` then says why it cannot be read)."""
    members: set[Path] = set()
    for vrt in (p for p in found if p.suffix.lower() == ".vrt"):
        try:
            with rasterio.open(vrt) as src:
                members |= {Path(f).resolve() for f in src.files} - {vrt}
        except RasterioError:
            continue
    return [str(p) for p in found if p not in members]


def _href(source: str) -> str:
    return source if is_url(source) else Path(source).as_uri()


def _nodata(value: float | None) -> float | str | None:
    if value is None:
        return None
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return int(value) if float(value).is_integer() else float(value)


def read_raster(source: str, when: Period | None) -> Raster:
    """Open ``source`` with rasterio and describe it (refused: unreadable, no CRS, no date)."""
    name = source.rstrip("/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if name.lower().endswith(SUFFIXES) else name
    found = period_from_name(stem)
    if when is not None:
        period, key = when, (found[1] if found else stem)
    elif found is not None:
        period, key = found
    else:
        raise CatalogError(
            f"{clip(source)}: no date in the file name. Expected a year (soc_2016.tif) or a "
            "YYYYMMDD_YYYYMMDD range in the name; pass --datetime YEAR (or YYYY-MM-DD) to give "
            "every raster of this call that date."
        )
    try:
        with rasterio.open(source) as src:
            if src.crs is None:
                raise CatalogError(
                    f"{clip(source)}: the raster has no coordinate reference system. Expected a "
                    "georeferenced raster; set its CRS (e.g. `gdal_edit.py -a_srs EPSG:4326 FILE`) "
                    "and index it again."
                )
            epsg = src.crs.to_epsg()
            res = abs(src.transform.a)
            bands = []
            for i in range(src.count):
                band: dict[str, Any] = {
                    "data_type": src.dtypes[i],
                    "scale": float(src.scales[i]),
                    "offset": float(src.offsets[i]),
                    "spatial_resolution": res,
                }
                nodata = _nodata(src.nodatavals[i])
                if nodata is not None:
                    band["nodata"] = nodata
                if src.units[i]:
                    band["unit"] = src.units[i]
                bands.append(band)
            b = src.bounds
            native = (b.left, b.bottom, b.right, b.top)
            bbox = transform_bounds(src.crs, "EPSG:4326", *native, densify_pts=21)
            tiled = bool(src.block_shapes and src.block_shapes[0][0] < src.height) and bool(src.overviews(1))
            driver = src.driver
            info = (src.crs.to_wkt(), src.crs.to_string(), tuple(src.transform)[:6], (src.height, src.width))
    except RasterioError as exc:
        raise CatalogError(
            f"{clip(source)}: not a readable raster ({clip(exc)}). Expected a GeoTIFF or VRT that "
            "GDAL opens (`gdalinfo` shows why it does not); fix or remove the file and index again."
        ) from None
    if not all(math.isfinite(v) for v in bbox):
        raise CatalogError(
            f"{clip(source)}: its bounds {native} in {info[1]} have no longitude/latitude "
            "equivalent. Expected a raster whose extent lies on the Earth; check its CRS."
        )
    w, s, e, n = bbox
    lonlat = (max(w, -180.0), max(s, -90.0), min(e, 180.0), min(n, 90.0))
    media = None if driver == "VRT" else (COG if tiled else GEOTIFF)  # VRT: no registered type
    return Raster(
        source,
        _href(source),
        key,
        period,
        info[0],
        epsg,
        info[1],
        info[2],
        info[3],
        native,
        lonlat,
        bands,
        media,
    )


def _check_target(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise CatalogError(
            f"{clip(directory)}: --out exists and is not an empty folder. Expected a new or empty "
            "folder for the catalog; choose another path or remove this one first."
        )


def _check_id(collection_id: str) -> None:
    if not _ID.match(collection_id):
        raise CatalogError(
            f"--collection: expected an id of letters, digits, '_', '-' or '.' (at most 100, starting "
            f"with a letter or digit), got {clip(collection_id)!r}."
        )


def _one_crs(rasters: list[Raster]) -> None:
    first = rasters[0]
    for r in rasters[1:]:
        if r.crs_wkt != first.crs_wkt:
            raise CatalogError(
                f"the rasters are in more than one CRS: {clip(first.source)} is in {first.crs_name} and "
                f"{clip(r.source)} in {r.crs_name}. Expected one CRS per collection (one grid for "
                "odc-stac to load): index each CRS into its own collection (--collection, --out), or "
                "reproject them (gdalwarp -t_srs) first."
            )


def _items(rasters: list[Raster], collection_id: str) -> list[pystac.Item]:
    groups: dict[tuple[Any, ...], list[Raster]] = {}
    for r in rasters:
        groups.setdefault((r.period.start, r.period.end, r.transform, r.shape), []).append(r)
    per_label: dict[str, int] = {}
    for members in groups.values():
        per_label[members[0].period.label] = per_label.get(members[0].period.label, 0) + 1
    seen: dict[str, int] = {}
    items = []
    for members in groups.values():
        first = members[0]
        label = first.period.label
        seen[label] = seen.get(label, 0) + 1
        item_id = f"{collection_id}-{label}" + (f"-{seen[label]}" if per_label[label] > 1 else "")
        w, s, e, n = _union(r.bbox for r in members)
        mid = (first.period.start + (first.period.end - first.period.start) / 2).replace(microsecond=0)
        props: dict[str, Any] = {
            "proj:code": f"EPSG:{first.epsg}" if first.epsg else None,
            "proj:shape": list(first.shape),
            "proj:transform": list(first.transform),
            "proj:bbox": list(first.native_bbox),
        }
        if not first.epsg:
            props["proj:wkt2"] = first.crs_wkt
        item = pystac.Item(
            id=item_id,
            geometry={"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
            bbox=[w, s, e, n],
            datetime=mid,
            start_datetime=first.period.start,
            end_datetime=first.period.end,
            collection=collection_id,
            properties=props,
            stac_extensions=[PROJ_EXT, RASTER_EXT],
        )
        owners: dict[str, str] = {}
        for r in members:
            if r.key in item.assets:
                raise CatalogError(
                    f"{clip(owners[r.key])} and {clip(r.source)} give the same asset key {r.key!r} "
                    f"in item {item_id!r} (same date and grid). Expected one raster per variable and "
                    "date: rename one of them, or index them into separate collections."
                )
            owners[r.key] = r.source
            item.add_asset(
                r.key,
                pystac.Asset(
                    href=r.href,
                    media_type=r.media_type,
                    roles=["data"],
                    title=r.key,
                    extra_fields={"raster:bands": r.bands},
                ),
            )
        items.append(item)
    return items


def _union(boxes: Iterable[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    ws, ss, es, ns = zip(*boxes, strict=True)
    return (min(ws), min(ss), max(es), max(ns))


def build_index(
    sources: list[str],
    out: str | Path,
    collection_id: str,
    *,
    title: str | None = None,
    description: str | None = None,
    license: str = "other",
    when: str | None = None,
) -> tuple[Path, list[pystac.Item]]:
    """Index ``sources`` into a new static catalog at ``out`` (catalog.json + one collection);
    returns catalog.json's path and the items. Everything is checked before anything is
    written."""
    _check_id(collection_id)
    target = Path(out).resolve()
    _check_target(target)
    period = parse_when(when) if when is not None else None
    rasters = [read_raster(s, period) for s in find_sources(sources)]
    _one_crs(rasters)
    items = _items(rasters, collection_id)
    bbox = _union(r.bbox for r in rasters)
    start = min(r.period.start for r in rasters)
    end = max(r.period.end for r in rasters)
    catalog = pystac.Catalog(
        id=f"{collection_id}-catalog",
        title=title or collection_id,
        description=f"Static STAC catalog written by `socobs stac index` for {collection_id}.",
    )
    collection = pystac.Collection(
        id=collection_id,
        title=title or collection_id,
        description=description or f"{len(rasters)} rasters indexed by `socobs stac index`.",
        license=license,
        extent=pystac.Extent(pystac.SpatialExtent([list(bbox)]), pystac.TemporalExtent([[start, end]])),
        stac_extensions=[PROJ_EXT, RASTER_EXT],
    )
    catalog.add_child(collection)
    collection.add_items(items)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    work.chmod(0o755)
    try:
        catalog.normalize_hrefs(work.as_posix() + "/")
        catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
        if target.exists():
            target.rmdir()
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target / "catalog.json", items
