"""Small STAC catalogs holding only what a real soil product gives, in its encoding.

- ``gnatsgo``: like Planetary Computer's ``gnatsgo-rasters``: asset ``soc0_30``, float32 g C/m2
  over 0-30 cm, nodata -9999, no scale; one release (one item).
- ``soilgrids``: like SoilGrids 2.0 mean maps: ``soc`` int16 dg/kg and ``bdod`` int16 cg/cm3 at
  0-5, 5-15 and 15-30 cm, nodata -32768, no coarse fragments and no quantiles; one item a year.
- ``openlandmap``: like OpenLandMap organic carbon: uint8 "x 5 g/kg" at point depths 0, 10 and
  30 cm, nodata 255 (no raster:bands scale); one item a year.

Every raster is written on the grid the tests' jobs use (1-degree cells anchored at -180/90),
so each job cell is one pixel and the expected values are the written ones. ``write_catalog``
writes a self-contained catalog that ``serve_catalog`` (rustac) serves; ``source_yaml`` writes
the matching source definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pystac
import yaml
from rasterio.transform import from_origin

from tests.support.cogs import write_cog

COG = "image/tiff; application=geotiff; profile=cloud-optimized"
PROJ_EXT = "https://stac-extensions.github.io/projection/v1.1.0/schema.json"
RASTER_EXT = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
BBOX = (36.0, -1.0, 38.0, 1.0)  # 2 x 2 one-degree cells inside Kenya, symmetric about the equator
RES = 1.0
SG_DEPTHS = ((0, 5), (5, 15), (15, 30))
OLM_DEPTHS = (0, 10, 30)


@dataclass(frozen=True)
class Asset:
    key: str
    values: np.ndarray  # stored numbers (rows north to south)
    nodata: float
    unit: str | None  # raster:bands unit (None: the catalog gives none, like OpenLandMap)


def _write_cog(path: Path, a: Asset) -> None:
    w, _, _, n = BBOX
    write_cog(path, a.values, crs="EPSG:4326", transform=from_origin(w, n, RES, RES), nodata=a.nodata)


def write_catalog(root: Path, collection: str, items: dict[int, list[Asset]]) -> Path:
    """A self-contained catalog at ``root`` with one collection and an item per year."""
    w, s, e, n = BBOX
    col = pystac.Collection(
        id=collection,
        description=f"test fixture shaped like {collection}",
        license="proprietary",
        extent=pystac.Extent(
            pystac.SpatialExtent([list(BBOX)]),
            pystac.TemporalExtent([[datetime(min(items), 1, 1, tzinfo=UTC), None]]),
        ),
    )
    cat = pystac.Catalog(id=f"{collection}-fixture", description="real-product fixture")
    cat.add_child(col)
    for year, assets in items.items():
        shape = assets[0].values.shape
        item = pystac.Item(
            id=f"{collection}-{year}",
            geometry={"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
            bbox=list(BBOX),
            datetime=datetime(year, 7, 1, tzinfo=UTC),
            properties={
                "proj:epsg": 4326,
                "proj:shape": list(shape),
                "proj:transform": list(from_origin(w, n, RES, RES))[:6],
            },
            stac_extensions=[PROJ_EXT, RASTER_EXT],
            collection=collection,
        )
        for a in assets:
            path = root / "data" / str(year) / f"{a.key}.tif"
            _write_cog(path, a)
            band: dict[str, object] = {"data_type": a.values.dtype.name, "nodata": a.nodata}
            if a.unit is not None:
                band["unit"] = a.unit
            item.add_asset(
                a.key,
                pystac.Asset(
                    href=path.resolve().as_uri(),
                    media_type=COG,
                    roles=["data"],
                    extra_fields={"raster:bands": [band]},
                ),
            )
        col.add_item(item)
    cat.normalize_hrefs(root.as_posix() + "/")
    cat.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return root


def source_yaml(
    path: Path,
    name: str,
    collection: str,
    variables: dict[str, dict],
    temporal: str = "epoch",
    stac_url: str | None = None,
) -> Path:
    """A source definition file (``pipeline.config.SourceDef``)."""
    doc = {"name": name, "collection": collection, "temporal": temporal, "variables": variables}
    if stac_url is not None:
        doc["stac_url"] = stac_url
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# ---- the products ----------------------------------------------------------------------


def gnatsgo(root: Path, year: int, soc0_30: np.ndarray) -> Path:
    """gNATSGO-like: float32 g C/m2 (-9999 where NaN is given)."""
    dn = np.where(np.isfinite(soc0_30), soc0_30, -9999).astype(np.float32)
    return write_catalog(root, "gnatsgo-rasters", {year: [Asset("soc0_30", dn, -9999, "g C/m2")]})


def gnatsgo_source(path: Path, temporal: str = "static", stac_url: str | None = None) -> Path:
    var = {
        "unit": "g C/m2",
        "resampling": "nearest",
        "layers": [{"asset": "soc0_30", "top": 0, "bottom": 30}],
    }
    return source_yaml(path, "gnatsgo-fixture", "gnatsgo-rasters", {"soc_stock": var}, temporal, stac_url)


def worldcover(root: Path, by_year: dict[int, np.ndarray]) -> Path:
    """ESA WorldCover-like: asset ``map``, uint8 class codes, nodata 0; one item a year."""
    items = {y: [Asset("map", codes.astype(np.uint8), 0, None)] for y, codes in by_year.items()}
    return write_catalog(root, "esa-worldcover", items)


def worldcover_source(path: Path, stac_url: str | None = None) -> Path:
    var = {"unit": "class", "resampling": "nearest", "layers": [{"asset": "map"}]}
    return source_yaml(path, "worldcover-fixture", "esa-worldcover", {"landcover": var}, "epoch", stac_url)


def soilgrids(root: Path, by_year: dict[int, dict[str, np.ndarray]]) -> Path:
    """SoilGrids-like: ``by_year[y]["soc"|"bdod"]`` of shape (3 depths, rows, cols) in stored
    integers (dg/kg, cg/cm3), -32768 for no data; no cfvo and no quantiles."""
    items = {
        year: [
            Asset(f"{var}_{top}-{bot}cm_mean", layers[var][k].astype(np.int16), -32768, None)
            for var in ("soc", "bdod")
            for k, (top, bot) in enumerate(SG_DEPTHS)
        ]
        for year, layers in by_year.items()
    }
    return write_catalog(root, "soilgrids", items)


def soilgrids_source(path: Path) -> Path:
    def var(name: str, unit: str) -> dict:
        layers = [{"asset": f"{name}_{t}-{b}cm_mean", "top": t, "bottom": b} for t, b in SG_DEPTHS]
        return {"unit": unit, "resampling": "nearest", "layers": layers}

    variables = {"soc": var("soc", "dg/kg"), "bdod": var("bdod", "cg/cm3")}
    return source_yaml(path, "soilgrids-fixture", "soilgrids", variables)


def openlandmap(root: Path, by_year: dict[int, dict[str, np.ndarray]]) -> Path:
    """OpenLandMap-like: ``by_year[y]["soc"]`` uint8 "x 5 g/kg" and ``["bdod"]`` uint8 "x 10
    kg/m3", each (3 point depths, rows, cols), 255 for no data; no raster:bands unit."""
    items = {
        year: [
            Asset(f"{var}_b{d}cm", layers[var][k].astype(np.uint8), 255, None)
            for var in ("soc", "bdod")
            for k, d in enumerate(OLM_DEPTHS)
        ]
        for year, layers in by_year.items()
    }
    return write_catalog(root, "openlandmap", items)


def openlandmap_source(path: Path) -> Path:
    def var(name: str, unit: str) -> dict:
        layers = [{"asset": f"{name}_b{d}cm", "depth": d} for d in OLM_DEPTHS]
        return {"unit": unit, "nodata": 255, "resampling": "nearest", "layers": layers}

    variables = {"soc": var("soc", "5 g/kg"), "bdod": var("bdod", "10 kg/m3")}
    return source_yaml(path, "openlandmap-fixture", "openlandmap", variables)
