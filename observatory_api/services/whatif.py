"""What-if maps (issue #17 item 7): the Tier 1 SOC change of a practice applied to every cell of a
land-cover class, as tiles and as a regional total.

A practice of the catalogue (``catalogs/practices.yaml``) moves land from a "from" state to a "to"
state (land use, management, input). For each IPCC climate zone the tables give both states'
factor products F_LU * F_MG * F_I (``pipeline.assess.tables``; NaN where a table does not define
the state in that zone), and ``kernels.whatif`` applies them per cell of the cube's
``climate_zone`` map: dSOC = reference * (F_to - F_from) / 20 t C/ha/yr, the reference being the
cell's measured 0-30 cm stock of the chosen epoch divided by F_from ("Tier 1 with measured
reference", as ``pipeline.assess.location``), or the IPCC default SOC_REF of one soil class.

Tiles sample the base grid at each pixel's centre (the cell under it, like the indicator tiles at
their finest level), reading only the chunks under the tile, at most ``MAX_TILE_CELLS`` cells (the
TileJSON's ``minzoom`` is the first zoom within it). The regional total reduces the region's window
of the base grid band by band with the region's exact coverage fractions (exactextract) and true
cell areas (``kernels.zonal``): sum(fraction x area x dSOC) over the cells of the class; the
coverages are kept in a byte-bounded LRU, answers in the snapshot's body cache.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
from affine import Affine
from pyproj import CRS

from kernels.climate_zone import ZONES
from kernels.whatif import whatif_delta
from kernels.zonal import AREA, AREA_SUM, AREA_TOTAL, STATS, Coverage, combine, zonal_stats
from observatory_api.caches import LRUCache
from observatory_api.errors import BadParameter, NotFound, PayloadTooLarge
from observatory_api.reader import LANDCOVER, Level, Snapshot
from observatory_api.render import TILE, encode_png, tile_cells, tile_geometry, to_index
from observatory_api.services.common import num
from observatory_api.services.maps import MAX_ZOOM, attribution
from pipeline.assess.practices import CO2_PER_C, Practice, load_practices
from pipeline.assess.tables import SOIL_TYPES, AssessError, load_tables
from pipeline.grid import Grid
from pipeline.indicators.registry import STRATUM_CODES
from pipeline.regions.zonal import exact_coverage

REFERENCES = ("measured", "ipcc")
# The land-cover stratum (ESA WorldCover class) of each IPCC land use a practice starts from.
STRATUM_OF = {
    "cropland_annual": "cropland",
    "cropland_paddy_rice": "cropland",
    "cropland_perennial": "cropland",
    "cropland_set_aside": "cropland",
    "grassland": "grassland",
    "forest": "tree_cover",
}
UNIT = "t C/ha/yr"
DEFAULT_RESCALE = (-0.5, 0.5)
DEFAULT_COLORMAP = "brbg"  # diverging, colour-blind safe: brown loses carbon, green gains
MAX_TILE_CELLS = 1 << 24  # base-grid cells a tile may read
MAX_REGION_CELLS = 1 << 26  # base-grid cells of a region's window
BAND_ROWS = 512  # rows reduced at a time (memory: the band, not the region)
COVERAGE_CACHE_BYTES = 128 * 2**20  # regions' coverages kept between requests
ZONE_MAP = "climate_zone"
SIGN = "delta > 0: the soil gains carbon (a removal; EX-ACT prints removals negative)"


@dataclass(frozen=True)
class WhatIf:
    """A practice made ready for the kernel: the class it applies to and the zone look-ups."""

    practice: Practice
    stratum: str
    codes: tuple[int, ...]
    f_from: np.ndarray  # by zone code, index 0 unused; NaN: not defined there
    f_to: np.ndarray
    soc_ref: np.ndarray | None  # None: the measured stock is the reference
    reference: str
    soil_type: str | None
    years: int

    @property
    def key(self) -> str:
        return f"{self.practice.id}/{self.stratum}/{self.reference}/{self.soil_type}"


def practice_ids() -> list[str]:
    return [p.id for p in load_practices()]


def _state_product(state: Any, zone: str, where: str) -> float:
    t = load_tables()
    try:
        return float(np.prod([f.value for f in t.state_factors(state.model_dump(), zone, where)]))
    except AssessError:
        return float("nan")  # the table leaves this state undefined in this zone


def prepare(practice: str, land_cover: str | None, reference: str, soil_type: str | None) -> WhatIf:
    """Check the request and build the look-ups; 422 naming the parameter and the allowed values."""
    by_id = {p.id: p for p in load_practices()}
    pr = by_id.get(practice)
    if pr is None:
        raise BadParameter(
            f"practice: expected one of the catalogue's practices ({', '.join(by_id)}); got "
            f"{practice[:100]!r}. See GET /v1/practices.",
            parameter="practice",
            allowed=list(by_id),
        )
    mappable = [p.id for p in by_id.values() if p.from_ is not None and p.to is not None]
    if pr.from_ is None or pr.to is None:
        raise BadParameter(
            f"practice: the IPCC Tier 1 tables define no factor change for {pr.id!r} ({pr.method}) "
            f"so it has no what-if map; expected a practice given as a change of state: "
            f"{', '.join(mappable)}.",
            parameter="practice",
            allowed=mappable,
        )
    own = STRATUM_OF[pr.from_.land_use]
    if land_cover is None:
        land_cover = own
    if land_cover not in STRATUM_CODES:
        raise BadParameter(
            f"land_cover: expected one of {', '.join(STRATUM_CODES)}; got {land_cover[:100]!r}.",
            parameter="land_cover",
            allowed=list(STRATUM_CODES),
        )
    if land_cover != own:
        raise BadParameter(
            f"land_cover: practice {pr.id!r} changes {pr.from_.land_use} land, and the IPCC tables "
            f"define its factors for that land use only, which is the {own!r} land-cover class; "
            f"got {land_cover!r}. Use land_cover={own} (or leave it out).",
            parameter="land_cover",
            allowed=[own],
        )
    if reference not in REFERENCES:
        raise BadParameter(
            f"reference: expected one of {', '.join(REFERENCES)}; got {reference[:100]!r}.",
            parameter="reference",
            allowed=list(REFERENCES),
        )
    if reference == "ipcc" and soil_type not in SOIL_TYPES:
        raise BadParameter(
            f"soil_type: with reference=ipcc the default SOC_REF (Table 2.3) depends on the soil "
            f"class, which the cube cannot tell; expected one of {', '.join(SOIL_TYPES)}; got "
            f"{soil_type!r}. Give soil_type, or use reference=measured.",
            parameter="soil_type",
            allowed=list(SOIL_TYPES),
        )
    if reference == "measured" and soil_type is not None:
        raise BadParameter(
            f"soil_type: used only with reference=ipcc (the measured stock needs no soil class); got "
            f"{soil_type[:100]!r} with reference=measured. Leave soil_type out or use reference=ipcc.",
            parameter="soil_type",
            allowed=[],
        )
    t = load_tables()
    nan = np.full(len(ZONES) + 1, np.nan)
    f_from, f_to, ref = nan.copy(), nan.copy(), nan.copy()
    for k, zone in enumerate(ZONES, start=1):
        f_from[k] = _state_product(pr.from_, zone, "from")
        f_to[k] = _state_product(pr.to, zone, "to")
        if soil_type is not None:
            with contextlib.suppress(AssessError):  # Table 2.3 leaves the cell empty: no default
                ref[k] = t.soc_ref(zone, soil_type).value
    if not np.isfinite(f_from + f_to).any():
        raise BadParameter(
            f"practice: the IPCC tables define the states of {pr.id!r} in no climate zone; nothing to "
            "map. Choose another practice.",
            parameter="practice",
            allowed=mappable,
        )
    return WhatIf(
        pr,
        land_cover,
        STRATUM_CODES[land_cover],
        f_from,
        f_to,
        None if reference == "measured" else ref,
        reference,
        soil_type,
        t.D,
    )


def _landcover_index(snap: Snapshot, epoch: int) -> int:
    cube_epochs = [int(e) for e in snap.cube["epoch"].values] if snap.cube is not None else []
    lc = snap.extra.get(LANDCOVER)
    if lc is None or epoch not in cube_epochs or lc.shape[-2:] != snap.base.shape:
        raise NotFound(
            f"epoch {epoch}: the store holds no land cover on the maps' grid for it, so the class "
            f"cannot be told; epochs with land cover: {cube_epochs}.",
            parameter="epoch",
            allowed=cube_epochs,
        )
    return cube_epochs.index(epoch)


def _require_zones(snap: Snapshot) -> None:
    if ZONE_MAP not in snap.base.arrays:
        raise NotFound(
            "the store's indicator maps have no climate_zone layer (written by indicator jobs of this "
            "version); run `socobs indicators JOB.yaml --full` to add it.",
            parameter="practice",
        )


def delta_window(
    snap: Snapshot, w: WhatIf, k: int, rows: tuple[int, int], cols: tuple[int, int], periodic: bool = False
) -> np.ndarray:
    """dSOC (t C/ha/yr, float32, NaN where not applicable) of a window of the base grid at epoch
    index ``k``."""
    _require_zones(snap)
    base = snap.base
    kc = _landcover_index(snap, snap.epochs[k])
    stock = snap.chunks.window(base.arrays["soc_stock"], (k,), rows, cols, periodic)
    zone = snap.chunks.window(base.arrays[ZONE_MAP], (), rows, cols, periodic)
    lc = snap.chunks.window(snap.extra[LANDCOVER], (kc,), rows, cols, periodic)
    return whatif_delta(
        zone,
        stock.astype(np.float32, copy=False),
        lc,
        w.codes,
        w.f_from,
        w.f_to,
        soc_ref=w.soc_ref,
        years=w.years,
    )


def _tile_span(level: Level, z: int, x: int, y: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    rows, cols, inside = tile_cells(level, tile_geometry(z, x, y))
    cells = (int(rows.max()) - int(rows.min()) + 1) * (int(cols.max()) - int(cols.min()) + 1)
    return rows, cols, inside, cells


def min_zoom(snap: Snapshot) -> int:
    """The first zoom whose every tile reads at most ``MAX_TILE_CELLS`` cells of the base grid."""
    memo = snap.memo.get("whatif_minzoom")
    if memo is None:
        memo = MAX_ZOOM
        for z in range(MAX_ZOOM + 1):
            n = 2**z
            worst = max(_tile_span(snap.base, z, n // 2, ty)[3] for ty in range(min(n, 64)))
            if worst <= MAX_TILE_CELLS:
                memo = z
                break
        snap.memo["whatif_minzoom"] = memo
    return int(memo)


def render_tile(
    snap: Snapshot, w: WhatIf, z: int, x: int, y: int, k: int, colormap: str, rescale: tuple[float, float]
) -> bytes:
    """The PNG of one what-if tile (NaN transparent)."""
    rows, cols, inside, cells = _tile_span(snap.base, z, x, y)
    if cells > MAX_TILE_CELLS:
        raise BadParameter(
            f"tile {z}/{x}/{y}: a what-if tile at zoom {z} reads {cells:,} cells of the "
            f"{abs(snap.base.dx):g}-degree grid; at most {MAX_TILE_CELLS:,}. Use zoom >= "
            f"{min_zoom(snap)} (the TileJSON's minzoom).",
            parameter="z",
            allowed=[min_zoom(snap), MAX_ZOOM],
        )
    r0, c0 = int(rows.min()), int(cols.min())
    delta = delta_window(snap, w, k, (r0, int(rows.max()) + 1), (c0, int(cols.max()) + 1))
    vals = delta[(rows - r0)[:, None], (cols - c0)[None, :]]
    assert vals.shape == (TILE, TILE)
    return encode_png(to_index(vals, inside, rescale, False), colormap)


def describe(w: WhatIf) -> dict[str, Any]:
    """What the map shows: the practice, its states, the class, the reference and the factors."""
    zones = [
        {
            "code": k,
            "climate_zone": zone,
            "factor_from": num(w.f_from[k]),
            "factor_to": num(w.f_to[k]),
            **({"soc_ref_t_c_ha": num(w.soc_ref[k])} if w.soc_ref is not None else {}),
        }
        for k, zone in enumerate(ZONES, start=1)
    ]
    pr = w.practice
    assert pr.from_ is not None and pr.to is not None
    reference = (
        "measured: the cell's 0-30 cm stock of the epoch divided by the 'from' factors (Tier 1 with "
        "measured reference)"
        if w.soc_ref is None
        else f"ipcc: the default SOC_REF for {w.soil_type} soils (IPCC 2019 Vol. 4 Ch. 2 Table 2.3)"
    )
    return {
        "practice": pr.id,
        "name": pr.name,
        "from": pr.from_.model_dump(exclude_none=True),
        "to": pr.to.model_dump(exclude_none=True),
        "land_cover": w.stratum,
        "land_cover_codes": list(w.codes),
        "reference": reference,
        "soil_type": w.soil_type,
        "years": w.years,
        "unit": UNIT,
        "method": "IPCC 2019 Refinement Tier 1, Vol. 4 Ch. 2 Eq. 2.25: dSOC = reference x (F_to - "
        f"F_from) / {w.years} per year; factors of Tables 5.5 and 6.2 by the cell's climate zone",
        "sign": SIGN,
        "zones": zones,
    }


def tilejson(snap: Snapshot, w: WhatIf, k: int, base_url: str, query: str) -> dict[str, Any]:
    lv = snap.base
    west, north = lv.x0, lv.y0
    east, south = lv.x0 + lv.dx * lv.shape[1], lv.y0 + lv.dy * lv.shape[0]
    return {
        "tilejson": "3.0.0",
        "name": f"What if: {w.practice.name} on {w.stratum}",
        "description": f"Tier 1 dSOC ({UNIT}) of {w.practice.id} applied to every {w.stratum} cell, "
        f"epoch {snap.epochs[k]}, reference {w.reference}",
        "version": snap.snapshot_id,
        "scheme": "xyz",
        "tiles": [f"{base_url}/v1/whatif/{w.practice.id}/tiles/{{z}}/{{x}}/{{y}}.png?{query}"],
        "minzoom": min_zoom(snap),
        "maxzoom": MAX_ZOOM,
        "bounds": [max(-180.0, west), max(-85.0511, south), min(180.0, east), min(85.0511, north)],
        "attribution": attribution(snap),
        "tms": "WebMercatorQuad",
    }


def _region_window(snap: Snapshot, geom: Any) -> tuple[int, int, int, int]:
    g = snap.base
    w, s, e, n = geom.bounds
    r0 = max(0, math.floor((n - g.y0) / g.dy))
    r1 = min(g.shape[0], math.ceil((s - g.y0) / g.dy))
    c0 = max(0, math.floor((w - g.x0) / g.dx))
    c1 = min(g.shape[1], math.ceil((e - g.x0) / g.dx))
    return r0, max(r0, r1), c0, max(c0, c1)


@dataclass(frozen=True)
class _Cover:
    coverage: Coverage
    grid: Grid

    @property
    def nbytes(self) -> int:
        c = self.coverage
        return int(c.labels.nbytes + c.border_cell.nbytes + c.border_region.nbytes + c.border_frac.nbytes)


_COVERAGES: LRUCache[tuple[str, str], _Cover] = LRUCache("whatif-coverage", COVERAGE_CACHE_BYTES)


def _coverage(snap: Snapshot, region_id: str, win: tuple[int, int, int, int]) -> _Cover:
    """The region's exact coverage of its window (kept in a byte-bounded LRU)."""

    def load() -> _Cover:
        g = snap.base
        r0, r1, c0, c1 = win
        transform = Affine(g.dx, 0.0, g.x0 + c0 * g.dx, 0.0, g.dy, g.y0 + r0 * g.dy)
        grid = Grid(transform, (r1 - r0, c1 - c0), CRS.from_epsg(4326))
        one = gpd.GeoDataFrame(
            {"region_id": [region_id]}, geometry=[snap.regions.loc[region_id].geometry], crs="EPSG:4326"
        )
        return _Cover(exact_coverage(one, grid), grid)

    return _COVERAGES.get_or_load((snap.snapshot_id, region_id), load)


