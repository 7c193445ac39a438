"""Fixtures in the exact encodings of SoilGrids 2.0 and OpenLandMap, for the end-to-end tests.

SoilGrids 2.0 (ISRIC, https://files.isric.org/soilgrids/latest/data/): no STAC catalog, files
only. Each map is a master VRT, its overviews (``NAME.vrt.ovr``) and a folder of GeoTIFF tiles
(ISRIC's SoilGrids FAQ, "What do the filename codes mean?"), named ``property_depth_statistic``
(``soc_0-5cm_mean``, ``soc_0-5cm_Q0.05``, ``ocs_0-30cm_mean``), int16 with nodata -32768, in the
mapped units (soc dg/kg, bdod cg/cm3, cfvo cm3/dm3, clay g/kg, ocs t/ha), on a 250 m grid in
Interrupted Goode Homolosine whose origin is the global layers' (-19949750, 8751250).
``write_soilgrids`` writes that layout for a window over the test region; ``socobs stac index``
turns it into a catalog.

The test region (``BBOX``) is four one-degree job cells in Kenya, symmetric about the equator
(equal areas). Homolosine pixels do not line up with the cells, so each cell's values are an
"island" of one value per map well inside the cell, the rest no data (as SoilGrids' water is):
the job's average resampling of a cell is then exactly the island's value, whatever pixels
straddle the cell borders. ``sg_value`` gives each map's stored integer per cell.

OpenLandMap: a static STAC catalog (recorded item JSON, written here as the real items are
laid out: one item per collection and period, ``start_datetime``/``end_datetime``, assets keyed
``COLLECTION_m_250m_bDEPTHcm``), 250 m COGs in EPSG:4326, uint8 with nodata 255, organic carbon
"x 5 g/kg" and bulk density "x 10 kg/m3" at point depths 0, 10 and 30 cm, no raster:bands scale
or unit. SOC content (organic.carbon_usda.6a1c) and bulk density are one release each (the
static 250 m products of catalogs/sources/openlandmap-soil.yaml and openlandmap-bulkdens.yaml).
Pixels are aligned with the job cells (480 pixels a degree), so a cell's value is its constant.
OpenLandMap's SOC time series is OpenLandMap-soildb, at the end of this module.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pyproj
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin

BBOX = (36.0, -1.0, 38.0, 1.0)  # job region: 2 x 2 one-degree cells
JOB_RES = 1.0
CELLS = (2, 2)  # rows (north to south), columns (west to east)

# ---- SoilGrids 2.0 ---------------------------------------------------------------------

IGH = "+proj=igh +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
SG_ORIGIN = (-19949750.0, 8751250.0)  # the global layers' upper-left corner
SG_RES = 250.0
SG_NODATA = -32768
SG_DEPTHS = ("0-5cm", "5-15cm", "15-30cm")
SG_THICKNESS = (5.0, 10.0, 15.0)
SG_STATS = ("mean", "Q0.05", "Q0.95")
SG_PROPS = ("soc", "bdod", "cfvo", "clay")
GUARD = 0.2  # degrees of no data between an island and its cell's border
SG_OVERVIEWS = (2, 4, 8, 16, 32)

# stored integers of the mean at each depth in cell 0; cell k adds k * step
_SG_BASE = {
    "soc": ((150, 100, 60), 10),  # dg/kg
    "bdod": ((120, 130, 140), 4),  # cg/cm3
    "cfvo": ((100, 150, 200), 20),  # cm3/dm3
    "clay": ((250, 270, 300), 15),  # g/kg
}
_SG_QUANTILE = {"Q0.05": -40, "Q0.95": 50}  # added to the mean
OCS_BASE, OCS_STEP = 40, 3  # ocs_0-30cm_mean, t/ha
# (map name, cell row, cell col) with no data: no bulk density at 0-5 cm in the south-east cell
# (so no stock there); no ocs in the south-west cell
SG_MISSING = {("bdod_0-5cm_mean", 1, 1), ("ocs_0-30cm_mean", 1, 0)}


def sg_names() -> list[str]:
    """Every map of the fixture: 4 properties x 3 depths x 3 statistics, and ocs 0-30 cm."""
    return [f"{p}_{d}_{s}" for p in SG_PROPS for d in SG_DEPTHS for s in SG_STATS] + ["ocs_0-30cm_mean"]


def sg_value(name: str) -> np.ndarray:
    """The stored integers of map ``name`` per job cell (rows north to south); -32768 = none."""
    cell = np.arange(CELLS[0] * CELLS[1]).reshape(CELLS)
    if name == "ocs_0-30cm_mean":
        out = OCS_BASE + OCS_STEP * cell
    else:
        prop, depth, stat = name.split("_")
        base, step = _SG_BASE[prop]
        out = base[SG_DEPTHS.index(depth)] + step * cell + _SG_QUANTILE.get(stat, 0)
    out = out.astype(np.int16)
    for missing, r, c in SG_MISSING:
        if missing == name:
            out[r, c] = SG_NODATA
    return out


def _sg_window() -> tuple[float, float, int, int]:
    """Upper-left corner and size (rows, cols) of the window of the global grid covering BBOX."""
    to_igh = pyproj.Transformer.from_crs("EPSG:4326", IGH, always_xy=True)
    w, s, e, n = BBOX
    lons = np.array([w, e, w, e, (w + e) / 2, (w + e) / 2])
    lats = np.array([s, s, n, n, s, n])
    xs, ys = to_igh.transform(lons, lats)
    x0 = SG_ORIGIN[0] + np.floor((min(xs) - SG_ORIGIN[0]) / SG_RES) * SG_RES
    y0 = SG_ORIGIN[1] - np.floor((SG_ORIGIN[1] - max(ys)) / SG_RES) * SG_RES
    cols = int(np.ceil((max(xs) - x0) / SG_RES))
    rows = int(np.ceil((y0 - min(ys)) / SG_RES))
    return float(x0), float(y0), rows, cols


def _islands(x0: float, y0: float, rows: int, cols: int) -> np.ndarray:
    """Per pixel of the window: the job cell (r * 2 + c) whose island holds its centre, else -1."""
    to_ll = pyproj.Transformer.from_crs(IGH, "EPSG:4326", always_xy=True)
    xs = x0 + (np.arange(cols) + 0.5) * SG_RES
    ys = y0 - (np.arange(rows) + 0.5) * SG_RES
    lon, lat = to_ll.transform(*np.meshgrid(xs, ys))
    w, _, _, n = BBOX
    c = np.floor((lon - w) / JOB_RES)
    r = np.floor((n - lat) / JOB_RES)
    inside = (
        (c >= 0)
        & (c < CELLS[1])
        & (r >= 0)
        & (r < CELLS[0])
        & ((lon - w) - c * JOB_RES > GUARD)
        & ((c + 1) * JOB_RES - (lon - w) > GUARD)
        & ((n - lat) - r * JOB_RES > GUARD)
        & ((r + 1) * JOB_RES - (n - lat) > GUARD)
    )
    return np.where(inside, r * CELLS[1] + c, -1).astype(np.int64)


def _vrt(
    path: Path, tiles: list[tuple[str, int, int, int, int]], x0: float, y0: float, shape: tuple[int, int]
) -> None:
    """A master VRT mosaicking ``tiles`` (relative path, row and column offset, rows, cols)."""
    wkt = rasterio.crs.CRS.from_string(IGH).to_wkt().replace('"', "&quot;")
    sources = "".join(
        f"""
    <SimpleSource>
      <SourceFilename relativeToVRT="1">{rel}</SourceFilename>
      <SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>
      <DstRect xOff="{xo}" yOff="{yo}" xSize="{w}" ySize="{h}"/>
    </SimpleSource>"""
        for rel, yo, xo, h, w in tiles
    )
    path.write_text(
        f"""<VRTDataset rasterXSize="{shape[1]}" rasterYSize="{shape[0]}">
  <SRS>{wkt}</SRS>
  <GeoTransform>{x0!r}, {SG_RES!r}, 0, {y0!r}, 0, {-SG_RES!r}</GeoTransform>
  <VRTRasterBand dataType="Int16" band="1">
    <NoDataValue>{SG_NODATA}</NoDataValue>{sources}
  </VRTRasterBand>
