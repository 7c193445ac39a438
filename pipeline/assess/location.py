"""What the observatory knows at a location, for Tier 1 from the place itself (issue #17, item 3).

``site_at(store, lat, lon)`` reads one cell of the cube (the nearest cell centre): its monthly
climatology (``tas``, ``pr``, ``pet``) gives the IPCC climate zone (``kernels.climate_zone``, Vol. 4
Ch. 3 Annex 3A.5), its clay (0-30 cm, thickness-weighted) and the indicator maps give the measured
0-30 cm SOC stock of the baseline (first) epoch and the SOC/clay soil-health class. The cube holds
no elevation, so tropical montane cannot be told from it (said in ``notes``; give the zone then).
The soil class (HAC, LAC, ...) is a taxonomic class the cube cannot tell: the user gives it.

"Tier 1 with measured reference": Eq. 2.25 scales a reference stock by the state's factors. With
``reference: measured`` the baseline state's stock is the observatory's measured stock at the
location, so the reference becomes measured / (F_LU * F_MG * F_I of the baseline); the other states
follow from it with their factors, as in Eq. 2.25. Every answer says which reference it used.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from kernels.climate_zone import climate_zone, zone_name
from pipeline.assess.tables import AssessError
from pipeline.errors import PipelineError
from pipeline.store import INDICATORS, open_cube


@dataclass(frozen=True)
class Site:
    lat: float
    lon: float
    cell_lat: float
    cell_lon: float
    snapshot: str
    synthetic: bool
    climate_zone: str | None
    mat_c: float
    map_mm: float
    pet_mm: float
    clay_pct: float | None
    soc_stock_t_c_ha: float | None
    soc_stock_epoch: int | None
    soc_clay_ratio: float | None
    notes: list[str] = field(default_factory=list)
    # the cell's monthly climatology (January-December): degC, mm, mm (PET); Tier 2 runs on it
    tas_monthly: tuple[float, ...] | None = None
    pr_monthly: tuple[float, ...] | None = None
    pet_monthly: tuple[float, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _outside(lat: float, lon: float, extent: tuple[float, float, float, float]) -> AssessError:
    w, s, e, n = extent
    return AssessError(
        f"location: expected a point inside the cube's extent (lon {w:g}..{e:g}, lat {s:g}..{n:g}); "
        f"got lat {lat:g}, lon {lon:g}. Give climate_zone and soil_type instead of a location, or "
        "ingest a cube that covers the point.",
        parameter="location",
    )


def _index(coord: np.ndarray, value: float) -> int | None:
    """The cell whose centre is nearest ``value``, or None outside the cells' edges."""
    step = abs(float(coord[1] - coord[0])) if coord.size > 1 else 1.0
    lo, hi = float(coord.min()) - step / 2, float(coord.max()) + step / 2
    if not (lo <= value <= hi):
        return None
    return int(np.argmin(np.abs(coord - value)))


def _clay_0_30(ds: Any) -> float | None:
    if "clay" not in ds:
        return None
    clay = ds["clay"].isel(epoch=0) if "epoch" in ds["clay"].dims else ds["clay"]
    top = np.asarray(ds["depth_top"].values, dtype=float)
    bottom = np.asarray(ds["depth_bottom"].values, dtype=float)
    thick = np.clip(np.minimum(bottom, 30.0) - np.clip(top, 0.0, 30.0), 0.0, None)
    values = np.asarray(clay.values, dtype=float)
    ok = np.isfinite(values) & (thick > 0)
    if not ok.any():
        return None
    return float(np.sum(values[ok] * thick[ok]) / np.sum(thick[ok]))


def site_at(store: str, lat: float, lon: float, snapshot: str | None = None) -> Site:
    """The observatory's view of the cell holding (lat, lon) in ``store`` (at ``snapshot``).

    A snapshot is immutable, so with a snapshot id the grid and each cell's values are cached
    (per process: the API reads a cell once per served snapshot); without one (the latest
    snapshot, as the CLI asks) the store is read every time."""
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise AssessError(
            f"location: expected lat in [-90, 90] and lon in [-180, 180] (degrees, WGS84); got "
            f"lat {lat!r}, lon {lon!r}.",
            parameter="location",
        )
    if snapshot is None:
        cube = _open(store, None)
        xs, ys = np.asarray(cube["x"].values, float), np.asarray(cube["y"].values, float)
        ix, iy = _cell_of(xs, ys, lat, lon)
        return _read_cell(store, None, cube, ix, iy, lat, lon)
    xs, ys = _grid(store, snapshot)
    ix, iy = _cell_of(xs, ys, lat, lon)
    cell = _cached_cell(store, snapshot, ix, iy)
    return replace(cell, lat=lat, lon=lon, notes=list(cell.notes))


