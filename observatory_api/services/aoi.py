"""A project polygon's SOC change against a control ring (objective E3, impact assessment).

The polygon is normalised first (``observatory_api.geometry``: limits, validity, antimeridian,
poles), then everything happens on the cube grid inside one bounded window
(``observatory_api.aoi_grid``): the polygon's coverage fractions, and the control ring, the
cells within ``ring_km`` of the polygon's cells, restricted to cells of the polygon's dominant
land-cover class at the start epoch: same land use, same neighbourhood, no project. Both areas
are reduced with the zonal kernel (coverage fractions x true cell areas) over cells valid at
both epochs, so the two rates compare like with like; change, rates and 4 per 1000 progress come
from ``kernels.change`` (linear convention), as for the maps and tables. The polygon's
``area_km2`` is its exact area on the ellipsoid; ``valid_area_km2`` that of its cells with data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels.areas import grid_cell_areas
from kernels.change import change_and_rates
from kernels.zonal import AREA, AREA_SUM, AREA_TOTAL, Coverage, zonal_stats
from observatory_api.aoi_grid import Window, coverage, dilate, window_for
from observatory_api.errors import BadParameter, NotFound
from observatory_api.geometry import Aoi
from observatory_api.reader import LANDCOVER, Snapshot
from observatory_api.services.common import num

UNITS = {
    "stock": "t C/ha",
    "change": "t C/ha",
    "rate": "t C/ha/yr",
    "rate_permille": "permille/yr",
    "progress_4p1000": "1",
    "area": "km2",
}
N_CLASSES = 254  # land-cover codes 0..253 (255: no data)


def epochs_of(snap: Snapshot, start: int | None, end: int | None) -> tuple[int, int]:
    """The start and end epochs (default: baseline and latest), both held, start before end."""
    e0 = snap.epochs[0] if start is None else start
    e1 = snap.epochs[-1] if end is None else end
    for name, e in (("start_epoch", e0), ("end_epoch", e1)):
        if e not in snap.epochs:
            raise NotFound(f"{name} {e} is not in the store.", parameter=name, allowed=snap.epochs)
    if e1 <= e0:
        raise BadParameter(f"end_epoch ({e1}) must come after start_epoch ({e0}).", parameter="end_epoch")
    return e0, e1


def area_result(stats0: np.ndarray, stats1: np.ndarray, years: int) -> dict[str, Any]:
    """Area, valid area, mean stocks and (through ``kernels.change``) change, rates, progress."""
    valid = float(stats0[AREA])
    m0 = float(stats0[AREA_SUM]) / valid if valid > 0 else float("nan")
    m1 = float(stats1[AREA_SUM]) / valid if valid > 0 else float("nan")
    r = {k: v[0] for k, v in change_and_rates([m1], [m0], years).items()}
    return {
        "area_km2": float(stats0[AREA_TOTAL]) / 1e6,
        "valid_area_km2": valid / 1e6,
        "stock_start": num(m0),
        "stock_end": num(m1),
        "change": num(r["soc_stock_change"]),
        "rate": num(r["soc_change_rate"]),
        "rate_permille": num(r["soc_change_rate_permille"]),
        "progress_4p1000": num(r["progress_4p1000"]),
    }


def _coverage(frac: np.ndarray, ring: np.ndarray) -> Coverage:
    """Region 0: the polygon (fractions), region 1: the ring (whole cells, disjoint from 0)."""
    labels = np.full(frac.shape, -1, dtype=np.int16)
    labels[frac >= 1.0] = 0
    labels[ring] = 1
    border = np.flatnonzero((frac > 0) & (frac < 1))
    return Coverage(
        frac.shape,
        2,
        labels,
        border.astype(np.int64),
        np.zeros(border.size, dtype=np.int32),
        frac.ravel()[border].astype(np.float64),
    )


def _read(snap: Snapshot, key: str, epoch_index: int, win: Window) -> np.ndarray:
    a = snap.base.arrays.get(key) or snap.extra[key]
    return snap.chunks.window(a, (epoch_index,), (win.r0, win.r1), (win.c0, win.c1), win.grid.periodic)


def assess(snap: Snapshot, aoi: Aoi, e0: int, e1: int, ring_km: float) -> dict[str, Any]:
    """The assessment of the normalised polygon ``aoi`` between two epochs of ``snap``."""
    win = window_for(aoi, snap.base.grid, ring_km)
    frac = coverage(aoi, win)
    k0, k1 = snap.epochs.index(e0), snap.epochs.index(e1)
    s0 = _read(snap, "soc_stock", k0, win).astype(np.float64)
    s1 = _read(snap, "soc_stock", k1, win).astype(np.float64)
    both = np.isfinite(s0) & np.isfinite(s1)
    project = frac > 0
    ring = dilate(project, win, ring_km) & ~project
    row_area = grid_cell_areas(win.transform, win.shape)
    lc_class = None
    ring_ok = ring & both
    lc_array = snap.extra.get(LANDCOVER)
    cube_epochs = [int(e) for e in snap.cube["epoch"].values] if snap.cube is not None else []
    if lc_array is not None and e0 in cube_epochs and lc_array.shape[-2:] == snap.base.shape:
        lc = _read(snap, LANDCOVER, cube_epochs.index(e0), win)
        inside = zonal_stats(  # the polygon's land cover where it has data at both epochs
            np.where(both, lc.astype(np.float32), np.float32(np.nan)),
            _coverage(frac, np.zeros_like(ring)),
            row_area,
            strata=lc.astype(np.uint8),
            n_strata=N_CLASSES,
            minmax=False,
        )[0]
        per_class = inside[:N_CLASSES, AREA]
        if per_class.max() > 0:
            lc_class = int(np.argmax(per_class))
            ring_ok &= lc == lc_class
    cov = _coverage(frac, ring_ok)

    def reduce(which: int) -> dict[str, Any]:
        a0 = zonal_stats(np.where(both, s0, np.nan), cov, row_area, minmax=False)[which, -1]
        a1 = zonal_stats(np.where(both, s1, np.nan), cov, row_area, minmax=False)[which, -1]
        return area_result(a0, a1, e1 - e0)

    project_result = reduce(0)
    if project_result["valid_area_km2"] == 0:
        raise BadParameter(
            "geometry: the polygon covers no cell with data at both epochs (outside the maps, "
            "on water or on an unmodelled surface).",
            parameter="geometry",
        )
    project_result["area_km2"] = aoi.area_km2
    control = reduce(1)
    diff = None
    if project_result["rate"] is not None and control["rate"] is not None:
        diff = project_result["rate"] - control["rate"]
    progress = project_result["progress_4p1000"]
    return {
        "snapshot_id": snap.snapshot_id,
        "start_epoch": e0,
        "end_epoch": e1,
        "landcover_class": lc_class,
        "project": project_result,
        "control": control,
        "rate_difference": diff,
        "on_4p1000_path": None if progress is None else progress >= 1.0,
        "units": UNITS,
    }


def warm_up() -> None:
    """Run the numeric path once on a tiny window (numba kernels load their compiled code, the
    rasteriser its library), so the first assessment a client asks for is not the slow one."""
    from observatory_api.aoi_grid import GridGeometry
    from observatory_api.geometry import parse_aoi

    shape = parse_aoi(
        {"type": "Polygon", "coordinates": [[[0.2, 0.2], [1.5, 0.2], [1.5, 1.5], [0.2, 0.2]]]}, 10, 1e9
    )
    win = window_for(shape, GridGeometry(0.0, 2.0, 1.0, -1.0, 2, 2), 10.0)
    frac = coverage(shape, win)
    ring = dilate(frac > 0, win, 10.0) & ~(frac > 0)
    values = np.ones(win.shape)
    row_area = grid_cell_areas(win.transform, win.shape)
    cov = _coverage(frac, ring)
    zonal_stats(
        values.astype(np.float32),
        cov,
        row_area,
        strata=np.zeros(win.shape, np.uint8),
        n_strata=N_CLASSES,
        minmax=False,
    )
    area_result(
        zonal_stats(values, cov, row_area, minmax=False)[0, -1],
        zonal_stats(values, cov, row_area, minmax=False)[0, -1],
        1,
    )
