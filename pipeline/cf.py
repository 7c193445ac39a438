"""CF and rioxarray conventions for every spatial group the pipeline writes (one place).

Each writer (ingest: the ``cube``; the indicator job: ``indicators``, ``overviews/<f>`` and
``tables``; the RothC job: ``rothc``) builds its dataset and calls ``annotate`` (or, for the
attributes of one variable, ``variable_attrs``) before writing it. What a group then carries:

- a scalar ``spatial_ref`` coordinate: the CF grid mapping of the grid's CRS (``crs_wkt``,
  ``grid_mapping_name``, ellipsoid parameters, from pyproj's ``CRS.to_cf``) plus
  ``spatial_ref`` (the WKT again, which rioxarray and GDAL read), and ``grid_mapping:
  "spatial_ref"`` on every variable with ``y``/``x`` dims, so ``ds[v].rio.crs`` is the grid's
  CRS;
- ``x``/``y`` with ``standard_name``, ``long_name``, ``units`` and ``axis`` (longitude/latitude
  in degrees_east/degrees_north on a geographic grid, projection_x/y_coordinate in the CRS's
  linear unit otherwise);
- ``units`` that UDUNITS-2 and pint parse (``UDUNITS``): the project's unit strings that they do
  not ("t C/ha", "g/cm3", "class", ...) are rewritten, and the original is kept as
  ``units_label`` (the string the API and the README show; readers use ``label``);
- ``standard_name`` where the CF standard-name table has one (``STANDARD_NAMES``); the others
  (SOC and clay contents, bulk density, coarse fragments, NDVI, PET in mm/month, the land cover
  (WorldCover's legend is not an LCCS coding), every indicator but the stock, the RothC maps and
  the region tables) have a ``long_name`` or ``definition`` only;
- class maps: ``flag_values``/``flag_meanings`` and ``_FillValue`` (the no-data code; xarray
  masks it on read, ``mask_and_scale=False`` gives the codes);
- ``epoch`` (an integer calendar year), ``time`` (month starts), ``month`` (the climatology's
  calendar month, with ``climatology_period``) and the depth bounds with descriptive attributes;
- CF time coordinates beside them (``time_coords``; the integer ``epoch`` and ``month`` stay what
  every reader selects by): ``epoch_time(epoch)``, each epoch's date (1 July of its year), with
  ``epoch_time_bnds(epoch, nv)`` = [1 January, 1 January of the next year); ``time_bnds(time,
  nv)`` = [start of the month, start of the next month) for a monthly series; for a monthly
  climatology ``month_time(month)`` (the 16th of the month in the first year of the period) with
  ``climatology: climatology_bnds`` (CF 7.4: [first day of the month in the first year, first
  day of the next month in the last year)); on the SDG group ``period_time(period)`` with
  ``period_time_bnds`` spanning its first to its last year. They are stored encoded (integer
  days since 1970-01-01, proleptic Gregorian calendar), so appending epochs or months writes
  plain numbers (``extend``), and xarray decodes them to datetimes on read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr
from pyproj import CRS

GRID_MAPPING = "spatial_ref"

# The project's unit strings -> UDUNITS-2 / pint spellings (a missing key: already parseable).
# Stocks are masses of carbon per area: CF puts "carbon" in the standard name, not the unit.
UDUNITS: dict[str, str] = {
    "t C/ha": "t/ha",
    "t C/ha/yr": "t/ha/year",
    "Tg C": "Tg",
    "permille/yr": "permille/year",
    "g/cm3": "g/cm^3",
    "km2": "km^2",
    "class": "1",
}

# CF standard names of the variables that have one (their units convert to the canonical ones:
# t/ha to kg m-2, degC to K, mm/month to m s-1). The stock is the 0-30 cm layer's (``comment``).
STANDARD_NAMES: dict[str, str] = {
    "soc_stock": "soil_mass_content_of_carbon",
    "soc_stock_src": "soil_mass_content_of_carbon",
    "tas": "air_temperature",
    "pr": "lwe_precipitation_rate",
}

LONG_NAMES: dict[str, str] = {
    "soc": "soil organic carbon content (mass fraction of the fine earth)",
    "soc_q05": "soil organic carbon content, 5th percentile",
    "soc_q95": "soil organic carbon content, 95th percentile",
    "bdod": "bulk density of the fine earth",
    "cfvo": "volumetric fraction of coarse fragments",
    "clay": "clay content (mass percent of the fine earth)",
    "landcover": "land cover class (ESA WorldCover legend)",
    "ndvi": "normalized difference vegetation index (monthly composite)",
    "tas": "near-surface air temperature, monthly mean",
    "pr": "precipitation, monthly total",
    "pet": "potential evapotranspiration, monthly total",
    "soc_stock_src": "SOC stock 0-30 cm as the source product gives it",
    # the region tables (region x epoch x stratum) and the SDG group's tables
    "area_km2": "area of the region in the stratum (SDG: in the class)",
    "valid_area_km2": "area with a value (the mean's weight)",
    "valid_fraction": "fraction of the area with a value",
    "soc_stock_total": "SOC stock 0-30 cm, area total",
    "soc_stock_total_q05": "SOC stock 0-30 cm, area total, q05 bound",
    "soc_stock_total_q95": "SOC stock 0-30 cm, area total, q95 bound",
    "sh_share_degraded": "share of the area in soil health class degraded",
    "sh_share_moderate": "share of the area in soil health class moderate",
    "sh_share_good": "share of the area in soil health class good",
    "sh_share_very_good": "share of the area in soil health class very good",
    "trend_sig_increase_share": "share of the area with a significant SOC stock increase",
    "trend_sig_decrease_share": "share of the area with a significant SOC stock decrease",
    "input_snapshot": "cube snapshot the epoch was computed from",
    "source_latest": "newest source item date of the epoch's inputs",
    "share": "share of the land area in the class",
}

# ESA WorldCover v100/v200 legend (the cube's landcover codes); 0 is its no-data value.
WORLDCOVER: tuple[tuple[int, str], ...] = (
    (10, "tree_cover"),
    (20, "shrubland"),
    (30, "grassland"),
    (40, "cropland"),
    (50, "built_up"),
    (60, "bare_sparse_vegetation"),
    (70, "snow_and_ice"),
    (80, "permanent_water_bodies"),
    (90, "herbaceous_wetland"),
    (95, "mangroves"),
    (100, "moss_and_lichen"),
)
WORLDCOVER_NODATA = 0


def udunits(unit: str) -> str:
    """The UDUNITS-2 / pint spelling of a project unit string."""
    return UDUNITS.get(unit, unit)


def label(attrs: Mapping[str, Any]) -> str:
    """The unit as the project writes it (``units_label`` if the ``units`` were rewritten)."""
    return str(attrs.get("units_label", attrs.get("units", "")))


def unit_attrs(unit: str) -> dict[str, str]:
    """``units`` (parseable), plus ``units_label`` when that differs from ``unit``."""
    cf = udunits(unit)
    return {"units": cf} if cf == unit else {"units": cf, "units_label": unit}


def class_attrs(codes: tuple[tuple[int, str], ...], nodata: int) -> dict[str, Any]:
    """Attributes of a class map (uint8 codes): flags and the no-data code as ``_FillValue``."""
    return {
        "flag_values": np.asarray([c for c, _ in codes], dtype=np.uint8),
        "flag_meanings": " ".join(n for _, n in codes),
        "_FillValue": np.uint8(nodata),
    }


def variable_attrs(name: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """``attrs`` with CF units, standard and long names (the names are added, never replaced)."""
    out = dict(attrs)
    if "units" in out:  # from the project's string (idempotent: a second call changes nothing)
        out.update(unit_attrs(str(out.pop("units_label", out["units"]))))
    if name in STANDARD_NAMES:
        out.setdefault("standard_name", STANDARD_NAMES[name])
    if name in LONG_NAMES:
        out.setdefault("long_name", LONG_NAMES[name])
    if name and "standard_name" not in out:  # every variable says what it is
        out.setdefault("long_name", name.replace("_", " "))
    if name == "landcover":
        out.update(class_attrs(WORLDCOVER, WORLDCOVER_NODATA))
    return out


def grid_mapping(crs: CRS | str) -> xr.DataArray:
    """The scalar ``spatial_ref`` coordinate of ``crs`` (CF grid mapping + GDAL's WKT)."""
    c = CRS.from_user_input(crs)
    attrs: dict[str, Any] = {k: v for k, v in c.to_cf().items() if v is not None}
    attrs["spatial_ref"] = attrs["crs_wkt"]
    epsg = c.to_epsg()
    if epsg is not None:
        attrs["epsg_code"] = f"EPSG:{epsg}"
    return xr.DataArray(np.int32(0), attrs=attrs)


def crs_of(ds: xr.Dataset) -> str:
    """The CRS (WKT) of a dataset the pipeline wrote: its grid mapping's, else the cube's
    ``crs`` attribute, else EPSG:4326 (the default grid)."""
    if GRID_MAPPING in ds.coords:
        gm = ds[GRID_MAPPING].attrs
        if gm.get("crs_wkt") or gm.get("spatial_ref"):
            return str(gm.get("crs_wkt") or gm.get("spatial_ref"))
    return str(ds.attrs.get("crs") or "EPSG:4326")


def xy_attrs(crs: CRS | str) -> tuple[dict[str, str], dict[str, str]]:
    """The attributes of ``x`` and of ``y`` on a grid in ``crs``."""
    c = CRS.from_user_input(crs)
    if c.is_geographic:
        return (
            {
                "standard_name": "longitude",
                "long_name": "longitude of the cell centre",
                "units": "degrees_east",
                "axis": "X",
            },
            {
                "standard_name": "latitude",
                "long_name": "latitude of the cell centre",
                "units": "degrees_north",
                "axis": "Y",
            },
        )
    unit = {"metre": "m", "meter": "m", "US survey foot": "US_survey_foot"}.get(c.axis_info[0].unit_name, "m")
    return (
        {
            "standard_name": "projection_x_coordinate",
            "long_name": "x of the cell centre",
            "units": unit,
            "axis": "X",
        },
        {
            "standard_name": "projection_y_coordinate",
            "long_name": "y of the cell centre",
            "units": unit,
            "axis": "Y",
        },
    )


def coordinate_attrs(period: tuple[int, int] | None = None) -> dict[str, dict[str, str]]:
    """Attributes of the non-spatial coordinates (``period``: the climatology's years)."""
    months = {
        "long_name": "calendar month of the climatology (1 = January)",
        "comment": "each value is the mean of that calendar month over every year of the "
        "climatology period (CF climatological statistics: 'time: mean within years time: mean "
        "over years')",
    }
    if period is not None:
        months["climatology_period"] = f"{period[0]}-01-01/{period[1] + 1}-01-01"
    return {
        "epoch": {
            "long_name": "epoch (calendar year of the observation)",
            "comment": "integer year, not a duration",
        },
        "time": {"standard_name": "time", "long_name": "start of the month", "axis": "T"},
        "month": months,
        "depth_top": {"long_name": "top of the depth interval", "units": "cm", "positive": "down"},
        "depth_bottom": {"long_name": "bottom of the depth interval", "units": "cm", "positive": "down"},
        "scenario": {"long_name": "increase of the plant carbon input over business as usual"},
        "region": {"long_name": "region identifier"},
        "stratum": {"long_name": "land-cover stratum"},
        "name": {"long_name": "region name"},
        "level": {"long_name": "level of the region in the hierarchy"},
        "parent_id": {"long_name": "identifier of the parent region"},
        "period": {"long_name": "SDG 15.3.1 period"},
        "period_kind": {"long_name": "baseline or reporting period"},
        "first_year": {"long_name": "first year of the period"},
        "last_year": {"long_name": "last year of the period"},
        "lc_from": {"long_name": "land-cover epoch at the start of the period"},
        "lc_to": {"long_name": "land-cover epoch at the end of the period"},
        "ndvi_first": {"long_name": "first year of the NDVI window"},
        "ndvi_last": {"long_name": "last year of the NDVI window"},
        "productivity_note": {"long_name": "why land productivity is missing (empty: computed)"},
        "layer": {"long_name": "SDG 15.3.1 layer"},
        "class": {"long_name": "SDG 15.3.1 class"},
    }


# ---- CF time coordinates (see the module docstring) ----------------------------------------
TIME_UNITS = "days since 1970-01-01"
CALENDAR = "proleptic_gregorian"
NV = "nv"  # the bounds' dimension: (start, end)
EPOCH_TIME, EPOCH_BNDS = "epoch_time", "epoch_time_bnds"
TIME_BNDS = "time_bnds"
MONTH_TIME, CLIMATOLOGY_BNDS = "month_time", "climatology_bnds"
PERIOD_TIME, PERIOD_BNDS = "period_time", "period_time_bnds"
DERIVED = (EPOCH_TIME, EPOCH_BNDS, TIME_BNDS, MONTH_TIME, CLIMATOLOGY_BNDS, PERIOD_TIME, PERIOD_BNDS)
_DAY0 = np.datetime64("1970-01-01", "D")
_YEAR, _MONTH = np.timedelta64(1, "Y"), np.timedelta64(1, "M")
_ENCODED = {"units": TIME_UNITS, "calendar": CALENDAR}


def _days(dates: np.ndarray) -> np.ndarray:
    """Dates (any datetime64) as integer days since 1970-01-01."""
    return (np.asarray(dates).astype("datetime64[D]") - _DAY0).astype(np.int64)


def _years(years: Any) -> np.ndarray:
    """Integer calendar years as datetime64[Y]."""
    return (np.asarray(years, dtype=np.int64) - 1970).astype("datetime64[Y]")


def epoch_times(years: Any) -> dict[str, np.ndarray]:
    """Encoded ``epoch_time`` (1 July) and ``epoch_time_bnds`` (the calendar year) of ``years``."""
    start = _years(years)
    mid = start.astype("datetime64[M]") + np.timedelta64(6, "M")
    return {EPOCH_TIME: _days(mid), EPOCH_BNDS: np.stack([_days(start), _days(start + _YEAR)], axis=-1)}


def month_bounds(times: Any) -> np.ndarray:
    """Encoded bounds (start of the month, start of the next) of each date of a monthly series."""
    m = np.asarray(times).astype("datetime64[M]")
    return np.stack([_days(m), _days(m + _MONTH)], axis=-1)


def climatology_times(months: Any, period: tuple[int, int]) -> dict[str, np.ndarray]:
    """Encoded ``month_time`` and ``climatology_bnds`` (CF 7.4) of calendar ``months`` averaged
    over the years ``period`` (both included)."""
    m = np.asarray(months, dtype=np.int64) - 1
    first = _years([period[0]]).astype("datetime64[M]") + m.astype("timedelta64[M]")
    last = _years([period[1]]).astype("datetime64[M]") + m.astype("timedelta64[M]")
    return {
        MONTH_TIME: _days(first) + 15,
        CLIMATOLOGY_BNDS: np.stack([_days(first), _days(last + _MONTH)], axis=-1),
    }


def span_times(first: Any, last: Any) -> tuple[np.ndarray, np.ndarray]:
    """Encoded middle day and bounds of the year spans ``first``..``last`` (both included)."""
    lo, hi = _days(_years(first)), _days(_years(last) + _YEAR)
    return lo + (hi - lo) // 2, np.stack([lo, hi], axis=-1)


def _time_attrs(long_name: str, **extra: str) -> dict[str, str]:
    return {"standard_name": "time", "long_name": long_name, "axis": "T", **_ENCODED, **extra}


def time_coords(ds: xr.Dataset, period: tuple[int, int] | None = None) -> xr.Dataset:
    """``ds`` with the CF time coordinates of its ``epoch``, ``time``, ``month`` (with
    ``period``) and SDG ``period`` dimensions (module docstring); the other coordinates as they
    were."""
    new: dict[str, Any] = {}
    if "epoch" in ds.dims and "epoch" in ds.coords:
        t = epoch_times(ds["epoch"].values)
        new[EPOCH_TIME] = (
            "epoch",
            t[EPOCH_TIME],
            _time_attrs("date of the epoch (1 July of its year)", bounds=EPOCH_BNDS),
        )
        new[EPOCH_BNDS] = (
            ("epoch", NV),
            t[EPOCH_BNDS],
            {"long_name": "the epoch's calendar year", **_ENCODED},
        )
    if "time" in ds.dims and np.issubdtype(ds["time"].dtype, np.datetime64):
        new[TIME_BNDS] = (
            ("time", NV),
            month_bounds(ds["time"].values),
            {"long_name": "the month", **_ENCODED},
        )
    if "month" in ds.dims and period is not None:
        t = climatology_times(ds["month"].values, period)
        clim = f"climatological month over {period[0]}-{period[1]} (dated the 16th in {period[0]})"
        new[MONTH_TIME] = ("month", t[MONTH_TIME], _time_attrs(clim, climatology=CLIMATOLOGY_BNDS))
        new[CLIMATOLOGY_BNDS] = (
            ("month", NV),
            t[CLIMATOLOGY_BNDS],
            {"long_name": "the month in the first year to its end in the last year", **_ENCODED},
        )
    if "period" in ds.dims and {"first_year", "last_year"} <= set(ds.coords):
        mid, bnds = span_times(ds["first_year"].values, ds["last_year"].values)
        new[PERIOD_TIME] = ("period", mid, _time_attrs("middle of the period", bounds=PERIOD_BNDS))
        new[PERIOD_BNDS] = (
            ("period", NV),
            bnds,
            {"long_name": "first to last year of the period", **_ENCODED},
        )
    out = ds.drop_vars([n for n in new if n in ds.variables]).assign_coords(new)
    for name in (EPOCH_TIME, EPOCH_BNDS, TIME_BNDS):  # one epoch / month per chunk, as the maps:
        if name in out.variables:  # appending one never rewrites an older chunk
            out[name].encoding["chunks"] = (1, 2)[: out[name].ndim]
    if TIME_BNDS in new:  # the series' own dates in the bounds' units (CF: the same units)
        out["time"].attrs["bounds"] = TIME_BNDS
        out["time"].encoding.update(units=TIME_UNITS, calendar=CALENDAR, dtype="int64")
    return out


def with_bounds(part: xr.Dataset, ds: xr.Dataset, stored: set[str] | None = None) -> xr.Dataset:
    """``part`` (some variables of ``ds``) with the bounds of its coordinates, which selecting
    variables leaves out (their ``nv`` dimension); with ``stored`` (the arrays a group already
    holds), without the derived time coordinates that group lacks (a store written before them
    stays as it was rather than half-annotated)."""
    names = [str(c.attrs[k]) for c in part.coords.values() for k in ("bounds", "climatology") if k in c.attrs]
    out = part.assign_coords({n: ds[n] for n in names if n in ds.variables})
    if stored is not None:
        out = out.drop_vars([n for n in DERIVED if n in out.variables and n not in stored])
        for n, c in out.coords.items():  # no attribute naming a variable the group will not have
            if any(
                c.attrs.get(k, "") in DERIVED and c.attrs[k] not in out.variables
                for k in ("bounds", "climatology")
            ):
                v = c.variable.copy(deep=False)
                v.attrs = {k: a for k, a in c.attrs.items() if k not in ("bounds", "climatology")}
                out = out.assign_coords({n: v})
    return out


def mark_coordinates(group: Any) -> None:
    """List the derived time coordinates a Zarr ``group`` holds in its ``coordinates`` attribute
    (xarray's record of the coordinates no variable names), so that they read back as
    coordinates, not data variables, after a group was written in several parts (each part
    rewrites that attribute with its own)."""
    have = [n for n in DERIVED if n in group]
    if not have:
        return
    listed = str(group.attrs.get("coordinates", "")).split()
    group.attrs["coordinates"] = " ".join(sorted({*listed, *have}))


def extend(group: Any, start: int) -> None:
    """Fill the derived time coordinates of a Zarr ``group`` from position ``start`` on, after its
    ``epoch`` or ``time`` labels grew there (the arrays already resized with them)."""
    if EPOCH_TIME in group and EPOCH_BNDS in group and "epoch" in group:
        years = np.asarray(group["epoch"][start:])
        for name, values in epoch_times(years).items():
            group[name][start:] = values
    if TIME_BNDS in group and "time" in group:
        arr = group["time"]
        raw = np.asarray(arr[start:])
        units = str(arr.attrs.get("units", TIME_UNITS))
        cal = str(arr.attrs.get("calendar", CALENDAR))
        times = xr.coding.times.decode_cf_datetime(raw, units, cal)
        group[TIME_BNDS][start:] = month_bounds(times)


def annotate(ds: xr.Dataset, crs: CRS | str | None, *, period: tuple[int, int] | None = None) -> xr.Dataset:
    """``ds`` with the conventions of the module docstring (a spatial ``ds`` needs ``crs``)."""
    out = ds.copy()
    spatial = "x" in out.dims and "y" in out.dims
    if spatial:
        crs = crs or "EPSG:4326"
        out = out.drop_vars(GRID_MAPPING, errors="ignore").assign_coords({GRID_MAPPING: grid_mapping(crs)})
        ax, ay = xy_attrs(crs)
        out["x"].attrs.update(ax)
        out["y"].attrs.update(ay)
    for coord in ("x", "y", "depth_top", "depth_bottom"):  # CF: coordinates have no fill value
        if coord in out.coords:
            out[coord].encoding["_FillValue"] = None
    for coord, cattrs in coordinate_attrs(period).items():
        if coord in out.coords:
            out[coord].attrs.update(cattrs)
    out = time_coords(out, period)
    for name, var in out.data_vars.items():
        attrs = variable_attrs(str(name), var.attrs)
        if spatial and {"y", "x"} <= set(var.dims):
            attrs["grid_mapping"] = GRID_MAPPING
            var.encoding.pop("grid_mapping", None)
        if name in ("tas", "pr", "pet") and "month" in var.dims:
            # CF 7.4: "time" (the standard name of month_time, the climatological time)
            attrs.setdefault("cell_methods", "time: mean within years time: mean over years")
        fill = attrs.pop("_FillValue", None)
        if fill is not None:
            var.encoding["_FillValue"] = fill
        var.attrs = attrs
    return out
