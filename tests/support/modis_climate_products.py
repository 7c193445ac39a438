"""Small STAC catalogs in the encodings of MODIS 13Q1 NDVI and TerraClimate, plus the plain
supporting layers (land cover, soil) their end-to-end tests need.

- ``modis_ndvi``: like Planetary Computer's ``modis-13Q1-061``: one item per 16-day composite
  (``start_datetime``/``end_datetime``; the 16-day cycle restarts every 1 January, so the
  composite of day 353 is cut at 31 December), asset ``250m_16_days_NDVI``: int16, fill -3000,
  ``raster:bands`` scale 0.0001 (valid range -2000..10000), on the MODIS sinusoidal grid
  (``proj:wkt2`` of the custom sphere R = 6371007.181 m, ``proj:epsg`` null, as PC gives it),
  231.656 m pixels: a small window of tile h21v08 (Kenya, north of the equator) instead of the
  4800 x 4800 tile. The hrefs are local file paths: Planetary Computer's are blob URLs that must be
  signed, which the signing tests cover (not this fixture).
- ``terraclimate``: TerraClimate's own distribution (Abatzoglou et al. 2018, Sci. Data 5:170191):
  one NetCDF per variable and year, ``TerraClimate_<var>_<year>.nc`` with ``<var>(time=12, lat,
  lon)`` int16 packed with ``scale_factor``/``add_offset``, ``_FillValue`` -32768, lat descending
  on the global 1/24 degree grid, a ``crs`` grid-mapping variable. GDAL reads such a file as 12
  bands (band k = month k); the STAC item (one per year, one asset per file, keyed by the file
  name without its year: ``TerraClimate_ppt``) gives the 12 bands in ``raster:bands`` with the
  packing, the item's start/end the year and its datetime the middle, as ``socobs stac index``
  writes items for dated rasters (TerraClimate has no STAC API of its own). The container written here is NetCDF classic (scipy; the venv has no netCDF4/h5netcdf
  writer), the real files are NetCDF-4: the variables, dtype, packing and fill are the same and
  GDAL's netCDF driver reads both. The packing constants are ``TC_PACKING``; the pipeline never
  assumes them, it reads them from ``raster:bands``.
- ``epoch_catalog``: plain EPSG:4326 GeoTIFF items (one a year) on a job's grid, for the land
  cover and soil layers the indicator, SDG and RothC steps need beside NDVI and climate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pystac
from pyproj import CRS
from rasterio.transform import from_origin
from scipy.io import netcdf_file

from tests.support.cogs import write_cog

COG = "image/tiff; application=geotiff; profile=cloud-optimized"
NETCDF = "application/netcdf"
PROJ_EXT = "https://stac-extensions.github.io/projection/v1.1.0/schema.json"
RASTER_EXT = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"

# ---- MODIS ------------------------------------------------------------------------------

MODIS_SINU = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"
TILE_SIDE = 1111950.5196666666  # m: 4800 pixels of 231.656 m
PIXEL = TILE_SIDE / 4800  # 231.65635826388... m
H, V = 21, 8
TILE_X0 = -20015109.354 + H * TILE_SIDE  # upper-left corner of tile h21v08
TILE_Y0 = 10007554.677 - V * TILE_SIDE
WINDOW = (3345, 4720, 80, 80)  # first column, first row, columns, rows of the tile in the fixture
NDVI_ASSET = "250m_16_days_NDVI"
NDVI_FILL = -3000
NDVI_SCALE = 0.0001


def modis_transform() -> tuple[float, float, float, float, float, float]:
    c0, r0, _, _ = WINDOW
    return (PIXEL, 0.0, TILE_X0 + c0 * PIXEL, 0.0, -PIXEL, TILE_Y0 - r0 * PIXEL)


def composites(years: list[int]) -> list[tuple[datetime, datetime]]:
    """The 16-day composites of ``years``: (first day, last second) each, 23 a year."""
    out = []
    for y in years:
        first_of_year = datetime(y, 1, 1, tzinfo=UTC)
        for doy in range(1, 366, 16):
            start = first_of_year + timedelta(days=doy - 1)
            end = min(start + timedelta(days=16), datetime(y + 1, 1, 1, tzinfo=UTC)) - timedelta(seconds=1)
            out.append((start, end))
    return out


def pixel_centres() -> tuple[np.ndarray, np.ndarray]:
    """Sinusoidal x (columns) and y (rows) of the fixture window's pixel centres."""
    a, _, x0, _, e, y0 = modis_transform()
    _, _, nc, nr = WINDOW
    return x0 + (np.arange(nc) + 0.5) * a, y0 + (np.arange(nr) + 0.5) * e


def _write_tif(path: Path, values: np.ndarray, crs: Any, transform: Any, nodata: float) -> None:
    write_cog(path, values, crs=crs, transform=transform, nodata=nodata)


def _catalog(root: Path, collection: pystac.Collection, items: list[pystac.Item]) -> Path:
    cat = pystac.Catalog(id=f"{collection.id}-fixture", description="real-product fixture")
    cat.add_child(collection)
    for item in items:
        collection.add_item(item)
    cat.normalize_hrefs(root.as_posix() + "/")
    cat.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return root


