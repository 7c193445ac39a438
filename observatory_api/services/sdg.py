"""SDG 15.3.1 answers from the snapshot's ``sdg`` group (written by the indicator job,
``pipeline.indicators.sdg``): a region's areas and shares per period, and the maps as tiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from observatory_api.errors import BadParameter, NotFound
from observatory_api.reader import Snapshot
from observatory_api.render import TMS, encode_png, tile_cells, tile_geometry
from observatory_api.services.common import num
from observatory_api.services.maps import MAX_ZOOM, attribution
from pipeline.indicators.sdg_periods import CLASSES, LAYERS, METHOD, TITLES
from pipeline.store import SDG

COLORMAP = "sdg"  # observatory_api.render.CLASS_COLOURS: degraded, stable, improved
SUB_INDICATORS = {"land_cover": "sdg_land_cover", "productivity": "sdg_productivity", "soc": "sdg_soc"}
DENOMINATOR = (
    "total land area without inland water: cells whose ESA WorldCover class at the period's last "
    "epoch is a land class (not 80, permanent water bodies), weighted by their exact coverage of "
    "the region and their true area on the WGS84 ellipsoid"
)
MAX_TILE_CELLS = 2048 * 2048  # the SDG maps have no overviews: a tile reads at most this many cells


@dataclass(frozen=True)
class SdgTables:
    periods: list[str]
    kinds: list[str]
    info: list[dict[str, Any]]
    row: dict[str, int]
    area: np.ndarray  # (region, period, layer, class) km2
    share: np.ndarray
    land: np.ndarray  # (region, period) km2
    attrs: dict[str, Any]


def tables(snap: Snapshot) -> SdgTables:
    """The group's tables, loaded once per snapshot; 404 when the snapshot has no SDG group."""
    hit: SdgTables | None = snap.memo.get("sdg")
    if hit is not None:
        return hit
    ds = snap.groups.get(SDG)
    why = dict(snap.attrs.get("not_available", {})).get("sdg15_3_1")  # recorded by the job
    if ds is None and why:
        raise NotFound(
            f"SDG 15.3.1 is not in this snapshot of the store: {why} Add what it needs to the job's "
            "sources (a land-cover source such as pc-esa-worldcover and a soil source with a stock per "
            "epoch), then run `socobs ingest JOB.yaml` and `socobs indicators JOB.yaml`.",
            parameter="region_id",
        )
    if ds is None:
        raise NotFound(
            "SDG 15.3.1 is not in this snapshot of the store: it was computed by an indicator job "
            "older than this feature, or the cube has fewer than two epochs. Run `socobs indicators "
            "JOB.yaml --full` (it computes SDG 15.3.1 with the indicators); the API picks it up.",
            parameter="region_id",
        )
    periods = [str(p) for p in ds["period"].values]
    info = [
        {
            "kind": str(ds["period_kind"].values[k]),
            "years": [int(ds["first_year"].values[k]), int(ds["last_year"].values[k])],
            "land_cover_and_soc_epochs": [int(ds["lc_from"].values[k]), int(ds["lc_to"].values[k])],
            "productivity_years": [int(ds["ndvi_first"].values[k]), int(ds["ndvi_last"].values[k])],
            "productivity_note": str(ds["productivity_note"].values[k]) or None,
        }
        for k in range(len(periods))
    ]
    out = SdgTables(
        periods,
        [str(i["kind"]) for i in info],
        info,
        {str(r): i for i, r in enumerate(ds["region"].values)},
        np.asarray(ds["area_km2"].values),
        np.asarray(ds["share"].values),
        np.asarray(ds["land_area_km2"].values),
        dict(ds.attrs),
    )
    snap.memo["sdg"] = out
    return out


def period_index(t: SdgTables, period: str | None) -> int:
    """Index of ``period`` (default: the last reporting period); 422 naming the valid ones."""
    if period is None:
        return len(t.periods) - 1
    if period not in t.periods:
        raise BadParameter(
            f"period: expected one of the SDG 15.3.1 periods {t.periods} (baseline first), got {period!r}.",
            parameter="period",
            allowed=t.periods,
        )
    return t.periods.index(period)


def _classes(t: SdgTables, i: int, k: int, layer: str) -> dict[str, Any]:
    j = LAYERS.index(layer)
    return {
        c: {"area_km2": num(t.area[i, k, j, n]), "share": num(t.share[i, k, j, n])}
        for n, c in enumerate(CLASSES)
    }


def region_sdg(snap: Snapshot, region_id: str, period: str | None) -> dict[str, Any]:
    """Areas and shares of a region in one period: the indicator (``sdg_15_3_1``: for a reporting
    period its status against the baseline), the period's own one-out-all-out result and each
    sub-indicator's classes; a sub-indicator's contribution is its degraded area and share of
    the land (areas overlap: a cell can be degraded by several)."""
    t = tables(snap)
    k = period_index(t, period)
    i = t.row.get(region_id)
    if i is None:
        raise NotFound(
            f"region_id {region_id!r} has no SDG 15.3.1 row in this snapshot (its region set was added "
            "after the last indicator run). Run `socobs indicators JOB.yaml`.",
            parameter="region_id",
        )
    row = snap.row[region_id]
    subs = {}
    for name, layer in SUB_INDICATORS.items():
        classes = _classes(t, i, k, layer)
        subs[name] = {
            "title": TITLES[layer],
            "classes": classes,
            "contribution": {
                "degraded_area_km2": classes["degraded"]["area_km2"],
                "degraded_share": classes["degraded"]["share"],
            },
        }
    result = _classes(t, i, k, "sdg_15_3_1")
    return {
        "region_id": region_id,
        "name": snap.names[row],
        "level": snap.levels_of[row],
        "parent_id": snap.parents[row] or None,
        "indicator": "SDG 15.3.1",
        "title": "Proportion of land that is degraded over total land area",
        "period": t.periods[k],
        "periods": t.periods,
        "baseline": t.periods[0],
        **t.info[k],
        "units": {"area": "km2", "share": "1"},
        "land_area_km2": num(t.land[i, k]),
        "degraded_share": result["degraded"]["share"],
        "result": result,
        "period_result": _classes(t, i, k, "sdg_period"),
        "sub_indicators": subs,
        "denominator": DENOMINATOR,
        "method": METHOD,
        "rules": {
            "lookup": t.attrs.get("lookup"),
            "missing": t.attrs.get("missing"),
            "soc_threshold": t.attrs.get("soc_threshold"),
            "status": "reporting period against the baseline: degraded while the baseline was degraded "
            "and the period is not improved, or the period is degraded; improved when the period is "
            "improved, or the baseline was improved and the period is stable",
        },
        "snapshot_id": snap.snapshot_id,
    }


