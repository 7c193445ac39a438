"""Load parsed items onto the job's grid (odc-stac, dask) and harmonise them into canonical
variables: nodata to NaN, raster:bands scale/offset (or the source definition's), the unit
registry, depth intervals, and the composite of each epoch or month.

A monthly source's item may hold a whole year in one asset: twelve ``raster:bands``, band k the
k-th calendar month of the item's year (TerraClimate's yearly NetCDF files: ``ppt(time=12, lat,
lon)``, which GDAL reads as 12 bands). Such an asset is loaded band by band (odc-stac names them
``asset.1`` .. ``asset.12``) and laid out on the time axis as the months of its year; the item must
span that year (start_datetime in January, end_datetime in December of the same year).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import odc.stac
import xarray as xr
from odc.geo import xy_
from odc.geo.geobox import GeoBox
from pyproj import CRS, Transformer

from pipeline.config import JobSpec, SourceDef, VariableDef
from pipeline.errors import CatalogError, PipelineError
from pipeline.ingest.stac import ParsedItem
from pipeline.ingest.units import CANONICAL, conversion
from pipeline.regions.hierarchy import load_regions
from pipeline.store import LAYERED


def job_bbox(job: JobSpec) -> tuple[float, float, float, float]:
    """The job's region as a lon/lat bbox."""
    r = job.region
    if r.bbox is not None:
        return r.bbox
    if r.region_id is not None:
        regions = load_regions()
        hit = regions[regions["region_id"] == r.region_id]
        if hit.empty:
            raise PipelineError(
                f"region.region_id {r.region_id!r} is not a known region; see `socobs regions list` "
                "(countries are ISO 3166-1 alpha-3 codes such as KEN)."
            )
        b = hit.total_bounds
    else:
        assert r.file is not None
        b = gpd.read_file(r.file).to_crs("EPSG:4326").total_bounds
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def job_geobox(job: JobSpec) -> GeoBox:
    """The target grid: the region's bbox snapped outwards to the job's resolution, so every run
    of the job, and every update, lands on the same cells. Geographic grids are sub-grids of
    the global grid anchored at (-180, 90), the grid global products (SoilGrids, WorldCover,
    the demo) use; snapping to multiples of the resolution instead would offset a 4 degree
    grid from them by half a cell."""
    bbox = job_bbox(job)
    crs = CRS.from_user_input(job.grid.crs)
    res = job.grid.resolution
    if crs.is_geographic:
        anchor = xy_((-180.0 / res) % 1.0, (90.0 / res) % 1.0)
        return GeoBox.from_bbox(bbox, crs=crs, resolution=res, anchor=anchor)
    bbox = Transformer.from_crs(4326, crs, always_xy=True).transform_bounds(*bbox)
    return GeoBox.from_bbox(bbox, crs=crs, resolution=res, tight=False)


def _band_params(items: list[ParsedItem], asset: str, var: VariableDef) -> tuple[float | None, float, float]:
    infos = {(i.assets[asset].nodata, i.assets[asset].scale, i.assets[asset].offset) for i in items}
    if len(infos) > 1:
        raise CatalogError(
            f"asset {asset!r}: items disagree on nodata/scale/offset ({sorted(map(str, infos))}). "
            "Expected one encoding per collection; set nodata/scale/offset in the source definition."
        )
    nodata, scale, offset = infos.pop()
    return (
        var.nodata if var.nodata is not None else nodata,
        var.scale if var.scale is not None else scale,
        var.offset if var.offset is not None else offset,
    )


def _decode(dn: np.ndarray, *, nodata: float | None, scale: float, offset: float) -> np.ndarray:
    out = dn.astype(np.float32)
    if scale != 1.0 or offset != 0.0:
        out *= np.float32(scale)
        out += np.float32(offset)
    if nodata is not None:
        out[dn == nodata] = np.nan
    return out


