"""The published products in STAC 1.1: one collection (every map a Zarr array asset with its
raster:bands; the region tables one more asset) and one item per epoch.

Extensions: raster (bands: unit, nodata, data type, resolution), datacube (``cube:dimensions``
x / y / epoch and ``cube:variables``: what a client slices), xarray-assets (``xarray:open_kwargs``:
how to open the asset with ``xarray.open_zarr``), projection (``proj:code`` EPSG:4326 on items).
The store is an Icechunk repository: a reader opens the snapshot ``icechunk:snapshot_id`` names
(``icechunk.Repository.open(...).readonly_session(snapshot_id=...)``) and passes its ``store`` and
the open kwargs to xarray; a plain Zarr reader of a Zarr copy of it needs only the kwargs.
Item and link hrefs are made by the caller (the API knows its public base URL).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from pipeline import cf
from pipeline.indicators.registry import BY_ID, INDICATORS, STRATA, TABLE_UNITS

RASTER_EXT = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
DATACUBE_EXT = "https://stac-extensions.github.io/datacube/v2.2.0/schema.json"
XARRAY_EXT = "https://stac-extensions.github.io/xarray-assets/v1.0.0/schema.json"
PROJ_EXT = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
COLLECTION_ID = "soc-observatory-indicators"
ZARR = "application/vnd+zarr"


def _grid(maps: xr.Dataset) -> tuple[list[float], float, float]:
    x, y = maps["x"].values, maps["y"].values
    rx, ry = abs(float(x[1] - x[0])), abs(float(y[1] - y[0]))
    bbox = [
        float(x.min()) - rx / 2,
        float(y.min()) - ry / 2,
        float(x.max()) + rx / 2,
        float(y.max()) + ry / 2,
    ]
    return bbox, rx, ry


def _year(e: int) -> tuple[str, str]:
    return f"{e}-01-01T00:00:00Z", f"{e}-12-31T23:59:59Z"


def _map_assets(uri: str, maps: xr.Dataset, rx: float, snapshot: str) -> dict[str, Any]:
    assets: dict[str, Any] = {}
    for name, da in maps.data_vars.items():
        ind = BY_ID.get(str(name)) or BY_ID["soc_stock"]
        band: dict[str, Any] = {
            "data_type": "uint8" if da.dtype == np.uint8 else "float32",
            "nodata": 255 if da.dtype == np.uint8 else "nan",
            "unit": cf.label(da.attrs) or ind.unit,
            "spatial_resolution": rx,
        }
        assets[str(name)] = {
            "href": f"{uri}#/indicators/{name}",
            "type": ZARR,
            "title": da.attrs.get("long_name", str(name)),
            "description": ind.definition,
            "roles": ["data"],
            "raster:bands": [band],
            "soc:dims": list(da.dims),
            "xarray:open_kwargs": {"group": "indicators", "consolidated": False, "zarr_format": 3},
            "icechunk:snapshot_id": snapshot,
        }
    return assets


def _cube(maps: xr.Dataset, bbox: list[float], rx: float, ry: float) -> dict[str, Any]:
    epochs = [int(e) for e in maps["epoch"].values]
    dims: dict[str, Any] = {
        "x": {
            "type": "spatial",
            "axis": "x",
            "extent": [bbox[0], bbox[2]],
            "step": rx,
            "reference_system": 4326,
        },
        "y": {
            "type": "spatial",
            "axis": "y",
            "extent": [bbox[1], bbox[3]],
            "step": -ry,
            "reference_system": 4326,
        },
        "epoch": {
            "type": "temporal",
            "extent": [_year(epochs[0])[0], _year(epochs[-1])[1]],
            "values": [_year(e)[0] for e in epochs],
            "description": "calendar year of the epoch (the soil and land-cover data of that year)",
        },
    }
    variables = {
        str(name): {
            "dimensions": list(da.dims),
            "type": "data",
            "unit": cf.label(da.attrs) or (BY_ID.get(str(name)) or BY_ID["soc_stock"]).unit,
            "description": (BY_ID.get(str(name)) or BY_ID["soc_stock"]).definition,
        }
        for name, da in maps.data_vars.items()
    }
    return {"cube:dimensions": dims, "cube:variables": variables}


def stac_collection(uri: str, maps: xr.Dataset, input_snapshot: str | None, snapshot: str) -> dict[str, Any]:
    """The collection of the published products, asset hrefs under ``uri``; no links."""
    bbox, rx, ry = _grid(maps)
    epochs = [int(e) for e in maps["epoch"].values]
    assets = _map_assets(uri, maps, rx, snapshot)
    assets["tables"] = {
        "href": f"{uri}#/tables",
        "type": ZARR,
        "roles": ["data", "metadata"],
        "title": "Region tables (region x epoch x stratum)",
        "description": "Columns and units: " + ", ".join(f"{k} [{v}]" for k, v in TABLE_UNITS.items()),
        "xarray:open_kwargs": {"group": "tables", "consolidated": False, "zarr_format": 3},
        "icechunk:snapshot_id": snapshot,
    }
    return {
        "type": "Collection",
        "stac_version": "1.1.0",
        "stac_extensions": [RASTER_EXT, DATACUBE_EXT, XARRAY_EXT],
        "id": COLLECTION_ID,
        "title": "soc-observatory: SOC and soil-health indicators",
        "description": (
            "SOC stock 0-30 cm, change, rates, 4 per 1000 progress, SOC/clay soil-health ratio and "
            f"trends per epoch, from cube snapshot {input_snapshot} (indicator "
            f"snapshot {snapshot}); region tables for every level of the hierarchy."
        ),
        "license": "other",
        "keywords": ["soil organic carbon", "soil health", "4 per 1000", "MRV"],
        "extent": {
            "spatial": {"bbox": [bbox]},
            "temporal": {"interval": [[_year(epochs[0])[0], _year(epochs[-1])[1]]]},
        },
        "summaries": {
            "soc:epochs": epochs,
            "soc:strata": list(STRATA),
            "soc:indicators": [
                {"id": i.id, "unit": i.unit, "definition": i.definition, "reference": i.reference}
                for i in INDICATORS
            ],
        },
        "soc:snapshot_id": snapshot,
        "soc:input_snapshot": input_snapshot,
        **_cube(maps, bbox, rx, ry),
        "assets": assets,
        "links": [],
    }


def item_ids(maps: xr.Dataset) -> list[str]:
    return [f"indicators-{int(e)}" for e in maps["epoch"].values]


def stac_item(uri: str, maps: xr.Dataset, snapshot: str, epoch: int) -> dict[str, Any]:
    """The maps of one epoch as an item (each map's asset selects that epoch); no links."""
    bbox, rx, _ = _grid(maps)
    epochs = [int(e) for e in maps["epoch"].values]
    w, s, e, n = bbox
    assets = _map_assets(
        uri, maps.drop_vars([v for v in maps.data_vars if "epoch" not in maps[v].dims]), rx, snapshot
    )
    for a in assets.values():
        a["soc:select"] = {"epoch": epoch, "epoch_index": epochs.index(epoch)}
    start, end = _year(epoch)
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": [RASTER_EXT, XARRAY_EXT, PROJ_EXT],
        "id": f"indicators-{epoch}",
        "collection": COLLECTION_ID,
        "bbox": bbox,
        "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
        "properties": {
            "datetime": None,
            "start_datetime": start,
            "end_datetime": end,
            "proj:code": "EPSG:4326",
            "soc:epoch": epoch,
            "soc:snapshot_id": snapshot,
        },
        "assets": assets,
        "links": [],
    }