def _polygon(w: float, s: float, e: float, n: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def modis_ndvi(root: Path, dns: list[tuple[datetime, datetime, np.ndarray]]) -> Path:
    """A modis-13Q1-061-like catalog: one item per (start, end, int16 DN window)."""
    from rasterio.warp import transform_bounds

    crs = CRS.from_proj4(MODIS_SINU)
    a, _, x0, _, e, y0 = modis_transform()
    _, _, nc, nr = WINDOW
    bbox = transform_bounds(crs.to_wkt(), "EPSG:4326", x0, y0 + nr * e, x0 + nc * a, y0, densify_pts=21)
    col = pystac.Collection(
        id="modis-13Q1-061",
        title="MODIS Vegetation Indices 16-Day (250m)",
        description="test fixture shaped like Planetary Computer's modis-13Q1-061",
        license="proprietary",
        extent=pystac.Extent(
            pystac.SpatialExtent([list(bbox)]),
            pystac.TemporalExtent([[min(s for s, _, _ in dns), max(t for _, t, _ in dns)]]),
        ),
    )
    items = []
    for start, end, dn in dns:
        doy = start.timetuple().tm_yday
        item_id = f"MOD13Q1.A{start.year}{doy:03d}.h{H:02d}v{V:02d}.061"
        path = root / "data" / f"{item_id}.{NDVI_ASSET}.tif"
        _write_tif(path, dn.astype(np.int16), crs.to_wkt(), modis_transform(), NDVI_FILL)
        item = pystac.Item(
            id=item_id,
            geometry=_polygon(*bbox),
            bbox=list(bbox),
            datetime=start,
            properties={
                "start_datetime": start.isoformat().replace("+00:00", "Z"),
                "end_datetime": end.isoformat().replace("+00:00", "Z"),
                "platform": "terra",
                "instruments": ["modis"],
                "modis:horizontal-tile": H,
                "modis:vertical-tile": V,
                "modis:tile-id": f"51{H:03d}{V:03d}",
                "proj:epsg": None,
                "proj:wkt2": crs.to_wkt(),
                "proj:shape": [nr, nc],
                "proj:transform": list(modis_transform()),
            },
            stac_extensions=[PROJ_EXT, RASTER_EXT],
            collection=col.id,
        )
        band = {
            "data_type": "int16",
            "nodata": NDVI_FILL,
            "scale": NDVI_SCALE,
            "spatial_resolution": 250,
        }
        item.add_asset(
            NDVI_ASSET,
            pystac.Asset(
                href=path.resolve().as_uri(),
                media_type=COG,
                roles=["data"],
                title="16 day NDVI",
                extra_fields={"raster:bands": [band]},
            ),
        )
        items.append(item)
    return _catalog(root, col, items)


# ---- TerraClimate ---------------------------------------------------------------------------

TC_RES = 1.0 / 24.0
TC_FILL = -32768
TC_PACKING = {  # variable: (scale_factor, add_offset, units)
    "ppt": (0.1, 3276.5, "mm"),
    "pet": (0.1, 3276.5, "mm"),
    "tmax": (0.01, 0.0, "degC"),
    "tmin": (0.01, 0.0, "degC"),
}


def tc_window(lon0: float, lat0: float) -> tuple[int, int]:
    """Global TerraClimate column and row of the pixel whose north-west corner is (lon0, lat0)."""
    return round((lon0 + 180.0) / TC_RES), round((90.0 - lat0) / TC_RES)


def _write_nc(path: Path, var: str, year: int, dn: np.ndarray, i0: int, j0: int) -> None:
    _, ny, nx = dn.shape
    scale, offset, units = TC_PACKING[var]
    path.parent.mkdir(parents=True, exist_ok=True)
    with netcdf_file(path, "w", version=2) as f:
        f.createDimension("time", 12)
        f.createDimension("lat", ny)
        f.createDimension("lon", nx)
        t = f.createVariable("time", "f8", ("time",))
        base = datetime(1900, 1, 1)
        t[:] = [(datetime(year, m, 1) - base).days for m in range(1, 13)]
        t.units = "days since 1900-01-01 00:00:00"
        t.calendar = "gregorian"
        lat = f.createVariable("lat", "f8", ("lat",))
        lat[:] = 90.0 - (j0 + np.arange(ny) + 0.5) * TC_RES  # descending, as TerraClimate's
        lat.units, lat.standard_name = "degrees_north", "latitude"
        lon = f.createVariable("lon", "f8", ("lon",))
        lon[:] = -180.0 + (i0 + np.arange(nx) + 0.5) * TC_RES
        lon.units, lon.standard_name = "degrees_east", "longitude"
        crs = f.createVariable("crs", "i2", ())
        crs.grid_mapping_name = "latitude_longitude"
        crs.semi_major_axis = 6378137.0
        crs.inverse_flattening = 298.257223563
        v = f.createVariable(var, "i2", ("time", "lat", "lon"))
        v[:] = dn.astype(np.int16)
        v._FillValue = np.int16(TC_FILL)
        v.scale_factor = np.float64(scale)
        v.add_offset = np.float64(offset)
        v.units = units
        v.grid_mapping = "crs"


def terraclimate(root: Path, by_year: dict[int, dict[str, np.ndarray]], i0: int, j0: int) -> Path:
    """TerraClimate-like yearly NetCDFs (``by_year[y][var]``: int16 DN (12, rows, cols), rows
    north to south, the window's north-west pixel at global column ``i0``, row ``j0``) and a
    catalog with one item per year."""
    any_dn = next(iter(next(iter(by_year.values())).values()))
    _, ny, nx = any_dn.shape
    w, n = -180.0 + i0 * TC_RES, 90.0 - j0 * TC_RES
    e, s = w + nx * TC_RES, n - ny * TC_RES
    col = pystac.Collection(
        id="terraclimate",
        title="TerraClimate",
        description="test fixture: TerraClimate's yearly NetCDF files (Abatzoglou et al. 2018)",
        license="CC0-1.0",
        extent=pystac.Extent(
            pystac.SpatialExtent([[w, s, e, n]]),
            pystac.TemporalExtent([[datetime(min(by_year), 1, 1, tzinfo=UTC), None]]),
        ),
        extra_fields={"sci:doi": "10.1038/sdata.2017.191"},
    )
    items = []
    for year, variables in by_year.items():
        item = pystac.Item(
            id=f"terraclimate-{year}",
            geometry=_polygon(w, s, e, n),
            bbox=[w, s, e, n],
            datetime=datetime(year, 7, 2, 11, 59, 59, tzinfo=UTC),
            start_datetime=datetime(year, 1, 1, tzinfo=UTC),
            end_datetime=datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC),
            properties={
                "proj:epsg": 4326,
                "proj:shape": [ny, nx],
                "proj:transform": list(from_origin(w, n, TC_RES, TC_RES))[:6],
            },
            stac_extensions=[PROJ_EXT, RASTER_EXT],
            collection=col.id,
        )
        for var, dn in variables.items():
            path = root / "data" / f"TerraClimate_{var}_{year}.nc"
            _write_nc(path, var, year, dn, i0, j0)
            scale, offset, units = TC_PACKING[var]
            band = {"data_type": "int16", "nodata": TC_FILL, "scale": scale, "offset": offset, "unit": units}
            item.add_asset(
                f"TerraClimate_{var}",
                pystac.Asset(
                    href=path.resolve().as_uri(),
                    media_type=NETCDF,
                    roles=["data"],
                    title=f"TerraClimate {var} {year}",
                    extra_fields={"raster:bands": [dict(band) for _ in range(12)]},
                ),
            )
        items.append(item)
    return _catalog(root, col, items)