def _harmonise_variable(
    ds: Mapping[str, xr.DataArray], items: list[ParsedItem], name: str, var: VariableDef
) -> xr.DataArray:
    is_class = CANONICAL[name] == "class"
    layers = []
    for layer in var.layers:
        raw = ds[layer.asset]
        nodata, scale, offset = _band_params(items, layer.asset, var)
        if is_class:
            x = raw if nodata is None else raw.where(raw != nodata, 0)
            layers.append(x.astype(np.uint8))
            continue
        conv = conversion(var.unit, name)
        # nodata -> NaN, scale/offset, unit: one blockwise task per chunk (five elementwise
        # xarray steps would be five tasks per chunk, and task overhead dominates ingestion).
        layers.append(
            xr.apply_ufunc(
                _decode,
                raw,
                kwargs={
                    "nodata": nodata,
                    "scale": scale * conv.factor,
                    "offset": offset * conv.factor + conv.offset,
                },
                dask="parallelized",
                output_dtypes=[np.float32],
            )
        )
    if var.formula == "ndvi_from_red_nir":
        red, nir = layers
        return ((nir - red) / (nir + red)).astype(np.float32)
    if var.formula == "mean":  # e.g. TerraClimate tas = (tmax + tmin) / 2; NaN if any is missing
        total = layers[0]
        for lay in layers[1:]:
            total = total + lay
        return (total / len(layers)).astype(np.float32)
    first = var.layers[0]
    if len(layers) == 1 and (first.depth is None and (first.top is None or name not in LAYERED)):
        return layers[0]  # e.g. a 0-30 cm stock: its interval is in the provenance, not a dimension
    if first.depth is not None:
        # Point depths (e.g. 0, 10, 30 cm) to intervals: with the property linear between the
        # points, an interval's mean is the mean of its two end values (the trapezoidal rule, as
        # SoilGrids250m and OpenLandMap derive interval values from point depths: Hengl et al.
        # 2017, PLoS ONE 12(2): e0169748, "Depth intervals").
        depths = [lay.depth for lay in var.layers]
        mids = [(layers[k] + layers[k + 1]) / 2 for k in range(len(layers) - 1)]
        out = xr.concat(mids, dim="depth")
        return out.assign_coords(depth_top=("depth", depths[:-1]), depth_bottom=("depth", depths[1:]))
    out = xr.concat(layers, dim="depth")
    return out.assign_coords(
        depth_top=("depth", [lay.top for lay in var.layers]),
        depth_bottom=("depth", [lay.bottom for lay in var.layers]),
    )