def catalogue(snap: Snapshot) -> dict[str, Any] | None:
    """What ``/v1/indicators`` says of SDG 15.3.1 (None when the snapshot has none)."""
    if SDG not in snap.groups:
        return None
    t = tables(snap)
    return {
        "periods": t.periods,
        "baseline": t.periods[0],
        "method": METHOD,
        "maps": [
            {
                "id": layer,
                "title": TITLES[layer],
                "kind": "class",
                "classes": [
                    {"value": -1, "label": "degraded"},
                    {"value": 0, "label": "stable"},
                    {"value": 1, "label": "improved"},
                ],
                "tiles": f"/v1/tiles/sdg/{layer}/{{z}}/{{x}}/{{y}}.png?period={t.periods[-1]}",
            }
            for layer in LAYERS
        ],
    }


def _window(rows: np.ndarray, cols: np.ndarray) -> tuple[int, int, int, int]:
    return int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1


def min_zoom(snap: Snapshot) -> int:
    """The lowest zoom whose tiles read at most ``MAX_TILE_CELLS`` cells (the SDG maps have no
    overviews): measured on the tile just north of the equator at longitude 0, the tallest."""
    hit: int | None = snap.memo.get("sdg_minzoom")
    if hit is not None:
        return hit
    z = 0
    while z < MAX_ZOOM:
        n = 2**z
        rows, cols, _ = tile_cells(snap.base, tile_geometry(z, n // 2 if z else 0, max(n // 2 - 1, 0)))
        r0, r1, c0, c1 = _window(rows, cols)
        if (r1 - r0) * (c1 - c0) <= MAX_TILE_CELLS:
            break
        z += 1
    snap.memo["sdg_minzoom"] = z
    return z


def tilejson(snap: Snapshot, layer: str, period: str | None, base_url: str) -> dict[str, Any]:
    """TileJSON 3.0.0 of an SDG map in one period (default: the last reporting period); its
    ``minzoom`` is the lowest zoom the tiles can be drawn at (``min_zoom``)."""
    t = tables(snap)
    label = t.periods[period_index(t, period)]
    lv = snap.base
    west, north = lv.x0, lv.y0
    east, south = lv.x0 + lv.dx * lv.shape[1], lv.y0 + lv.dy * lv.shape[0]
    return {
        "tilejson": "3.0.0",
        "name": TITLES[layer],
        "description": f"{TITLES[layer]}, period {label}: degraded, stable or improved ({METHOD})",
        "version": snap.snapshot_id,
        "scheme": "xyz",
        "tiles": [f"{base_url}/v1/tiles/sdg/{layer}/{{z}}/{{x}}/{{y}}.png?period={label}"],
        "minzoom": min_zoom(snap),
        "maxzoom": MAX_ZOOM,
        "bounds": [max(-180.0, west), max(-85.0511, south), min(180.0, east), min(85.0511, north)],
        "attribution": attribution(snap),
        "tms": TMS.id,
    }


def render_tile(snap: Snapshot, layer: str, z: int, x: int, y: int, period: str | None) -> bytes:
    """A PNG tile of an SDG map (base grid only: the tile reads the cells under it)."""
    t = tables(snap)
    k = period_index(t, period)
    arr = snap.extra.get(f"{SDG}/{layer}")
    if arr is None:
        raise NotFound(
            f"layer {layer!r}: expected one of {list(LAYERS)}.", parameter="layer", allowed=list(LAYERS)
        )
    rows, cols, inside = tile_cells(snap.base, tile_geometry(z, x, y))
    r0, r1, c0, c1 = _window(rows, cols)
    if (r1 - r0) * (c1 - c0) > MAX_TILE_CELLS:
        raise BadParameter(
            f"z: the SDG maps have no overviews and this tile covers {(r1 - r0) * (c1 - c0)} cells (at most "
            f"{MAX_TILE_CELLS}); ask for a higher zoom than {z}.",
            parameter="z",
        )
    window = snap.chunks.window(arr, (k,), (r0, r1), (c0, c1))
    vals = window[(rows - r0)[:, None], (cols - c0)[None, :]].astype(np.int16)
    inside &= (vals >= -1) & (vals <= 1)
    idx = np.where(inside, vals + 1, 255).astype(np.uint8)
    return encode_png(idx, COLORMAP)


def legend() -> dict[str, Any]:
    from observatory_api.render import PALETTES

    return {
        "colormap": COLORMAP,
        "unit": "class",
        "stops": [
            {"value": v, "label": c, "color": "#" + bytes(PALETTES[COLORMAP][v + 1]).hex()}
            for v, c in ((-1, "degraded"), (0, "stable"), (1, "improved"))
        ],
        "nodata": "transparent (no data, inland water, sea)",
    }