def tc_decode(var: str, dn: np.ndarray) -> np.ndarray:
    """DN -> value by the file's packing (value = DN x scale_factor + add_offset), fill -> NaN."""
    scale, offset, _ = TC_PACKING[var]
    return np.where(dn == TC_FILL, np.nan, dn.astype(np.float64) * scale + offset)


def tc_encode(var: str, value: np.ndarray) -> np.ndarray:
    scale, offset, _ = TC_PACKING[var]
    return np.round((value - offset) / scale).astype(np.int16)


# ---- plain supporting layers ------------------------------------------------------------


def epoch_catalog(
    root: Path,
    collection: str,
    by_year: Mapping[int, Mapping[str, tuple[np.ndarray, float]]],
    bbox: tuple[float, float, float, float],
    res: float,
) -> Path:
    """EPSG:4326 GeoTIFF items on the grid (``bbox``, ``res``), one a year: ``by_year[y][asset]
    = (values rows north to south, nodata)``."""
    w, s, e, n = bbox
    col = pystac.Collection(
        id=collection,
        description=f"test fixture {collection}",
        license="proprietary",
        extent=pystac.Extent(
            pystac.SpatialExtent([list(bbox)]),
            pystac.TemporalExtent([[datetime(min(by_year), 1, 1, tzinfo=UTC), None]]),
        ),
    )
    items = []
    for year, assets in by_year.items():
        shape = next(iter(assets.values()))[0].shape
        item = pystac.Item(
            id=f"{collection}-{year}",
            geometry=_polygon(w, s, e, n),
            bbox=list(bbox),
            datetime=datetime(year, 7, 1, tzinfo=UTC),
            properties={
                "proj:epsg": 4326,
                "proj:shape": list(shape),
                "proj:transform": list(from_origin(w, n, res, res))[:6],
            },
            stac_extensions=[PROJ_EXT, RASTER_EXT],
            collection=collection,
        )
        for key, (values, nodata) in assets.items():
            path = root / "data" / str(year) / f"{key}.tif"
            _write_tif(path, values, "EPSG:4326", from_origin(w, n, res, res), nodata)
            band = {"data_type": values.dtype.name, "nodata": nodata}
            item.add_asset(
                key,
                pystac.Asset(
                    href=path.resolve().as_uri(),
                    media_type=COG,
                    roles=["data"],
                    extra_fields={"raster:bands": [band]},
                ),
            )
        items.append(item)
    return _catalog(root, col, items)