def _monthly_mean(a: np.ndarray, *, months: np.ndarray) -> np.ndarray:
    """Mean of every calendar month over the last axis (NaN-aware; NaN where none)."""
    out = np.full((*a.shape[:-1], 12), np.nan, dtype=np.float32)
    for m in range(1, 13):
        sel = months == m
        if sel.any():
            vals = a[..., sel]
            n = np.isfinite(vals).sum(axis=-1)
            s = np.where(np.isfinite(vals), vals, 0).sum(axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[..., m - 1] = np.where(n > 0, s / n, np.nan)
    return out


def _composite(x: xr.DataArray, source: SourceDef) -> xr.DataArray:
    how = source.composite
    if source.temporal == "epoch":
        years = x["time"].dt.year.values
        if len(set(years.tolist())) == len(years):  # one item per year: a relabel, no reduction
            return x.assign_coords(time=years).rename(time="epoch")
        g = x.groupby("time.year")
        out = getattr(g, how)("time") if how != "median" else g.median("time")
        return out.rename(year="epoch")
    if source.temporal == "monthly" and source.monthly_product == "climatology":
        # One blockwise task per spatial chunk. xarray's groupby over a dask time axis made
        # ~12 tasks per chunk per month and was the slowest step of the demo ingestion.
        months = x["time"].dt.month.values
        out = xr.apply_ufunc(
            _monthly_mean,
            x.chunk({"time": -1}) if x.chunks else x,
            kwargs={"months": months},
            input_core_dims=[["time"]],
            output_core_dims=[["month"]],
            dask="parallelized",
            output_dtypes=[np.float32],
            dask_gufunc_kwargs={"output_sizes": {"month": 12}},
        )
        return out.assign_coords(month=np.arange(1, 13)).transpose("month", ...)
    if source.temporal == "monthly":
        stamps = x["time"].values.astype("datetime64[M]")
        if len(set(stamps.tolist())) == len(stamps):  # one item per month: a relabel
            return x.assign_coords(time=stamps.astype("datetime64[ns]"))
        return x.resample(time="MS").mean() if how == "mean" else getattr(x.resample(time="MS"), how)()
    if x.sizes["time"] == 1:  # a single static layer: nothing to composite
        return x.isel(time=0, drop=True)
    return x.median("time") if how == "median" else getattr(x, how)("time")


MONTH_BANDS = 12


def _band_list(item: ParsedItem, asset: str) -> list[dict[str, Any]]:
    bands = item.item.assets[asset].extra_fields.get("raster:bands") or [{}]
    return list(bands)


def _monthly_band_assets(items: list[ParsedItem], source: SourceDef, assets: list[str]) -> set[str]:
    """The assets of a monthly source that hold a year of months as twelve bands (see the
    module docstring); refuses any other multi-band layout in one paragraph."""
    found = set()
    for asset in assets:
        counts = {len(_band_list(i, asset)) for i in items}
        if counts == {1}:
            continue
        if source.temporal != "monthly" or counts != {MONTH_BANDS}:
            raise CatalogError(
                f"source {source.name!r}, asset {asset!r}: the items give {sorted(counts)} raster:bands. "
                f"Expected one band per asset, or, for a monthly source, {MONTH_BANDS} bands in every "
                "item (one per calendar month of the item's year, as TerraClimate's yearly files). "
                "Fix the catalog's raster:bands or the source definition's temporal."
            )
        for it in items:
            bands = _band_list(it, asset)
            keys = {(b.get("nodata"), b.get("scale", 1.0), b.get("offset", 0.0)) for b in bands}
            if len(keys) > 1:
                raise CatalogError(
                    f"item {it.id!r}, asset {asset!r}: its {MONTH_BANDS} bands disagree on "
                    f"nodata/scale/offset ({sorted(map(str, keys))}). Expected one encoding for the "
                    "months of a year (one packed variable); fix the item's raster:bands."
                )
            if not (it.start.year == it.end.year and it.start.month == 1 and it.end.month == 12):
                raise CatalogError(
                    f"item {it.id!r}, asset {asset!r}: {MONTH_BANDS} bands (one per month) but the item "
                    f"spans {it.start.isoformat()} to {it.end.isoformat()}. Expected start_datetime "
                    "in January and end_datetime in December of the same year; fix the item's dates."
                )
        found.add(asset)
    return found


def _months_on_time(ds: xr.Dataset, asset: str) -> xr.DataArray:
    """Bands ``asset.1`` .. ``asset.12`` of each item (time step) as the months of its year."""
    years = _years_of(ds["time"].values)
    parts = []
    for m in range(1, MONTH_BANDS + 1):
        stamps = np.array([f"{y:04d}-{m:02d}-01" for y in years], dtype="datetime64[ns]")
        parts.append(ds[f"{asset}.{m}"].assign_coords(time=stamps))
    return xr.concat(parts, dim="time").sortby("time").rename(asset)


def _years_of(times: np.ndarray) -> list[int]:
    """Calendar years of datetime64 values."""
    return [int(str(t)[:4]) for t in times.astype("datetime64[Y]")]


def load_source_data(
    items: list[ParsedItem], source: SourceDef, geobox: GeoBox, chunks: dict[str, int]
) -> xr.Dataset:
    """Every variable of ``source`` on ``geobox``, harmonised and composited (lazy, dask)."""
    assets = sorted({lay.asset for v in source.variables.values() for lay in v.layers})
    resampling: dict[str, str] = {
        lay.asset: v.resampling for v in source.variables.values() for lay in v.layers
    }
    load_chunks: dict[str, int | Literal["auto"]] = {"y": chunks["y"], "x": chunks["x"]}
    if source.temporal == "monthly" and source.monthly_product == "climatology":
        # The climatology reduces the whole time axis of each spatial chunk: load it as one
        # block per chunk. Loading one month per block and rechunking made dask hold every
        # month of every chunk at once (peak memory grew with the region: +115 MB vs +47 MB for
        # a 4x region at 0.25 degrees; with one block, +37 MB vs +35 MB).
        load_chunks["time"] = -1
    by_month = _monthly_band_assets(items, source, assets)
    bands = [b for a in assets for b in ([f"{a}.{m}" for m in range(1, 13)] if a in by_month else [a])]
    for a in by_month:
        for m in range(1, MONTH_BANDS + 1):
            resampling[f"{a}.{m}"] = resampling[a]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=DeprecationWarning)
        ds = odc.stac.load(
            [i.item for i in items],
            bands=bands,
            geobox=geobox,
            chunks=load_chunks,
            resampling=resampling,
            fail_on_error=True,
        )
    ds = ds.rename({d: n for d, n in (("latitude", "y"), ("longitude", "x")) if d in ds.dims})
    data = {a: (_months_on_time(ds, a) if a in by_month else ds[a]) for a in assets}
    out = {}
    for name, var in source.variables.items():
        x = _harmonise_variable(data, items, name, var)
        x = _composite(x, source)
        x.attrs = {"units": CANONICAL[name], "source": source.name}
        out[name] = x
    result = xr.Dataset(out)
    if "spatial_ref" in ds.coords:
        result = result.assign_coords(spatial_ref=ds["spatial_ref"])
    return result


