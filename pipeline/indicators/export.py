"""Exports of the indicator job: region tables as CSV / Parquet / GeoJSON, and the STAC
collection describing the published products (``pipeline.indicators.stac``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import xarray as xr

from pipeline.errors import PipelineError
from pipeline.indicators.registry import STRATA, TABLE_UNITS
from pipeline.indicators.stac import stac_collection
from pipeline.store import BRANCH, TABLES, StoreError, open_group, open_repo
from pipeline.store import INDICATORS as MAPS

Format = Literal["csv", "parquet", "geojson", "stac"]
FORMATS = ("csv", "parquet", "geojson", "stac")


def open_products(uri: str, snapshot: str | None = None) -> tuple[xr.Dataset, xr.Dataset, str]:
    """(maps, tables, snapshot id) of a snapshot (default: the tip)."""
    repo = open_repo(uri)
    session = (
        repo.readonly_session(snapshot_id=snapshot) if snapshot else repo.readonly_session(branch=BRANCH)
    )
    maps = open_group(session, MAPS, required=False, chunks={}, mask_and_scale=False)  # class codes
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
