"""Zonal statistics for scientists: coverage per (grid, region set), cached; tables per region.

The geometry work happens here, once per grid and region set: exact coverage fractions from
exactextract (it does the polygon clipping well), or cell centres from rasterio's rasterize.
The result is a ``kernels.zonal.Coverage`` kept in a cache directory, and every reduction after
that is the numba kernel reading the values once.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import rasterio.windows
import shapely
from affine import Affine
from pyproj import CRS

from kernels.zonal import STATS, Coverage, finalize, rollup, zonal_stats
from pipeline.errors import InputFileError, PipelineError, clip, quote
from pipeline.grid import Grid
from pipeline.regions.hierarchy import load_regions

CoverageMode = Literal["exact", "centre"]
STAT_CHOICES = ("count", "sum", "mean", "min", "max", "area_mean", "area_sum")


def _region_key(regions: gpd.GeoDataFrame) -> str:
    h = hashlib.sha256()
    for rid, geom in zip(regions["region_id"], regions.geometry, strict=True):
        h.update(str(rid).encode())
        h.update(geom.wkb)
    return h.hexdigest()


def exact_entries(regions: gpd.GeoDataFrame, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cell, region index, fraction) for every cell each region touches, by exactextract."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    (w, s, e, n) = rasterio.transform.array_bounds(grid.shape[0], grid.shape[1], grid.transform)
    dummy = np.zeros(grid.shape, dtype=np.uint8)
    src = NumPyRasterSource(dummy, xmin=w, ymin=s, xmax=e, ymax=n, srs_wkt=grid.crs.to_wkt())
    vec = regions[["geometry"]].to_crs(grid.crs).reset_index(drop=True)
    res = exact_extract(src, vec, ["cell_id", "coverage"], output="pandas")
    cells = [np.asarray(c, dtype=np.int64) for c in res["cell_id"]]
    fracs = [np.asarray(c, dtype=np.float64) for c in res["coverage"]]
    regs = [np.full(len(c), i, dtype=np.int32) for i, c in enumerate(cells)]
    if not cells:
        empty = np.empty(0)
        return empty.astype(np.int64), empty.astype(np.int32), empty
    return np.concatenate(cells), np.concatenate(regs), np.concatenate(fracs)


def centre_entries(regions: gpd.GeoDataFrame, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cell, region index, 1.0) for every cell whose centre lies in a region (each region
    rasterised in its own window, so overlapping regions keep all their cells)."""
    vec = regions.to_crs(grid.crs)
    cells, regs = [], []
    nx = grid.shape[1]
    for i, geom in enumerate(vec.geometry):
        if geom is None or geom.is_empty:
            continue
        col0, row0, col1, row1 = _window(geom.bounds, grid)
        if col1 <= col0 or row1 <= row0:
            continue
        win = rasterio.windows.Window(col0, row0, col1 - col0, row1 - row0)
        wt = rasterio.windows.transform(win, grid.transform)
        mask = rasterio.features.rasterize(
            [(geom, 1)], out_shape=(row1 - row0, col1 - col0), transform=wt, fill=0, dtype="uint8"
        )
        rr, cc = np.nonzero(mask)
        cells.append((rr + row0) * nx + (cc + col0))
        regs.append(np.full(rr.size, i, dtype=np.int32))
    if not cells:
        empty = np.empty(0)
        return empty.astype(np.int64), empty.astype(np.int32), empty
    c = np.concatenate(cells).astype(np.int64)
    return c, np.concatenate(regs), np.ones(c.size)


def _window(bounds: tuple[float, float, float, float], grid: Grid) -> tuple[int, int, int, int]:
    """(col0, row0, col1, row1) of the cells a bounding box touches, clipped to the grid."""
    w, s, e, n = bounds
    t = grid.transform
    ny, nx = grid.shape
    cols = sorted(((w - t.c) / t.a, (e - t.c) / t.a))
    rows = sorted(((n - t.f) / t.e, (s - t.f) / t.e))
    col0, col1 = max(0, int(np.floor(cols[0]))), min(nx, int(np.ceil(cols[1])))
    row0, row1 = max(0, int(np.floor(rows[0]))), min(ny, int(np.ceil(rows[1])))
    return col0, row0, col1, row1