CREDENTIAL_PARAMS = ("sig", "x-amz-signature", "x-goog-signature", "token", "access_token")


def public_href(href: str) -> str:
    """The href without its query when the query carries a credential (a Planetary Computer SAS
    token's ``sig``, a presigned S3 or GCS URL's signature): a store keeps where the data came
    from, never a key that expires within the hour and must not be published."""
    url = urlsplit(href)
    names = {k.lower() for k, _ in parse_qsl(url.query, keep_blank_values=True)}
    if names & set(CREDENTIAL_PARAMS):
        return urlunsplit(url._replace(query=""))
    return href


def provenance(items: list[ParsedItem], source: SourceDef, software: str) -> dict[str, Any]:
    """Per variable and epoch (or month): the item ids, datetimes and hrefs it was built from."""
    by_key: dict[str, dict[str, list[str]]] = {}
    for it in items:
        if source.temporal == "epoch":
            key = str(it.year)
        elif source.temporal == "monthly" and it.end - it.start > timedelta(days=32):
            key = f"{it.start.year}-{it.start.month:02d}/{it.end.year}-{it.end.month:02d}"  # a year of months
        elif source.temporal == "monthly":
            key = f"{it.datetime.year}-{it.datetime.month:02d}"
        else:
            key = "static"
        entry = by_key.setdefault(key, {"items": [], "datetimes": [], "hrefs": []})
        entry["items"].append(it.id)
        entry["datetimes"].append(it.datetime.isoformat())
        entry["hrefs"].extend(public_href(a.href) for a in it.assets.values())
    return {
        var: {
            "source": source.name,
            "collection": source.collection,
            "source_digest": source.digest(),
            "software": software,
            "synthetic": source.synthetic,
            "inputs": by_key,
            **depth_record(v),
        }
        for var, v in source.variables.items()
    }


def depth_record(var: VariableDef) -> dict[str, Any]:
    """How a variable's depths came about: point depths integrated to intervals (the trapezoidal
    rule, see ``_harmonise_variable``) or the interval of a single layer (e.g. a 0-30 cm stock)."""
    first = var.layers[0]
    if first.depth is not None:
        return {
            "point_depths_cm": [lay.depth for lay in var.layers],
            "depth_method": "trapezoidal rule: the property linear between the point depths, each "
            "interval's mean the mean of its end values (Hengl et al. 2017, PLoS ONE 12(2): e0169748)",
        }
    if len(var.layers) == 1 and first.top is not None:
        return {"depth_interval_cm": [first.top, first.bottom]}
    return {}
