"""One-band Cloud-Optimized GeoTIFFs for the fixtures of real products (their dtype, nodata,
CRS, transform and tiling given by each product's fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import rasterio


def write_cog(
    path: Path, values: np.ndarray, *, crs: Any, transform: Any, nodata: float | None, blocksize: int = 256
) -> Path:
    """``values`` (rows north to south) as a DEFLATE-compressed COG at ``path`` (its folder made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "COG",
        "width": values.shape[1],
        "height": values.shape[0],
        "count": 1,
        "dtype": values.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        "compress": "DEFLATE",
        "blocksize": blocksize,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path