</VRTDataset>
"""
    )


def write_soilgrids(root: Path, names: list[str] | None = None) -> Path:
    """SoilGrids' layout under ``root`` (``root/soc/soc_0-5cm_mean.vrt``, ``.vrt.ovr`` and the
    folder of 2 x 2 tiles ``tileSG-RRR-CCC/tileSG-RRR-CCC_1-1.tif``); returns ``root``."""
    x0, y0, rows, cols = _sg_window()
    island = _islands(x0, y0, rows, cols)
    hr, hc = rows // 2, cols // 2
    parts = [(0, 0, hr, hc), (0, hc, hr, cols - hc), (hr, 0, rows - hr, hc), (hr, hc, rows - hr, cols - hc)]
    profile = {
        "driver": "GTiff",
        "count": 1,
        "dtype": "int16",
        "crs": IGH,
        "nodata": SG_NODATA,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "DEFLATE",
    }
    for name in names or sg_names():
        values = sg_value(name).reshape(-1)
        data = np.where(island >= 0, values[np.clip(island, 0, None)], SG_NODATA).astype(np.int16)
        folder = root / name.split("_")[0]
        tiles = []
        for k, (yo, xo, h, w) in enumerate(parts):
            tid = f"tileSG-{40 + k // 2:03d}-{100 + k % 2:03d}"
            rel = f"{name}/{tid}/{tid}_1-1.tif"
            (folder / name / tid).mkdir(parents=True, exist_ok=True)
            transform = from_origin(x0 + xo * SG_RES, y0 - yo * SG_RES, SG_RES, SG_RES)
            with rasterio.open(folder / rel, "w", width=w, height=h, transform=transform, **profile) as dst:
                dst.write(data[yo : yo + h, xo : xo + w], 1)
            tiles.append((rel, yo, xo, h, w))
        vrt = folder / f"{name}.vrt"
        _vrt(vrt, tiles, x0, y0, (rows, cols))
        with rasterio.Env(COMPRESS_OVERVIEW="DEFLATE"), rasterio.open(vrt, "r+") as ds:
            ds.build_overviews(list(SG_OVERVIEWS), Resampling.average)  # -> NAME.vrt.ovr
    return root


def sg_stock(stat: str = "mean") -> np.ndarray:
    """The stock per cell by hand: sum over the three layers of soc [g/kg] x bdod [g/cm3] x
    (1 - cfvo [fraction]) x thickness [cm] x 0.1 (t C/ha), from the stored integers with
    SoilGrids' conversion factors (soc / 10, bdod / 100, cfvo / 1000). NaN where a layer is
    missing."""
    total = np.zeros(CELLS)
    for k, depth in enumerate(SG_DEPTHS):
        soc = sg_value(f"soc_{depth}_{stat}").astype(float)
        bdod = sg_value(f"bdod_{depth}_mean").astype(float)
        cfvo = sg_value(f"cfvo_{depth}_mean").astype(float)
        layer = soc / 10 * (bdod / 100) * (1 - cfvo / 1000) * SG_THICKNESS[k] * 0.1
        total += np.where((soc == SG_NODATA) | (bdod == SG_NODATA) | (cfvo == SG_NODATA), np.nan, layer)
    return total


# ---- OpenLandMap ----------------------------------------------------------------------

OLM_RES = 1.0 / 480.0  # 250 m at the equator, in degrees (OpenLandMap's EPSG:4326 grid)
OLM_NODATA = 255
OLM_DEPTHS = (0, 10, 30)
SOC_COLLECTION = "organic.carbon_usda.6a1c"
BD_COLLECTION = "bulkdens.fineearth_usda.4a1h"
OLM_RELEASE = (1950, 2017)  # the releases' period (one item each, dated by its start)


def olm_key(collection: str, depth: int) -> str:
    return f"{collection}_m_250m_b{depth}cm"


def olm_soc() -> np.ndarray:
    """Stored SOC integers ("x 5 g/kg") at 0, 10, 30 cm per cell (one release); cell (1, 1) has
    no data at 10 cm."""
    out = np.zeros((3, *CELLS), dtype=np.int64)
    out[:, 0, 0] = [8, 5, 3]
    out[:, 0, 1] = [10, 7, 4]
    out[:, 1, 0] = [6, 4, 2]
    out[:, 1, 1] = [12, OLM_NODATA, 6]
    return out.astype(np.uint8)


def olm_bdod() -> np.ndarray:
    """Stored bulk-density integers ("x 10 kg/m3") at 0, 10, 30 cm per cell (one release)."""
    cell = np.arange(4).reshape(CELLS)
    return np.stack([110 + 5 * cell, 125 + 5 * cell, 140 + 5 * cell]).astype(np.uint8)


def olm_stock() -> np.ndarray:
    """The stock per cell by hand, the ingest's way: each property's interval mean is the mean
    of its two point values (0-10 and 10-30 cm; the trapezoidal rule), and the stock sums
    content [g/kg] x density [g/cm3] x thickness [cm] x 0.1 over the intervals (no coarse
    fragments: assumed 0)."""
    soc = olm_soc().astype(float)
    soc[soc == OLM_NODATA] = np.nan
    s = soc * 5.0  # g/kg
    b = olm_bdod().astype(float) * 10.0 / 1000.0  # g/cm3
    total = np.zeros(CELLS)
    for k, (d0, d1) in enumerate(itertools.pairwise(OLM_DEPTHS)):
        total += (s[k] + s[k + 1]) / 2 * (b[k] + b[k + 1]) / 2 * (d1 - d0) * 0.1
    return total


def _olm_cog(path: Path, cells: np.ndarray) -> None:
    per = round(JOB_RES / OLM_RES)
    data = np.kron(cells, np.ones((per, per), dtype=np.uint8)).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    w, _, _, n = BBOX
    profile = {
        "driver": "COG",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": "uint8",
        "crs": "EPSG:4326",
        "transform": from_origin(w, n, OLM_RES, OLM_RES),
        "nodata": OLM_NODATA,
        "compress": "DEFLATE",
        "blocksize": 512,
        "overview_resampling": "average",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def _olm_item(
    root: Path, collection: str, start: int, end: int, layers: np.ndarray, title: str
) -> dict[str, object]:
    period = f"{start}0101_{end}1231"
    item_id = f"{collection}_{period}"
    w, s, e, n = BBOX
    assets: dict[str, object] = {}
    for k, depth in enumerate(OLM_DEPTHS):
        key = olm_key(collection, depth)
        name = f"{collection}_m_250m_b{depth}..{depth}cm_{period}_go_epsg.4326_v0.2.tif"
        path = root / "data" / collection / name
        _olm_cog(path, layers[k])
        assets[key] = {
            "href": path.resolve().as_uri(),
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": f"{title} at {depth} cm ({start}-{end})",
            "roles": ["data"],
        }
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": ["https://stac-extensions.github.io/projection/v1.1.0/schema.json"],
        "id": item_id,
        "collection": collection,
        "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
        "bbox": [w, s, e, n],
        "properties": {
            "datetime": None,
            "start_datetime": f"{start}-01-01T00:00:00Z",
            "end_datetime": f"{end}-12-31T00:00:00Z",
            "proj:epsg": 4326,
            "proj:shape": [round((n - s) / OLM_RES), round((e - w) / OLM_RES)],
            "proj:transform": list(from_origin(w, n, OLM_RES, OLM_RES))[:6],
        },
        "links": [
            {"rel": "collection", "href": "../collection.json", "type": "application/json"},
            {"rel": "parent", "href": "../collection.json", "type": "application/json"},
            {"rel": "root", "href": "../../catalog.json", "type": "application/json"},
        ],
        "assets": assets,
    }


def _collection(
    collection: str,
    title: str,
    items: list[dict[str, object]],
    years: tuple[int, int],
    bbox: tuple[float, ...],
    license: str,
) -> dict:
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": collection,
        "title": title,
        "description": f"test fixture in the encoding of OpenLandMap's {collection}",
        "license": license,
        "extent": {
            "spatial": {"bbox": [list(bbox)]},
            "temporal": {"interval": [[f"{years[0]}-01-01T00:00:00Z", f"{years[1]}-12-31T00:00:00Z"]]},
        },
        "links": [
            {"rel": "root", "href": "../catalog.json", "type": "application/json"},
            {"rel": "parent", "href": "../catalog.json", "type": "application/json"},
            *[
                {"rel": "item", "href": f"./{i['id']}/{i['id']}.json", "type": "application/json"}
                for i in items
            ],
        ],
    }


def write_openlandmap(root: Path) -> Path:
    """A static catalog at ``root``: the SOC content (one item of ``SOC_COLLECTION``) and the
    bulk density (one item of ``BD_COLLECTION``), one release each; returns it."""
    docs = {
        SOC_COLLECTION: (
            "Soil organic carbon content (x 5 g/kg)",
            [_olm_item(root, SOC_COLLECTION, *OLM_RELEASE, olm_soc(), "Soil organic carbon content")],
            OLM_RELEASE,
        ),
        BD_COLLECTION: (
            "Soil bulk density fine earth (x 10 kg/m3)",
            [_olm_item(root, BD_COLLECTION, *OLM_RELEASE, olm_bdod(), "Bulk density (fine earth)")],
            OLM_RELEASE,
        ),
    }
    return _write_catalog(root, docs, BBOX, "CC-BY-SA-4.0")


def _write_catalog(
    root: Path,
    docs: dict[str, tuple[str, list[dict[str, object]], tuple[int, int]]],
    bbox: tuple[float, ...],
    license: str,
) -> Path:
    """The static catalog at ``root``: per collection id its (title, items, years)."""
    for collection, (title, items, years) in docs.items():
        folder = root / collection
        for item in items:
            (folder / str(item["id"])).mkdir(parents=True, exist_ok=True)
            (folder / str(item["id"]) / f"{item['id']}.json").write_text(json.dumps(item, indent=1))
        (folder / "collection.json").write_text(
            json.dumps(_collection(collection, title, items, years, bbox, license), indent=1)
        )
    catalog = {
        "type": "Catalog",
        "stac_version": "1.0.0",
        "id": "openlandmap",
        "description": "OpenLandMap-shaped static catalog (test fixture)",
        "links": [
            {"rel": "root", "href": "./catalog.json", "type": "application/json"},
            *[{"rel": "child", "href": f"./{c}/collection.json", "type": "application/json"} for c in docs],
        ],
    }
    (root / "catalog.json").write_text(json.dumps(catalog, indent=1))
    return root


# ---- OpenLandMap-soildb (SOC density per 5-year period) -------------------------------------
#
# The encoding of catalogs/sources/openlandmap-soildb.yaml (see its comments for what is
# verified and from where): collection oc_iso.10694.1995.mg.cm3, one item per period
# (id COLLECTION_YYYY0101_YYYY1231, datetime null, start/end_datetime the period), assets
# COLLECTION_{m,p16,p84}_{30m,120m}_b0cm..30cm, COGs in EPSG:4326, int16 x 10 kg/m3 with
# nodata 32767 and the scale 0.1 in the GeoTIFF's band metadata, not log-transformed. The mean
# is at 0.00025 degrees (30 m); the P16/P84 layers at 120 m (written here at 0.001 degrees, an
# assumption: they are not read). Tiling: DEFLATE, 512-pixel blocks (GDAL's COG default; the
# production tiles were written with 1024-pixel blocks, the mosaics' is unverified). A small region (2 x 2 cells of 0.1 degree, symmetric about
# the equator: equal areas) keeps the 30 m files small.

DB_COLLECTION = "oc_iso.10694.1995.mg.cm3"
DB_VERSION = "v20250204"
DB_BBOX = (36.0, -0.1, 36.2, 0.1)
DB_JOB_RES = 0.1
DB_RES = 0.00025
DB_RES_120 = 0.001
DB_NODATA = 32767
DB_SCALE = 0.1  # stored x 0.1 = kg/m3
DB_PERIODS = ((2000, 2005), (2005, 2010), (2010, 2015), (2015, 2020), (2020, 2022))
DB_EPOCHS = tuple(p[0] for p in DB_PERIODS)


def db_key(stat: str = "m", res: str = "30m") -> str:
    return f"{DB_COLLECTION}_{stat}_{res}_b0cm..30cm"


def db_ocd(period: int) -> np.ndarray:
    """Stored integers (x 10 kg/m3) per cell for the ``period``-th period: (0, 0) grows by 5 a
    period; (0, 1) is 250 shifted by 0, +4, -4, +8, +4; (1, 0) is constant; (1, 1) falls by 10
    a period and has no data in 2010-2015."""
    out = np.zeros(CELLS, dtype=np.int16)
    out[0, 0] = 300 + 5 * period
    out[0, 1] = 250 + (0, 4, -4, 8, 4)[period]
    out[1, 0] = 280
    out[1, 1] = DB_NODATA if period == 2 else 400 - 10 * period
    return out


def db_stock(period: int) -> np.ndarray:
    """The stock by hand: stored x 0.1 kg/m3 x 0.30 m x 10 (t C/ha); NaN where no data."""
    raw = db_ocd(period).astype(float)
    return np.where(raw == DB_NODATA, np.nan, raw * 0.1 * 0.30 * 10)


def _db_cog(path: Path, cells: np.ndarray, res: float) -> None:
    per = round(DB_JOB_RES / res)
    data = np.kron(cells, np.ones((per, per), dtype=np.int16)).astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    w, _, _, n = DB_BBOX
    profile = {
        "driver": "COG",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": "int16",
        "crs": "EPSG:4326",
        "transform": from_origin(w, n, res, res),
        "nodata": DB_NODATA,
        "compress": "DEFLATE",
        "blocksize": 512,
        "overview_resampling": "average",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.scales = (DB_SCALE,)
        dst.units = ("kg/m3",)


def _db_item(root: Path, k: int) -> dict[str, object]:
    start, end = DB_PERIODS[k]
    period = f"{start}0101_{end}1231"
    item_id = f"{DB_COLLECTION}_{period}"
    w, s, e, n = DB_BBOX
    mean = db_ocd(k)
    valid = mean != DB_NODATA
    layers = {
        ("m", "30m"): (mean, DB_RES),
        ("p16", "120m"): (np.where(valid, mean - 60, DB_NODATA).astype(np.int16), DB_RES_120),
        ("p84", "120m"): (np.where(valid, mean + 90, DB_NODATA).astype(np.int16), DB_RES_120),
    }
    assets: dict[str, object] = {}
    for (stat, res_name), (cells, res) in layers.items():
        name = f"{DB_COLLECTION}_{stat}_{res_name}_b0cm..30cm_{period}_g_epsg.4326_{DB_VERSION}.tif"
        path = root / "data" / name
        _db_cog(path, cells, res)
        assets[db_key(stat, res_name)] = {
            "href": path.resolve().as_uri(),
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": f"Soil organic carbon density ({stat}, {res_name}) 0-30 cm, {start}-{end}",
            "roles": ["data"],
            "proj:shape": [round((n - s) / res), round((e - w) / res)],
            "proj:transform": list(from_origin(w, n, res, res))[:6],
            "raster:bands": [{"data_type": "int16", "nodata": DB_NODATA, "unit": "kg/m3"}],
        }
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
        ],
        "id": item_id,
        "collection": DB_COLLECTION,
        "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
        "bbox": [w, s, e, n],
        "properties": {
            "datetime": None,
            "start_datetime": f"{start}-01-01T00:00:00Z",
            "end_datetime": f"{end}-12-31T23:59:59Z",
            "proj:epsg": 4326,
        },
        "links": [
            {"rel": "collection", "href": "../collection.json", "type": "application/json"},
            {"rel": "parent", "href": "../collection.json", "type": "application/json"},
            {"rel": "root", "href": "../../catalog.json", "type": "application/json"},
        ],
        "assets": assets,
    }


def write_soildb(root: Path) -> Path:
    """A static catalog at ``root`` with the soildb SOC density collection, an item per period."""
    items = [_db_item(root, k) for k in range(len(DB_PERIODS))]
    title = "OpenLandMap-soildb: Soil organic carbon density [kg/m3]"
    return _write_catalog(root, {DB_COLLECTION: (title, items, (2000, 2022))}, DB_BBOX, "CC-BY-4.0")