Band = Callable[[tuple[int, int], tuple[int, int]], tuple[np.ndarray, np.ndarray | None]]


def reduce_region(
    snap: Snapshot, region_id: str, band: Band, n_strata: int = 0, what: str = ""
) -> np.ndarray:
    """Zonal statistics (``kernels.zonal.STATS``, shape (n_strata + 1, 7)) over a region of the
    values (and uint8 strata, with ``n_strata``) that ``band(rows, cols)`` gives for windows of
    the base grid, reduced band by band with the region's exact coverage fractions and true cell
    areas (shared by the what-if totals and the practices' regional climate zone). 413 when the
    region's window is larger than ``MAX_REGION_CELLS``; zeros for an empty window."""
    geom = snap.regions.loc[region_id].geometry
    r0, r1, c0, c1 = _region_window(snap, geom) if geom is not None else (0, 0, 0, 0)
    cells = (r1 - r0) * (c1 - c0)
    if cells > MAX_REGION_CELLS:
        raise PayloadTooLarge(
            f"region: {region_id!r} spans {cells:,} cells of the {abs(snap.base.dx):g}-degree grid; "
            f"{what or 'a regional reduction'} reads at most {MAX_REGION_CELLS:,}. Ask for its countries "
            "or sub-regions.",
            parameter="region",
        )
    if cells == 0:
        return np.zeros((n_strata + 1, len(STATS)))
    hit = _coverage(snap, region_id, (r0, r1, c0, c1))
    cov, row_area = hit.coverage, hit.grid.row_areas()
    total = None
    for b0 in range(0, r1 - r0, BAND_ROWS):
        b1 = min(r1 - r0, b0 + BAND_ROWS)
        values, strata = band((r0 + b0, r0 + b1), (c0, c1))
        part = zonal_stats(
            values, cov, row_area, strata=strata, n_strata=n_strata, row_offset=b0, minmax=False, n_chunks=8
        )
        total = part if total is None else combine(total, part)
    assert total is not None
    out: np.ndarray = total[0]
    return out


