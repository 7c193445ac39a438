"""The monthly signals' maps (group ``monthly``, written by the monthly job from the cube's NDVI)
as tiles: PNG, TileJSON and legends, one month at a time, and their listing in ``/v1/indicators``.

The maps have no overviews: a tile reads the base cells under it, so a tile that would read too
many of them is refused (422, zoom in), as for the SDG maps (``observatory_api.services.sdg``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from observatory_api.errors import BadParameter, NotFound
from observatory_api.reader import Level, Snapshot
from observatory_api.render import RAMPS, TMS, encode_png, legend, tile_cells, tile_geometry, to_index
from observatory_api.services.maps import MAX_ZOOM, attribution, parse_rescale
from pipeline.store import MONTHLY

MAX_TILE_CELLS = 2048 * 2048  # no overviews: a tile reads at most this many base cells


@dataclass(frozen=True)
class Signal:
    title: str
    definition: str  # used when the store's variable has no ``definition`` attribute
    colormap: str  # observatory_api.render.RAMPS, colour-blind safe (ColorBrewer)
    rescale: tuple[float, float]


# Definitions as in kernels.monthly (the signals' maths) and the monthly job's CF attributes.
SIGNALS: dict[str, Signal] = {
    "ndvi_anomaly": Signal(
        "NDVI anomaly (z-score against the monthly climatology)",
        "(NDVI of the month - mean of that calendar month over the baseline years) / their sample "
        "standard deviation (ddof = 1); missing with fewer than 2 baseline values or a constant baseline",
        "brbg",  # diverging, centred on 0: brown below the climatology, green above
        (-3.0, 3.0),
    ),
    "bare_soil_frequency": Signal(
        "Bare-soil frequency over the last 12 months",
        "fraction of the valid months of the 12 months ending with this one whose NDVI is below the "
        "bare-soil threshold (0.2 by default); soil-cover frequency = 1 - this",
        "ylorbr",  # sequential: pale (always covered) to dark brown (always bare)
        (0.0, 1.0),
    ),
    "productivity_ratio": Signal(
        "Cumulative productivity of the year so far against the baseline",
        "sum of the NDVI of January..this month / sum of the baseline's climatological means of "
        "January..this month (1 = as productive as the baseline so far this year)",
        "brbg",  # diverging, centred on 1: brown less productive, green more
        (0.5, 1.5),
    ),
}
UNIT = "1"


def group(snap: Snapshot) -> xr.Dataset:
    """The snapshot's monthly group; 404 saying how to get one when it has none."""
    ds = snap.groups.get(MONTHLY)
    if ds is None or ds.sizes.get("time", 0) == 0:
        raise NotFound(
            "monthly maps: the store has no monthly signals yet. They come from a monthly NDVI source "
            "(e.g. demo-ndvi): run `socobs indicators JOB.yaml` (or `socobs update`) on a cube that has "
            "one; the API picks them up at its next poll.",
            parameter="signal",
        )
    return ds


def signal_of(signal: str) -> Signal:
    """The signal's settings; 404 naming the three signals for anything else."""
    s = SIGNALS.get(signal)
    if s is None:
        raise NotFound(
            f"signal: expected one of the monthly signals {list(SIGNALS)}, got {signal[:60]!r}.",
            parameter="signal",
            allowed=list(SIGNALS),
        )
    return s


def months(snap: Snapshot) -> list[str]:
    """YYYY-MM of every month the group holds, oldest first."""
    hit: list[str] | None = snap.memo.get("monthly_months")
    if hit is None:
        hit = snap.memo["monthly_months"] = [str(t)[:7] for t in group(snap)["time"].values]
    return hit


def month_index(snap: Snapshot, month: str | None) -> int:
    """Position of ``month`` (default: the newest); 422 naming the available range."""
    ms = months(snap)
    if month is None:
        return len(ms) - 1
    if month not in ms:
        raise BadParameter(
            f"month: expected a month YYYY-MM from {ms[0]} to {ms[-1]} (the months of the monthly "
            f"signals in this snapshot), got {month[:32]!r}. Omit it for the newest month.",
            parameter="month",
            allowed=[ms[0], ms[-1]],
        )
    return ms.index(month)


def colormap_of(sig: Signal, colormap: str | None) -> str:
    """The ramp to draw with (the signal's by default); 422 for a class palette or an unknown name."""
    cmap = sig.colormap if colormap is None else colormap
    if cmap not in RAMPS:
        raise BadParameter(
            f"colormap: expected one of the colour ramps {list(RAMPS)}, got {cmap[:40]!r}.",
            parameter="colormap",
            allowed=list(RAMPS),
        )
    return cmap