def coverage_from_entries(
    cells: np.ndarray, regions: np.ndarray, fracs: np.ndarray, shape: tuple[int, int], n_regions: int
) -> Coverage:
    """Split entries into dense interior labels and the sorted border list."""
    order = np.argsort(cells, kind="stable")
    cells, regions, fracs = cells[order], regions[order], fracs[order]
    keep = fracs > 0
    cells, regions, fracs = cells[keep], regions[keep], fracs[keep]
    starts = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]]) if cells.size else np.empty(0, int)
    counts = np.diff(np.r_[starts, cells.size])
    single = np.zeros(cells.size, dtype=bool)
    single[starts[counts == 1]] = True
    dense = single & (fracs >= 1.0)
    dtype = np.int16 if n_regions < 32767 else np.int32
    labels: np.ndarray[Any, np.dtype[np.signedinteger[Any]]] = np.full(shape[0] * shape[1], -1, dtype=dtype)
    labels[cells[dense]] = regions[dense]
    return Coverage(
        shape,
        n_regions,
        labels.reshape(shape),
        cells[~dense].copy(),
        regions[~dense].copy(),
        fracs[~dense].copy(),
    )


def get_coverage(
    regions: gpd.GeoDataFrame, grid: Grid, mode: CoverageMode = "exact", cache_dir: Path | None = None
) -> Coverage:
    """The coverage of ``regions`` on ``grid``, from the cache when it was computed before."""
    if mode not in ("exact", "centre"):
        raise PipelineError(f"--coverage: expected 'exact' or 'centre', got {mode!r}.")
    key = hashlib.sha256(f"{mode}|{grid.key()}|{_region_key(regions)}".encode()).hexdigest()[:24]
    path = None if cache_dir is None else cache_dir / f"coverage-{key}.npz"
    if path is not None and path.exists():
        return load_coverage(path, grid)
    if mode == "exact":
        cov = exact_coverage(regions, grid, None if path is None else labels_path(path))
    else:
        cov = coverage_from_entries(*centre_entries(regions, grid), grid.shape, len(regions))
    if path is not None:
        save_coverage(path, cov)
    return cov


def load_coverage(path: Path, grid: Grid) -> Coverage:
    """A saved coverage; its labels memory-mapped when they were saved beside it (``labels_path``):
    nothing of the label raster is read until a window of it is."""
    z = np.load(path)
    side = labels_path(path)
    labels = z["labels"] if "labels" in z.files else np.load(side, mmap_mode="r")
    return Coverage(
        grid.shape, int(z["n_regions"]), labels, z["border_cell"], z["border_region"], z["border_frac"]
    )


def labels_path(path: Path) -> Path:
    """Where the label raster of the coverage saved at ``path`` is kept (a ``.npy`` file)."""
    return path.with_name(path.name.removesuffix(".npz") + ".labels.npy")


