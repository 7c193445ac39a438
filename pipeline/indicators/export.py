"""Exports of the indicator job: region tables as CSV / Parquet / GeoJSON, and a STAC collection
describing the published products (maps as Zarr assets with the raster extension)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from pipeline.errors import PipelineError
from pipeline.indicators.registry import BY_ID, INDICATORS, STRATA, TABLE_UNITS
from pipeline.store import BRANCH, TABLES, StoreError, open_group, open_repo
from pipeline.store import INDICATORS as MAPS

Format = Literal["csv", "parquet", "geojson", "stac"]
FORMATS = ("csv", "parquet", "geojson", "stac")
RASTER_EXT = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"


def open_products(uri: str, snapshot: str | None = None) -> tuple[xr.Dataset, xr.Dataset, str]:
    """(maps, tables, snapshot id) of a snapshot (default: the tip)."""
    repo = open_repo(uri)
    session = (
        repo.readonly_session(snapshot_id=snapshot) if snapshot else repo.readonly_session(branch=BRANCH)
    )
    maps = open_group(session, MAPS, required=False, chunks={})
    tables = open_group(session, TABLES, required=False, chunks={})
    if maps is None or tables is None:
        raise StoreError(f"{uri}: no indicators in this snapshot. Run `socobs indicators JOB.yaml` first.")
    return maps, tables, str(session.snapshot_id)


def table_frame(
    tables: xr.Dataset, *, epoch: int | None = None, stratum: str | None = None, level: str | None = None
) -> pd.DataFrame:
    """The tables as one long frame: one row per region x epoch x stratum, with provenance."""
    t = tables.load()
    if epoch is not None:
        if epoch not in t["epoch"].values:
            raise PipelineError(f"--epoch: expected one of {t['epoch'].values.tolist()}, got {epoch}.")
        t = t.sel(epoch=[epoch])
    if stratum is not None:
        if stratum not in STRATA:
            raise PipelineError(f"--stratum: expected one of {', '.join(STRATA)}, got {stratum!r}.")
        t = t.sel(stratum=[stratum])
    if level is not None:
        levels = sorted(set(t["level"].values.tolist()))
        if level not in levels:
            raise PipelineError(f"--level: expected one of {', '.join(levels)}, got {level!r}.")
        t = t.isel(region=np.flatnonzero(t["level"].values == level))
    cols = [c for c in TABLE_UNITS if c in t]
    df = t[cols].to_dataframe().reset_index()
    meta = pd.DataFrame(
        {
            "region": t["region"].values,
            "name": t["name"].values,
            "level": t["level"].values,
            "parent_id": t["parent_id"].values,
        }
    )
    prov = pd.DataFrame(
        {
            "epoch": t["epoch"].values,
            "input_snapshot": t["input_snapshot"].values,
            "source_latest": t["source_latest"].values,
        }
    )
    df = df.drop(columns=[c for c in ("name", "level", "parent_id") if c in df.columns])
    df = df.merge(meta, on="region").merge(prov, on="epoch").rename(columns={"region": "region_id"})
    first = ["region_id", "name", "level", "parent_id", "epoch", "stratum"]
    return df[first + cols + ["input_snapshot", "source_latest"]]


def export_tables(
    uri: str,
    dest: Path,
    fmt: Format,
    *,
    snapshot: str | None = None,
    epoch: int | None = None,
    stratum: str | None = None,
    level: str | None = None,
    registry: Path | None = None,
) -> Path:
    """Write the tables (or the STAC collection) to ``dest``; returns the path written."""
    if fmt not in FORMATS:
        raise PipelineError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}.")
    maps, tables, snap = open_products(uri, snapshot)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "stac":
        dest.write_text(
            json.dumps(stac_collection(uri, maps, tables.attrs.get("input_snapshot"), snap), indent=2)
        )
        return dest
    if fmt == "geojson" and epoch is None:
        epoch = int(tables["epoch"].values[-1])  # one feature per region and stratum: the latest epoch
    df = table_frame(tables, epoch=epoch, stratum=stratum, level=level)
    df["snapshot_id"] = snap
    if fmt == "csv":
        df.to_csv(dest, index=False)
    elif fmt == "parquet":
        df.to_parquet(dest, index=False)
    else:
        from pipeline.regions.hierarchy import load_regions

        geoms = load_regions(registry)[["region_id", "geometry"]]
        geoms = geoms.set_geometry(geoms.geometry.simplify(0.01, preserve_topology=True))
        gdf = geoms.merge(df, on="region_id", how="inner")
        dest.write_text(gdf.to_json(na="null", drop_id=True))
    return dest


def stac_collection(uri: str, maps: xr.Dataset, input_snapshot: str | None, snapshot: str) -> dict[str, Any]:
    """A STAC 1.1 collection of the published products: every map is a Zarr array asset with its
    raster:bands (unit, nodata, data type, resolution); the tables are one more asset."""
    x, y = maps["x"].values, maps["y"].values
    rx, ry = abs(float(x[1] - x[0])), abs(float(y[1] - y[0]))
    bbox = [
        float(x.min()) - rx / 2,
        float(y.min()) - ry / 2,
        float(x.max()) + rx / 2,
        float(y.max()) + ry / 2,
    ]
    epochs = [int(e) for e in maps["epoch"].values]
    assets: dict[str, Any] = {}
    for name, da in maps.data_vars.items():
        ind = BY_ID.get(str(name)) or BY_ID["soc_stock"]
        band: dict[str, Any] = {
            "data_type": "uint8" if da.dtype == np.uint8 else "float32",
            "nodata": 255 if da.dtype == np.uint8 else "nan",
            "unit": da.attrs.get("units", ind.unit),
            "spatial_resolution": rx,
        }
        assets[str(name)] = {
            "href": f"{uri}#/indicators/{name}",
            "type": "application/vnd+zarr",
            "title": da.attrs.get("long_name", str(name)),
            "description": ind.definition,
            "roles": ["data"],
            "raster:bands": [band],
            "soc:dims": list(da.dims),
        }
    assets["tables"] = {
        "href": f"{uri}#/tables",
        "type": "application/vnd+zarr",
        "roles": ["data", "metadata"],
        "title": "Region tables (region x epoch x stratum)",
        "description": "Columns and units: " + ", ".join(f"{k} [{v}]" for k, v in TABLE_UNITS.items()),
    }
    return {
        "type": "Collection",
        "stac_version": "1.1.0",
        "stac_extensions": [RASTER_EXT],
        "id": "soc-observatory-indicators",
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
            "temporal": {"interval": [[f"{epochs[0]}-01-01T00:00:00Z", f"{epochs[-1]}-12-31T23:59:59Z"]]},
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
        "assets": assets,
        "links": [],
    }
