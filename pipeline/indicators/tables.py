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
from pipeline.regions.zonal import get_coverage, load_coverage, save_coverage

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
    with the cache warm, no geometry is read at all."""
    key = hashlib.sha256(f"exact|{grid.key()}|{digest}|{level}".encode()).hexdigest()[:24]
    path = None if cache_dir is None else cache_dir / f"indicator-coverage-{key}.npz"
    if path is not None and path.exists():
        return load_coverage(path, grid)
    allr = load_regions(registry).set_index("region_id")
    gdf = gpd.GeoDataFrame(allr.loc[ids].reset_index(), geometry="geometry", crs=allr.crs)
    cov = get_coverage(gdf, grid, "exact", None)
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


def _all_rows(idx: RegionIndex, values: np.ndarray, strata: np.ndarray, row_area: np.ndarray) -> np.ndarray:
    """Accumulators (rows, STRATA, stats) for every table row: 'all' first, then the strata."""
    out = np.zeros((len(idx.ids), N_SLOTS + 1, 7))

    def put(acc: np.ndarray, rows: np.ndarray) -> None:
        # acc slots: cropland, grassland, tree cover, rest -> all = their sum
        out[rows, 0] = acc.sum(axis=1)
        out[rows, 1:N_SLOTS] = acc[:, : N_SLOTS - 1]
        out[rows, N_SLOTS] = acc[:, N_SLOTS - 1]

    def reduce(cov: Coverage) -> np.ndarray:
        return zonal_stats(values, cov, row_area, strata=strata, n_strata=N_SLOTS - 1, minmax=False)

    leaves = reduce(idx.countries)
    put(leaves, idx.country_rows)
    put(rollup(leaves, idx.region_of_country, idx.region_rows.size), idx.region_rows)
    put(rollup(leaves, np.zeros(len(idx.country_rows), dtype=np.int64), 1), np.array([0]))
    for cov, rows in idx.user_sets:
        put(reduce(cov), rows)
    return out[:, :N_SLOTS]  # drop "rest": not a reported stratum


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def epoch_table(
    idx: RegionIndex, maps: dict[str, np.ndarray], baseline: np.ndarray, row_area: np.ndarray
) -> dict[str, np.ndarray]:
    """Every table column (rows, strata) of one epoch from its maps."""
    strata = strata_map(maps["landcover"])

    def acc(values: np.ndarray) -> np.ndarray:
        return _all_rows(idx, np.asarray(values), strata, row_area)

    cols: dict[str, np.ndarray] = {}
    a = acc(maps["soc_stock"])
    cols["area_km2"] = a[..., AREA_TOTAL] / 1e6
    cols["valid_area_km2"] = a[..., AREA] / 1e6
    cols["valid_fraction"] = np.nan_to_num(_ratio(a[..., AREA], a[..., AREA_TOTAL]), nan=0.0)
    cols["soc_stock"] = _ratio(a[..., AREA_SUM], a[..., AREA])
    cols["soc_stock_total"] = a[..., AREA_SUM] / 1e10
    for q in ("q05", "q95"):
        b = acc(maps[f"soc_stock_{q}"])
        cols[f"soc_stock_{q}"] = _ratio(b[..., AREA_SUM], b[..., AREA])
        cols[f"soc_stock_total_{q}"] = b[..., AREA_SUM] / 1e10
    c = acc(maps["soc_stock_change"])
    cols["soc_stock_change"] = _ratio(c[..., AREA_SUM], c[..., AREA])
    r = acc(maps["soc_change_rate"])
    cols["soc_change_rate"] = _ratio(r[..., AREA_SUM], r[..., AREA])
    base = acc(np.where(np.isfinite(maps["soc_change_rate"]), baseline, np.nan).astype(np.float32))
    cols["soc_change_rate_permille"] = 1000.0 * _ratio(r[..., AREA_SUM], base[..., AREA_SUM])
    cols["progress_4p1000"] = cols["soc_change_rate_permille"] / 4.0
    h = acc(maps["soc_clay_ratio"])
    cols["soc_clay_ratio"] = _ratio(h[..., AREA_SUM], h[..., AREA])
    cls = maps["sh_class"]
    for k, name in enumerate(SH_CLASSES):
        ind = np.where(cls == 255, np.nan, (cls == k).astype(np.float32)).astype(np.float32)
        s = acc(ind)
        cols[f"sh_share_{name}"] = _ratio(s[..., AREA_SUM], s[..., AREA])
    t = acc(maps["trend_slope"])
    cols["trend_slope"] = _ratio(t[..., AREA_SUM], t[..., AREA])
    for sign, name in ((1, "increase"), (-1, "decrease")):
        s = acc(significant(maps["trend_slope"], maps["trend_p"], sign).astype(np.float32))
        cols[f"trend_sig_{name}_share"] = _ratio(s[..., AREA_SUM], s[..., AREA])
    assert set(cols) == set(TABLE_UNITS), set(cols) ^ set(TABLE_UNITS)
    return cols