def save_coverage(path: Path, cov: Coverage) -> None:
    """Write atomically: a reader sees the old file, the new one, or none. Labels written by
    ``exact_coverage`` (a memory map of ``labels_path``) stay where they are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    mapped = isinstance(cov.labels, np.memmap) and Path(str(cov.labels.filename)) == labels_path(path)
    arrays: dict[str, Any] = {
        "n_regions": cov.n_regions,
        "border_cell": cov.border_cell,
        "border_region": cov.border_region,
        "border_frac": cov.border_frac,
    }
    if not mapped:
        arrays["labels"] = cov.labels
    np.savez(tmp, **arrays)
    tmp.replace(path)


def label_window(cov: Coverage, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """A copy of the labels of rows ``r0..r1`` x columns ``c0..c1``. A memory-mapped label raster
    is mapped afresh and unmapped after the copy, so the pages read do not stay in the process."""
    if isinstance(cov.labels, np.memmap) and cov.labels.filename:
        m = np.load(cov.labels.filename, mmap_mode="r")
        out = np.array(m[r0:r1, c0:c1])
        del m
        return out
    return np.ascontiguousarray(cov.labels[r0:r1, c0:c1])


BAND_CELLS = 4_000_000  # cells per band of rows when a coverage is computed band by band


def exact_coverage(regions: gpd.GeoDataFrame, grid: Grid, labels_file: Path | None = None) -> Coverage:
    """The exact coverage of ``regions`` on ``grid``, computed band of rows by band of rows
    (exactextract over each band's window, with the regions that reach it), so memory is bounded
    by the band and the border cells, not by the grid. With ``labels_file`` the label raster is
    written there band by band (``.npy``) and returned memory-mapped; else it is held in memory.
    Fractions are per cell, so a cell's entries do not depend on the band it falls in."""
    ny, nx = grid.shape
    n = len(regions)
    dtype = np.int16 if n < 32767 else np.int32
    vec = regions[["geometry"]].to_crs(grid.crs).reset_index(drop=True)
    tree = vec.sindex
    rows = max(1, BAND_CELLS // max(nx, 1))
    borders: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    mem = None if labels_file is not None else np.empty((ny, nx), dtype=dtype)
    tmp = None if labels_file is None else labels_file.with_suffix(".tmp.npy")
    with contextlib.ExitStack() as stack:
        f = None
        if tmp is not None:
            tmp.parent.mkdir(parents=True, exist_ok=True)
            f = stack.enter_context(tmp.open("wb"))
            header = {
                "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                "fortran_order": False,
                "shape": (ny, nx),
            }
            np.lib.format.write_array_header_2_0(f, header)
        for r0 in range(0, ny, rows):
            r1 = min(ny, r0 + rows)
            band = Grid(grid.transform @ Affine.translation(0, r0), (r1 - r0, nx), grid.crs)
            (w, s, e, nn) = rasterio.transform.array_bounds(r1 - r0, nx, band.transform)
            hit = np.sort(tree.query(shapely.box(min(w, e), min(s, nn), max(w, e), max(s, nn))))
            if hit.size:
                cells, regs, fracs = exact_entries(vec.iloc[hit], band)
                cov = coverage_from_entries(cells, hit[regs].astype(np.int32), fracs, band.shape, n)
                labels = cov.labels.astype(dtype, copy=False)
                borders.append((cov.border_cell + r0 * nx, cov.border_region, cov.border_frac))
            else:
                labels = np.full((r1 - r0, nx), -1, dtype=dtype)
            if f is not None:
                f.write(np.ascontiguousarray(labels).tobytes())
            elif mem is not None:
                mem[r0:r1] = labels
    if tmp is not None and labels_file is not None:
        tmp.replace(labels_file)
        mem = np.load(labels_file, mmap_mode="r")
    assert mem is not None
    cat = [np.concatenate(parts) for parts in zip(*borders, strict=True)] if borders else []
    empty = np.empty(0)
    return Coverage(
        (ny, nx),
        n,
        mem,
        cat[0] if cat else empty.astype(np.int64),
        cat[1].astype(np.int32) if cat else empty.astype(np.int32),
        cat[2] if cat else empty,
    )


def region_set(
    spec: str, registry: Path | None = None, *, id_field: str | None = None, name_field: str | None = None
) -> tuple[gpd.GeoDataFrame, str]:
    """The leaf regions to cover for ``spec``: 'country', 'region' and 'global' (computed on
    countries and rolled up), a registered set's level ('subnational', 'custom'), or a vector
    file. Returns (leaves, level to report)."""
    if spec in ("country", "region", "global", "subnational", "custom"):
        allr = load_regions(registry)
        leaf_level = "country" if spec in ("region", "global") else spec
        leaves = allr[allr["level"] == leaf_level].reset_index(drop=True)
        if leaves.empty:
            raise PipelineError(f"--regions {spec}: no regions of that level are registered.")
        return leaves, spec
    path = Path(spec)
    try:
        exists = path.exists()
    except OSError:  # e.g. a name longer than the file system allows
        exists = False
    if not exists:
        raise InputFileError(
            f"--regions: expected country, region, global, subnational, custom or a vector file, "
            f"got {quote(spec)} (no such file)."
        )
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises many types for an unreadable file; all mean that
        raise InputFileError(
            f"--regions {clip(path)}: cannot read it as a vector file ({type(exc).__name__}: "
            f"{clip(exc)}). Expected GeoPackage, GeoJSON or a shapefile; check the format."
        ) from None
    idf = id_field or ("region_id" if "region_id" in gdf.columns else None)
    if idf is None or idf not in gdf.columns:
        raise PipelineError(
            f"{path}: pass --id-field naming the field with region ids; fields are "
            f"{[c for c in gdf.columns if c != 'geometry']}."
        )
    nf = name_field or ("name" if "name" in gdf.columns else idf)
    if gdf.crs is None:
        raise PipelineError(f"{path}: the file declares no CRS; set it (e.g. EPSG:4326) first.")
    cols = {
        "region_id": gdf[idf].astype(str),
        "name": gdf[nf].astype(str),
        "level": "file",
        "parent_id": None,
    }
    out = gpd.GeoDataFrame(cols, geometry=gdf.geometry, crs=gdf.crs)
    return out, "file"


def read_raster(path: Path, band: int = 1) -> tuple[np.ndarray, Grid]:
    """A single band as float32 with nodata as NaN (scale/offset applied), and its grid."""
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise PipelineError(f"{path}: the raster has no CRS; assign one first.")
            if not 1 <= band <= src.count:
                raise InputFileError(
                    f"--band: expected a band of {path} (1 to {src.count}), got {band}. Pass "
                    f"--band 1{f' to {src.count}' if src.count > 1 else ''}."
                )
            arr = src.read(band, masked=True).astype(np.float32)
            scale, offset = src.scales[band - 1], src.offsets[band - 1]
            grid = Grid(src.transform, (src.height, src.width), CRS.from_user_input(src.crs))
    except rasterio.RasterioIOError as exc:
        raise InputFileError(
            f"{path}: cannot read it as a raster ({exc}). Expected a GeoTIFF/COG; check the path."
        ) from exc
    data = arr.filled(np.nan) * np.float32(scale) + np.float32(offset)
    return np.ascontiguousarray(data), grid


def read_cube_variable(store: str, variable: str, selectors: dict[str, Any]) -> tuple[np.ndarray, Grid]:
    """One 2-D slice of a cube variable (e.g. ``soc`` at ``epoch=2020, depth=0``) and its grid."""
    from pipeline.store import open_cube

    cube = open_cube(store)
    if variable not in cube:
        raise PipelineError(
            f"--variable {variable!r}: not in the cube; it has {sorted(map(str, cube.data_vars))}."
        )
    da = cube[variable]
    extra = [d for d in da.dims if d not in ("y", "x")]
    missing = [d for d in extra if d not in selectors]
    if missing:
        raise PipelineError(
            f"--variable {variable!r} has dims {da.dims}: select {missing} (e.g. --epoch "
            f"{int(cube['epoch'].values[-1]) if 'epoch' in cube.coords else 2020} --depth 0)."
        )
    pick = {str(d): selectors[str(d)] for d in extra}
    by_index = {d: v for d, v in pick.items() if d == "depth"}
    by_label = {d: v for d, v in pick.items() if d != "depth"}
    try:
        da = da.isel(by_index).sel(by_label)
    except (KeyError, IndexError):
        have = {
            str(d): (f"0 to {cube.sizes[d] - 1}" if d == "depth" else cube[d].values.tolist()) for d in extra
        }
        raise PipelineError(
            f"selection {quote(pick)} is not in the cube: --{'/--'.join(map(str, extra))} must be one of "
            f"{clip(have)} (--depth is an index, 0 = top). Pick values from those."
        ) from None
    return np.ascontiguousarray(da.values.astype(np.float32)), Grid.of(cube)


def zonal_table(
    values: np.ndarray,
    grid: Grid,
    leaves: gpd.GeoDataFrame,
    level: str,
    stats: Sequence[str] = STAT_CHOICES,
    mode: CoverageMode = "exact",
    cache_dir: Path | None = None,
    registry: Path | None = None,
) -> pd.DataFrame:
    """One row per region (id, name, the asked statistics)."""
    bad = [s for s in stats if s not in STAT_CHOICES]
    if bad:
        raise PipelineError(f"--stats: unknown {bad}; choose from {', '.join(STAT_CHOICES)}.")
    cov = get_coverage(leaves, grid, mode, cache_dir)
    acc = zonal_stats(values, cov, grid.row_areas())[:, -1, :]
    ids, names = leaves["region_id"].tolist(), leaves["name"].tolist()
    if level == "region":
        allr = load_regions(registry).set_index("region_id")
        parent_of = [allr.loc[i, "parent_id"] for i in ids]
        parents = sorted({p for p in parent_of if p and allr.loc[p, "level"] == "region"})
        pidx = {p: k for k, p in enumerate(parents)}
        acc = rollup(acc[:, None, :], [pidx.get(p, -1) for p in parent_of], len(parents))[:, 0, :]
        ids, names = parents, [str(allr.loc[p, "name"]) for p in parents]
    elif level == "global":  # every country, Antarctica included (it has no region)
        acc = rollup(acc[:, None, :], [0] * len(ids), 1)[:, 0, :]
        ids, names = ["global"], ["World"]
    fin = finalize(acc)
    table: dict[str, Any] = {"region_id": ids, "name": names}
    for s in stats:
        table[s] = fin[s]
    table["area_km2"] = fin["area_total"] / 1e6
    table["valid_fraction"] = fin["valid_fraction"]
    return pd.DataFrame(table)


__all__ = ["STATS", "Grid", "get_coverage", "read_raster", "region_set", "zonal_table"]
