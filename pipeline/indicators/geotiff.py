"""``socobs export map``: one indicator map of one epoch as a Cloud-Optimized GeoTIFF.

The map is read from the store's ``indicators`` group (the tip, or ``--snapshot``) as stored:
float32 maps with NaN for no data, class maps (``sh_class``, ``climate_zone``) as uint8 codes
with their no-data code (``_FillValue``, 255) as the GeoTIFF's nodata. GDAL's COG driver writes
it tiled (``blocksize`` x ``blocksize`` tiles), DEFLATE-compressed, with internal overviews
(averages, modes for class maps) down to one tile, in the grid's CRS (the group's grid mapping).
The file is written next to ``dest`` and renamed into place: a failed export leaves nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import icechunk
import numpy as np
import rasterio

from pipeline import cf
from pipeline.errors import PipelineError
from pipeline.grid import Grid
from pipeline.store import BRANCH, INDICATORS, StoreError, open_group, open_repo

MAX_BLOCK = 512


def blocksize(shape: tuple[int, int]) -> int:
    """Tile side: 512, or less for a small map so that it still gets one overview level (GDAL's
    COG driver adds levels while the longest side exceeds a tile); at least 16 (its minimum)."""
    side = MAX_BLOCK
    while side > 16 and side >= max(shape):
        side //= 2
    return side


def export_map(
    uri: str, indicator: str, dest: Path, *, epoch: int | None = None, snapshot: str | None = None
) -> Path:
    """Write ``indicator`` of ``epoch`` (default the latest) as a COG at ``dest``."""
    if dest.is_dir():
        raise PipelineError(
            f"--out: expected a file path (X.tif), got the directory {dest}. Pass a file path."
        )
    if not dest.parent.is_dir():
        raise PipelineError(
            f"--out {dest}: the directory {dest.parent} does not exist. Create it or choose another path."
        )
    repo = open_repo(uri)
    try:
        session = (
            repo.readonly_session(snapshot_id=snapshot) if snapshot else repo.readonly_session(branch=BRANCH)
        )
    except icechunk.IcechunkError as exc:
        raise StoreError(f"--snapshot: {uri} has no snapshot {snapshot!r}. See `socobs cube log`.") from exc
    maps = open_group(session, INDICATORS, required=False, mask_and_scale=False)
    if maps is None:
        raise StoreError(
            f"{uri}: no indicator maps in this snapshot. Run `socobs indicators JOB.yaml` first."
        )
    names = sorted(str(n) for n, v in maps.data_vars.items() if v.dims[-2:] == ("y", "x"))
    if indicator not in names:
        raise PipelineError(
            f"INDICATOR: expected one of {', '.join(names)}, got {indicator!r}. Pass one of those map names."
        )
    da = maps[indicator]
    if "epoch" in da.dims:
        epochs = [int(e) for e in maps["epoch"].values]
        if epoch is None:
            epoch = epochs[-1]
        if epoch not in epochs:
            raise PipelineError(
                f"--epoch: expected one of {', '.join(map(str, epochs))} (the epochs of the maps), "
                f"got {epoch}. Pass one of those years."
            )
        da = da.sel(epoch=epoch)
    data = np.asarray(da.values)
    klass = data.dtype == np.uint8
    nodata = float(da.attrs.get("_FillValue", da.encoding.get("_FillValue", 255))) if klass else float("nan")
    crs = cf.crs_of(maps)
    grid = Grid.from_coords(maps["x"].values, maps["y"].values, crs)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    try:
        with rasterio.open(
            tmp,
            "w",
            driver="COG",
            width=data.shape[1],
            height=data.shape[0],
            count=1,
            dtype=data.dtype.name,
            crs=grid.crs.to_wkt(),
            transform=grid.transform,
            nodata=nodata,
            BLOCKSIZE=blocksize(data.shape),
            COMPRESS="DEFLATE",
            OVERVIEW_RESAMPLING="MODE" if klass else "AVERAGE",
        ) as out:
            out.write(data, 1)
            out.update_tags(
                1, **_tags(indicator, epoch if "epoch" in maps[indicator].dims else None, da.attrs)
            )
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _tags(indicator: str, epoch: int | None, attrs: dict[str, object]) -> dict[str, str]:
    """The map's CF attributes as GeoTIFF band tags (GDAL metadata)."""
    keep = ("units", "units_label", "long_name", "standard_name", "flag_values", "flag_meanings")
    tags = {
        k: " ".join(map(str, v)) if isinstance(v, list | tuple) else str(v)
        for k, v in attrs.items()
        if k in keep
    }
    tags["indicator"] = indicator
    if epoch is not None:
        tags["epoch"] = str(epoch)
    return tags
