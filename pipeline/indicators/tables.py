"""Region tables of the indicator job: region x epoch x stratum, every level of the hierarchy.

Leaves are computed with the cached coverage and the zonal kernel, then rolled up: countries
to their regions, everything to ``global`` (Antarctica included; it has no region). Sub-national
and custom sets registered with ``socobs regions add`` get their own coverage and rows (their
parents' rows come from the countries' coverage, not from summing them, since a user set need
not cover its parent whole).

Each column is a ratio of additive accumulators (areas, area-weighted sums), so a parent's
column is computed from exactly the sums of its children's, never a second computation:

    soc_stock                 sum(A s) / sum(A)            over valid cells, A = true cell area
    soc_stock_total           sum(A s) / 1e10              t/ha x m2 -> t (/1e4) -> Tg (/1e6)
    soc_change_rate_permille  1000 sum(A r) / sum(A s0)    r rate, s0 baseline stock, same cells
    progress_4p1000           soc_change_rate_permille / 4
    sh_share_*, trend_sig_*   sum(A [class]) / sum(A)      over cells with a class / a trend
    valid_fraction            valid area / covered area

Regions outside the cube's extent stay in the table with zero area (never dropped).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from kernels.zonal import AREA, AREA_SUM, AREA_TOTAL, Coverage, rollup, zonal_stats
from pipeline.grid import Grid
from pipeline.indicators.maps import significant
from pipeline.indicators.registry import SH_CLASSES, STRATA, STRATUM_CODES, TABLE_UNITS
from pipeline.regions.hierarchy import USER_LEVELS, load_regions, shipped_regions_path
from pipeline.regions.zonal import exact_coverage, labels_path, load_coverage, save_coverage

N_SLOTS = len(STRATA)  # strata 0..2 (cropland, grassland, tree cover) + the rest


@dataclass(frozen=True)
class RegionIndex:
    """Every table row (region) and how its accumulators are obtained."""

    ids: list[str]
    names: list[str]
    levels: list[str]
    parents: list[str]
    countries: Coverage
    country_rows: np.ndarray  # table row of each country leaf
    region_rows: np.ndarray  # table row of each region-level parent
    region_of_country: np.ndarray  # index into region_rows, -1 for none
    user_sets: list[tuple[Coverage, np.ndarray]]  # coverage and table rows of each user level
    digest: str  # of the region files


def region_files(registry: Path | None) -> list[Path]:
    """The shipped region file and every registered set, in load order."""
    extra = sorted(registry.glob("*.parquet")) if registry is not None and registry.is_dir() else []
    return [shipped_regions_path(), *extra]


def files_digest(files: list[Path]) -> str:
    """Identity of the region files (hashing bytes is 20x faster than hashing geometries)."""
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:24]


def _coverage(
    ids: list[str], level: str, grid: Grid, cache_dir: Path | None, registry: Path | None, digest: str
) -> Coverage:
    """Exact coverage of one level's regions (in ``ids`` order), cached by (grid, region files):
    with the cache warm, no geometry is read at all, and the label raster is memory-mapped (the
    job reads it window by window)."""
    key = hashlib.sha256(f"exact|{grid.key()}|{digest}|{level}".encode()).hexdigest()[:24]
    path = None if cache_dir is None else cache_dir / f"indicator-coverage-{key}.npz"
    if path is not None and path.exists():
        return load_coverage(path, grid)
    allr = load_regions(registry).set_index("region_id")
    gdf = gpd.GeoDataFrame(allr.loc[ids].reset_index(), geometry="geometry", crs=allr.crs)
    cov = exact_coverage(gdf, grid, None if path is None else labels_path(path))
    if path is not None:
        save_coverage(path, cov)
    return cov


def region_index(grid: Grid, cache_dir: Path | None, registry: Path | None) -> RegionIndex:
    """The rows (global, regions, countries, then registered sets) and their coverages."""
    files = region_files(registry)
    if not files[0].exists():
        load_regions(registry)  # raises the message that says how to restore the shipped file
    digest = files_digest(files)
    allr = pd.concat(
        [pd.read_parquet(f, columns=["region_id", "name", "level", "parent_id"]) for f in files],
        ignore_index=True,
    )
    glob = allr[allr["level"] == "global"]
    regs = allr[allr["level"] == "region"].sort_values("region_id")
    ctry = allr[allr["level"] == "country"].sort_values("region_id").reset_index(drop=True)
    users = [allr[allr["level"] == lv].sort_values("region_id").reset_index(drop=True) for lv in USER_LEVELS]
    rows = pd.concat([glob, regs, ctry, *[u for u in users if not u.empty]], ignore_index=True)
    ids = rows["region_id"].astype(str).tolist()
    pos = {r: i for i, r in enumerate(ids)}
    region_ids = regs["region_id"].astype(str).tolist()
    ridx = {r: k for k, r in enumerate(region_ids)}
    roc = np.array([ridx.get(str(p), -1) for p in ctry["parent_id"]], dtype=np.int64)
    user_sets = []
    for lv, u in zip(USER_LEVELS, users, strict=True):
        if not u.empty:
            uids = u["region_id"].astype(str).tolist()
            cov = _coverage(uids, lv, grid, cache_dir, registry, digest)
            user_sets.append((cov, np.array([pos[r] for r in uids])))
    cids = ctry["region_id"].astype(str).tolist()
    return RegionIndex(
        ids=ids,
        names=rows["name"].astype(str).tolist(),
        levels=rows["level"].astype(str).tolist(),
        parents=["" if p is None or p != p else str(p) for p in rows["parent_id"]],
        countries=_coverage(cids, "country", grid, cache_dir, registry, digest),
        country_rows=np.array([pos[r] for r in cids]),
        region_rows=np.array([pos[r] for r in region_ids]),
        region_of_country=roc,
        user_sets=user_sets,
        digest=digest,
    )


def strata_map(landcover: np.ndarray) -> np.ndarray:
    """uint8 stratum of every cell: 0 cropland, 1 grassland, 2 tree cover, 255 the rest."""
    out = np.full(landcover.shape, 255, dtype=np.uint8)
    for k, name in enumerate(STRATA[1:]):
        for code in STRATUM_CODES[name]:
            out[landcover == code] = k
    return out


def leaf_accumulators(
    covs: list[Coverage],
    values: np.ndarray,
    strata: np.ndarray,
    row_area: np.ndarray,
    n_chunks: int | None = None,
) -> list[np.ndarray]:
    """Accumulators (regions, slots, stats) of ``values`` for each coverage (countries first, then
    the user sets), slots: cropland, grassland, tree cover, rest. Additive (``kernels.zonal.combine``)."""
    return [
        zonal_stats(
            values, cov, row_area, strata=strata, n_strata=N_SLOTS - 1, minmax=False, n_chunks=n_chunks
        )
        for cov in covs
    ]


def coverages(idx: RegionIndex) -> list[Coverage]:
    """The coverages whose accumulators make every table row: countries, then each user set."""
    return [idx.countries, *[cov for cov, _ in idx.user_sets]]


def table_rows(idx: RegionIndex, leaves: list[np.ndarray]) -> np.ndarray:
    """Accumulators (rows, STRATA, stats) for every table row from the leaves' (in
    ``coverages`` order): 'all' first, then the strata; parents are roll-ups of countries."""
    out = np.zeros((len(idx.ids), N_SLOTS + 1, 7))

    def put(acc: np.ndarray, rows: np.ndarray) -> None:
        # acc slots: cropland, grassland, tree cover, rest -> all = their sum
        out[rows, 0] = acc.sum(axis=1)
        out[rows, 1:N_SLOTS] = acc[:, : N_SLOTS - 1]
        out[rows, N_SLOTS] = acc[:, N_SLOTS - 1]

    countries = leaves[0]
    put(countries, idx.country_rows)
    put(rollup(countries, idx.region_of_country, idx.region_rows.size), idx.region_rows)
    put(rollup(countries, np.zeros(len(idx.country_rows), dtype=np.int64), 1), np.array([0]))
    for acc, (_, rows) in zip(leaves[1:], idx.user_sets, strict=True):
        put(acc, rows)
    return out[:, :N_SLOTS]  # drop "rest": not a reported stratum


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def accumulated(maps: dict[str, np.ndarray], baseline: np.ndarray) -> dict[str, np.ndarray]:
    """The float32 grids whose zonal accumulators make the table columns (see ``columns``)."""
    out = {n: np.asarray(maps[n]) for n in ("soc_stock", "soc_stock_q05", "soc_stock_q95")}
    out["soc_stock_change"] = np.asarray(maps["soc_stock_change"])
    out["soc_change_rate"] = np.asarray(maps["soc_change_rate"])
    out["baseline"] = np.where(np.isfinite(maps["soc_change_rate"]), baseline, np.nan).astype(np.float32)
    out["soc_clay_ratio"] = np.asarray(maps["soc_clay_ratio"])
    cls = maps["sh_class"]
    for k, name in enumerate(SH_CLASSES):
        out[f"sh_{name}"] = np.where(cls == 255, np.nan, (cls == k).astype(np.float32)).astype(np.float32)
    out["trend_slope"] = np.asarray(maps["trend_slope"])
    for sign, name in ((1, "increase"), (-1, "decrease")):
        out[f"sig_{name}"] = significant(maps["trend_slope"], maps["trend_p"], sign).astype(np.float32)
    return out


def columns(acc: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every table column (rows, strata) of one epoch from the rows' accumulators of ``accumulated``."""
    cols: dict[str, np.ndarray] = {}
    a = acc["soc_stock"]
    cols["area_km2"] = a[..., AREA_TOTAL] / 1e6
    cols["valid_area_km2"] = a[..., AREA] / 1e6
    cols["valid_fraction"] = np.nan_to_num(_ratio(a[..., AREA], a[..., AREA_TOTAL]), nan=0.0)
    cols["soc_stock"] = _ratio(a[..., AREA_SUM], a[..., AREA])
    cols["soc_stock_total"] = a[..., AREA_SUM] / 1e10
    for q in ("q05", "q95"):
        b = acc[f"soc_stock_{q}"]
        cols[f"soc_stock_{q}"] = _ratio(b[..., AREA_SUM], b[..., AREA])
        cols[f"soc_stock_total_{q}"] = b[..., AREA_SUM] / 1e10
    c = acc["soc_stock_change"]
    cols["soc_stock_change"] = _ratio(c[..., AREA_SUM], c[..., AREA])
    r = acc["soc_change_rate"]
    cols["soc_change_rate"] = _ratio(r[..., AREA_SUM], r[..., AREA])
    cols["soc_change_rate_permille"] = 1000.0 * _ratio(r[..., AREA_SUM], acc["baseline"][..., AREA_SUM])
    cols["progress_4p1000"] = cols["soc_change_rate_permille"] / 4.0
    h = acc["soc_clay_ratio"]
    cols["soc_clay_ratio"] = _ratio(h[..., AREA_SUM], h[..., AREA])
    for name in SH_CLASSES:
        s = acc[f"sh_{name}"]
        cols[f"sh_share_{name}"] = _ratio(s[..., AREA_SUM], s[..., AREA])
    t = acc["trend_slope"]
    cols["trend_slope"] = _ratio(t[..., AREA_SUM], t[..., AREA])
    for name in ("increase", "decrease"):
        s = acc[f"sig_{name}"]
        cols[f"trend_sig_{name}_share"] = _ratio(s[..., AREA_SUM], s[..., AREA])
    assert set(cols) == set(TABLE_UNITS), set(cols) ^ set(TABLE_UNITS)
    return cols


def epoch_table(
    idx: RegionIndex, maps: dict[str, np.ndarray], baseline: np.ndarray, row_area: np.ndarray
) -> dict[str, np.ndarray]:
    """Every table column (rows, strata) of one epoch from its whole-grid maps (the chunked job
    accumulates the same grids block by block: ``pipeline.indicators.blocks``)."""
    strata = strata_map(maps["landcover"])
    covs = coverages(idx)
    acc = {
        n: table_rows(idx, leaf_accumulators(covs, v, strata, row_area))
        for n, v in accumulated(maps, baseline).items()
    }
    return columns(acc)