def regional_total(snap: Snapshot, w: WhatIf, region_id: str, k: int) -> dict[str, Any]:
    """Sum over the region's cells of the class: fraction x true area x dSOC."""
    if region_id not in snap.row or region_id not in snap.regions.index:
        raise BadParameter(
            f"region: expected a region id of GET /v1/regions; got {region_id[:100]!r}.",
            parameter="region",
            allowed=snap.region_ids,
        )
    _require_zones(snap)
    _landcover_index(snap, snap.epochs[k])
    stats = reduce_region(
        snap,
        region_id,
        lambda rows, cols: (delta_window(snap, w, k, rows, cols), None),
        what="a what-if total",
    )[-1]
    area, area_sum = float(stats[AREA]), float(stats[AREA_SUM])
    total_c = area_sum / 1e4  # t C/ha/yr x m2 / (1e4 m2/ha)
    return {
        "snapshot_id": snap.snapshot_id,
        "region_id": region_id,
        "region_name": snap.names[snap.row[region_id]],
        "epoch": snap.epochs[k],
        **describe(w),
        "delta_soc_t_c_yr": total_c,
        "delta_t_co2e_yr": total_c * CO2_PER_C,
        "area_ha": area / 1e4,
        "delta_soc_t_c_ha_yr_mean": num(area_sum / area) if area > 0 else None,
        "region_area_ha": float(stats[AREA_TOTAL]) / 1e4,
        "synthetic": attribution(snap).endswith("(synthetic demo data)"),
    }
