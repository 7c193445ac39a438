"""A fine-resolution demo catalog for the scale benchmark, written window by window.

``make_demo_catalog`` draws whole-grid random fields (FFT-filtered noise, 12 x ny x nx monthly
climate in float64): at 0.03 deg over Africa it took 30 min and 8 GB, so 0.01 deg (51 M cells) did
not fit. The benchmark measures the pipeline, not the generator, so here the demo catalog is made
once at a coarse resolution and its soil and land-cover rasters are refined by an integer factor
(each coarse cell repeated ``factor x factor`` times, i.e. nearest-neighbour upsampling), band of
rows by band of rows: memory is one band whatever the grid. The monthly climate is kept at the
coarse resolution, as real climate products are coarser than soil maps (TerraClimate ~4 km); the
ingest job regrids it to the job's grid as it would a real one. The values are blocky, but every
stage does its full per-cell work on the fine grid.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import rasterio
from affine import Affine
from rasterio.windows import Window

REFINED = ("demo-soilgrids", "demo-worldcover")  # collections whose rasters are refined
BAND_ROWS = 512  # destination rows per write (one tiled block row)


def refine_raster(src_path: Path, dst_path: Path, factor: int) -> tuple[int, int]:
    """Write ``src_path`` refined ``factor`` times as a tiled, DEFLATE-compressed GeoTIFF (512 x
    512 blocks); returns the new (height, width). Reads and writes one band of rows at a time."""
    dst_path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(src_path) as src:
        h, w = src.height * factor, src.width * factor
        t = src.transform
        profile = {
            "driver": "GTiff",
            "height": h,
            "width": w,
            "count": 1,
            "dtype": src.dtypes[0],
            "crs": src.crs,
            "transform": Affine(t.a / factor, t.b, t.c, t.d, t.e / factor, t.f),
            "nodata": src.nodata,
            "compress": "DEFLATE",
            "tiled": True,
            "blockxsize": 512,
            "blockysize": 512,
            "BIGTIFF": "IF_SAFER",
        }
        with rasterio.open(dst_path, "w", **profile) as dst:
            for r0 in range(0, h, BAND_ROWS):
                r1 = min(h, r0 + BAND_ROWS)
                s0, s1 = r0 // factor, -(-r1 // factor)
                coarse = src.read(1, window=Window(0, s0, src.width, s1 - s0))
                fine = coarse.repeat(factor, axis=0).repeat(factor, axis=1)
                off = r0 - s0 * factor
                dst.write(fine[off : off + (r1 - r0)], 1, window=Window(0, r0, w, r1 - r0))
    return h, w


def _refine_item(item: dict[str, Any], data_src: Path, data_dst: Path, factor: int) -> None:
    for asset in item["assets"].values():
        src = Path(asset["href"].removeprefix("file://"))
        dst = data_dst / src.relative_to(data_src)
        shape = refine_raster(src, dst, factor)
        asset["href"] = dst.resolve().as_uri()
        asset["type"] = "image/tiff; application=geotiff"
        for band in asset.get("raster:bands", []):
            band["spatial_resolution"] = band["spatial_resolution"] / factor
    props = item["properties"]
    props["proj:shape"] = list(shape)
    a, b, c, d, e, f = props["proj:transform"]
    props["proj:transform"] = [a / factor, b, c, d, e / factor, f]


def refine_catalog(src: Path, dst: Path, factor: int) -> Path:
    """Copy the demo catalog at ``src`` (its JSON; the rasters of the collections not refined are
    referenced where they are) to ``dst`` with the soil and land-cover rasters refined ``factor``
    times; returns the new catalog.json. ``src`` must stay until the benchmark ends."""
    if factor < 1:
        raise ValueError(f"factor: expected an integer >= 1, got {factor}")
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.tif"))
    for cid in REFINED:
        for path in sorted((dst / cid).rglob("*.json")):
            doc = json.loads(path.read_text())
            if doc.get("type") != "Feature":
                continue
            _refine_item(doc, src / "data", dst / "data", factor)
            path.write_text(json.dumps(doc, indent=1))
    return dst / "catalog.json"