def _grid(snap: Snapshot) -> Level:
    """The monthly maps' grid as a map level (cell edges from the cell-centre coordinates)."""
    hit: Level | None = snap.memo.get("monthly_grid")
    if hit is None:
        ds = group(snap)
        x, y = ds["x"].values, ds["y"].values
        dx = float(x[1] - x[0]) if x.size > 1 else 360.0
        dy = float(y[1] - y[0]) if y.size > 1 else -180.0
        hit = Level(1, ds, {}, {}, float(x[0]) - dx / 2, float(y[0]) - dy / 2, dx, dy, (y.size, x.size))
        snap.memo["monthly_grid"] = hit
    return hit


def render_tile(
    snap: Snapshot, signal: str, z: int, x: int, y: int, k: int, colormap: str, rescale: tuple[float, float]
) -> bytes:
    """A PNG tile of one month of a signal (nearest base cell under each pixel)."""
    arr = snap.extra.get(f"{MONTHLY}/{signal}")
    if arr is None:
        raise NotFound(
            f"signal {signal!r}: this snapshot's monthly group has no such map; the monthly job writes "
            f"{list(SIGNALS)}. Run `socobs indicators JOB.yaml` to rebuild the group.",
            parameter="signal",
        )
    geo = tile_geometry(z, x, y)
    rows, cols, inside = tile_cells(_grid(snap), geo)
    r0, r1, c0, c1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    cells = (r1 - r0) * (c1 - c0)
    if cells > MAX_TILE_CELLS:
        raise BadParameter(
            f"z: the monthly maps have no overviews and this tile covers {cells} cells (at most "
            f"{MAX_TILE_CELLS}); ask for a higher zoom than {z}.",
            parameter="z",
        )
    window = snap.chunks.window(arr, (k,), (r0, r1), (c0, c1))
    vals = window[(rows - r0)[:, None], (cols - c0)[None, :]]
    return encode_png(to_index(vals, inside, rescale, False), colormap)


def _definition(snap: Snapshot, signal: str) -> str:
    ds = snap.groups.get(MONTHLY)
    stored = ds[signal].attrs.get("definition") if ds is not None and signal in ds else None
    return str(stored) if stored else SIGNALS[signal].definition


def tile_url(signal: str, month: str, colormap: str | None = None, rescale: str | None = None) -> str:
    extra = (f"&colormap={colormap}" if colormap else "") + (f"&rescale={rescale}" if rescale else "")
    return f"/v1/tiles/monthly/{signal}/{{z}}/{{x}}/{{y}}.png?month={month}{extra}"


def tilejson(
    snap: Snapshot, signal: str, k: int, base_url: str, colormap: str | None, rescale: str | None
) -> dict[str, Any]:
    """TileJSON 3.0.0 of one month of a signal, tile URLs under ``base_url``."""
    sig = signal_of(signal)
    lv = _grid(snap)
    west, north = lv.x0, lv.y0
    east, south = lv.x0 + lv.dx * lv.shape[1], lv.y0 + lv.dy * lv.shape[0]
    return {
        "tilejson": "3.0.0",
        "name": f"{sig.title}, {months(snap)[k]}",
        "description": _definition(snap, signal),
        "version": snap.snapshot_id,
        "scheme": "xyz",
        "tiles": [base_url + tile_url(signal, months(snap)[k], colormap, rescale)],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": [max(-180.0, west), max(-85.0511, south), min(180.0, east), min(85.0511, north)],
        "attribution": attribution(snap),
        "tms": TMS.id,
    }


def legend_body(signal: str, colormap: str | None, rescale: str | None) -> dict[str, Any]:
    """Colour stops with values along the signal's ramp (unitless signals)."""
    sig = signal_of(signal)
    cmap = colormap_of(sig, colormap)
    stops = legend(cmap, parse_rescale(rescale, sig.rescale))
    return {"indicator": signal, "unit": UNIT, "colormap": cmap, "stops": stops, "nodata": "transparent"}


def catalogue(snap: Snapshot) -> dict[str, Any] | None:
    """What ``/v1/indicators`` says of the monthly signals (None when the store has none)."""
    ds = snap.groups.get(MONTHLY)
    if ds is None or ds.sizes.get("time", 0) == 0:
        return None
    ms = months(snap)
    return {
        "months": ms,
        "first_month": ms[0],
        "newest_month": ms[-1],
        "baseline": [int(v) for v in np.asarray(ds.attrs.get("baseline", []))],
        "signals": [
            {
                "id": name,
                "unit": UNIT,
                "title": sig.title,
                "definition": _definition(snap, name),
                "map": f"{MONTHLY}/{name}" in snap.extra,
                "colormap": sig.colormap,
                "rescale": list(sig.rescale),
                "tiles": tile_url(name, ms[-1]),
                "tilejson": f"/v1/tiles/monthly/{name}/tilejson.json",
                "legend": f"/v1/tiles/monthly/{name}/legend",
                "series": f"/v1/regions/{{region_id}}/indicators/{name}",
            }
            for name, sig in SIGNALS.items()
        ],
    }
