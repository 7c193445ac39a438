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
  calendar month, with ``climatology_period``) and the depth bounds with descriptive attributes.
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
    }


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
    for name, var in out.data_vars.items():
        attrs = variable_attrs(str(name), var.attrs)
        if spatial and {"y", "x"} <= set(var.dims):
            attrs["grid_mapping"] = GRID_MAPPING
            var.encoding.pop("grid_mapping", None)
        if name in ("tas", "pr", "pet") and "month" in var.dims:
            attrs.setdefault("cell_methods", "month: mean within years month: mean over years")
        fill = attrs.pop("_FillValue", None)
        if fill is not None:
            var.encoding["_FillValue"] = fill
        var.attrs = attrs
    return out