def _open(store: str, snapshot: str | None) -> Any:
    try:
        return open_cube(store, snapshot)
    except PipelineError as exc:
        raise AssessError(
            f"location: the observatory's store could not be read ({str(exc)[:300]}). Give "
            "climate_zone and soil_type instead of a location, or point --store at a cube.",
            parameter="location",
        ) from None


@functools.lru_cache(maxsize=8)
def _grid(store: str, snapshot: str) -> tuple[np.ndarray, np.ndarray]:
    cube = _open(store, snapshot)
    return np.asarray(cube["x"].values, float), np.asarray(cube["y"].values, float)


@functools.lru_cache(maxsize=4096)
def _cached_cell(store: str, snapshot: str, ix: int, iy: int) -> Site:
    xs, ys = _grid(store, snapshot)
    return _read_cell(store, snapshot, _open(store, snapshot), ix, iy, float(ys[iy]), float(xs[ix]))


def _cell_of(xs: np.ndarray, ys: np.ndarray, lat: float, lon: float) -> tuple[int, int]:
    ix, iy = _index(xs, lon), _index(ys, lat)
    if ix is None or iy is None:
        step = abs(float(xs[1] - xs[0])) if xs.size > 1 else 0.0
        raise _outside(
            lat, lon, (xs.min() - step / 2, ys.min() - step / 2, xs.max() + step / 2, ys.max() + step / 2)
        )
    return ix, iy


def _read_cell(store: str, snapshot: str | None, cube: Any, ix: int, iy: int, lat: float, lon: float) -> Site:
    xs, ys = np.asarray(cube["x"].values, float), np.asarray(cube["y"].values, float)
    cell = cube.isel(x=ix, y=iy)
    notes: list[str] = []
    clim = {v: np.asarray(cell[v].values, dtype=float) for v in ("tas", "pr", "pet") if v in cell}
    zone = None
    mat = map_mm = pet_mm = float("nan")
    if len(clim) == 3:
        code = int(climate_zone(clim["tas"][:, None], clim["pr"][:, None], clim["pet"][:, None])[0])
        zone = zone_name(code)
        mat, map_mm, pet_mm = float(clim["tas"].mean()), float(clim["pr"].sum()), float(clim["pet"].sum())
        if zone is None:
            notes.append("the cell's climatology has missing months: no climate zone")
        elif zone.startswith("tropical"):
            notes.append("the cube holds no elevation: tropical montane (> 1000 m) cannot be told here")
    else:
        notes.append("the cube holds no monthly climatology (tas, pr, pet): no climate zone")
    stock = ratio = None
    epoch = None
    try:
        ind = open_cube(store, snapshot, group=INDICATORS).isel(x=ix, y=iy, epoch=0)
        epoch = int(ind["epoch"].values)
        stock = _finite(ind["soc_stock"].values)
        ratio = _finite(ind["soc_clay_ratio"].values) if "soc_clay_ratio" in ind else None
    except (PipelineError, KeyError, ValueError, IndexError):
        notes.append("no indicator maps in the store: no measured stock")
    if stock is None and epoch is not None:
        notes.append(f"no measured 0-30 cm stock at this cell in epoch {epoch}")
    return Site(
        lat=lat,
        lon=lon,
        cell_lat=float(ys[iy]),
        cell_lon=float(xs[ix]),
        snapshot=str(cube.attrs.get("snapshot_id", snapshot or "")),
        synthetic=bool(cube.attrs.get("synthetic", False)),
        climate_zone=zone,
        mat_c=mat,
        map_mm=map_mm,
        pet_mm=pet_mm,
        clay_pct=_clay_0_30(cell),
        soc_stock_t_c_ha=stock,
        soc_stock_epoch=epoch,
        soc_clay_ratio=ratio,
        notes=notes,
        **{
            f"{v}_monthly": tuple(float(x) for x in clim[v])
            for v in ("tas", "pr", "pet")
            if v in clim and clim[v].shape == (12,) and np.isfinite(clim[v]).all()
        },
    )


def _finite(v: Any) -> float | None:
    x = float(np.asarray(v, dtype=float))
    return x if math.isfinite(x) else None
