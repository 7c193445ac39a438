"""``socobs rothc JOB.yaml``: RothC sequestration-potential maps from the cube (GSOCseq-style).

Inputs from the cube's latest data snapshot: monthly climatology (``tas``, ``pr``, ``pet``), clay
(thickness-weighted over 0-30 cm) and land cover of the latest epoch; the SOC stock 0-30 cm and
its bounds are the indicator maps' ``soc_stock``/``_q05``/``_q95`` of that epoch, as the indicator
job committed them from the same data snapshot (one computation of "the" stock: run
``socobs indicators`` first).

Per land-cover class (ESA WorldCover codes) the plant cover and the DPM/RPM ratio of the plant
input follow the RothC description's guidance (1.44 crops and improved grassland, 0.67
unimproved grassland and scrub, 0.25 woodland):

| class | cover | DPM/RPM |
|---|---|---|
| 10 tree cover | all months | 0.25 |
| 20 shrubland, 30 grassland, 100 moss and lichen | all months | 0.67 |
| 40 cropland | months with mean temperature > 5 degC | 1.44 |
| 50 built-up, 60 bare, 70 snow/ice, 80 water | not modelled (no soil input) | - |
| 90 herbaceous wetland, 95 mangroves | not modelled (RothC is not for waterlogged soils) | - |

Plant input is spread evenly over the covered months. Open-pan evaporation = PET / 0.75
(description section 1.2). IOM from Falloon et al. (1998). Topsoil depth 30 cm.
Outputs (group ``rothc``): ``seq_potential`` (scenario, y, x) t C/ha/yr relative to BAU for
+5/+10/+20 % input, with ``seq_potential_low``/``_high`` from the stock's q05/q95;
``c_input_eq`` (t C/ha/yr) and ``soc_bau_end`` (t C/ha). One commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
import zarr

from kernels.rothc import Forcing, Soil, falloon_iom, scenarios
from pipeline import cf
from pipeline.config import JobSpec
from pipeline.errors import PipelineError
from pipeline.memory import release_freed
from pipeline.store import (
    CUBE,
    INDICATORS,
    ROTHC,
    Kind,
    data_snapshot,
    latest_commit,
    open_group,
    open_repo,
    transaction,
)

RESOLVED_CLASSES = {
    10: (0.25, "all"),
    20: (0.67, "all"),
    30: (0.67, "all"),
    100: (0.67, "all"),
    40: (1.44, "warm"),
}
INCREASES = (0.05, 0.10, 0.20)
NEEDED = ("tas", "pr", "pet", "clay", "landcover")  # the stock comes from the indicator maps
TILE = 256
"""Default tile side (at most; 65 536 pixels): the model holds ~2 kB per pixel (forcing, pools,
scenario outputs), so a tile of a 512 x 512 chunk would hold ~0.5 GB; a 256 x 256 tile is a
quarter of such a chunk and holds ~130 MB, whatever the grid's width."""
STOCKS = {"mean": "soc_stock", "low": "soc_stock_q05", "high": "soc_stock_q95"}
MAX_YEARS = 2000
"""Longest scenario run: GSOCseq uses 20 years; RothC is calibrated on decades to a century or
two of field data, so millennia are out of its domain. The cost grows with the length (12 monthly
steps per year, per pixel and scenario): 100 000 years of the demo grid would run for hours."""


@dataclass(frozen=True)
class RothcResult:
    snapshot_id: str
    pixels: int
    epoch: int


def _require(cube: xr.Dataset) -> None:
    missing = [v for v in NEEDED if v not in cube]
    if missing:
        raise PipelineError(
            f"the cube lacks {missing}, which the RothC step needs. Ingest a soil source "
            "(soc, bdod, cfvo, clay), a land-cover source and a monthly climate source (tas, pr, pet) "
            "first, e.g. `socobs ingest catalogs/jobs/demo.yaml`, then `socobs indicators`."
        )


def _stocks(store: str, data_snap: str, epoch: int) -> xr.Dataset:
    """The indicator job's stock maps (mean, q05, q95) of ``epoch``, from its commit of
    ``data_snap``: lazy, read block by block."""
    ind = latest_commit(store, Kind.INDICATORS, input_snapshot=data_snap)
    if ind is None:
        raise PipelineError(
            f"{store}: no indicator maps for data snapshot {data_snap}; the RothC step reads their "
            "SOC stock. Run `socobs indicators JOB.yaml` first (the demo does both)."
        )
    maps = open_group(open_repo(store).readonly_session(snapshot_id=ind), INDICATORS)
    assert maps is not None  # required=True raises instead
    return maps[list(STOCKS.values())].sel(epoch=epoch)


def _block(
    cube: xr.Dataset, stocks_ds: xr.Dataset, epoch: int, window: dict[str, slice], years: int
) -> tuple[dict[str, np.ndarray], int]:
    """The output maps of one tile (NaN where a pixel lacks an input) and its pixel count.
    Every pixel is modelled on its own, so a tile's maps do not depend on the other tiles."""
    c = cube.isel(window)
    top, bot = cube["depth_top"].values, cube["depth_bottom"].values
    w = np.clip(np.minimum(bot, 30) - np.maximum(top, 0), 0, None)
    clay = (c["clay"].sel(epoch=epoch).values * w[:, None, None]).sum(axis=0) / w.sum()
    lc = c["landcover"].sel(epoch=epoch).values
    tas, pr, pet = (c[v].values for v in ("tas", "pr", "pet"))  # (12, y, x)
    st = stocks_ds.isel(window)
    stocks = {k: np.asarray(st[v].values, dtype=np.float64) for k, v in STOCKS.items()}
    ny, nx = lc.shape
    ratio = np.full((ny, nx), np.nan)
    warm_only = np.zeros((ny, nx), dtype=bool)
    for code, (r, kind) in RESOLVED_CLASSES.items():
        ratio[lc == code] = r
        warm_only[lc == code] = kind == "warm"
    ok = (
        np.isfinite(ratio)
        & np.isfinite(clay)
        & np.isfinite(stocks["mean"])
        & (stocks["mean"] > 0)
        & np.isfinite(tas).all(axis=0)
        & np.isfinite(pr).all(axis=0)
        & np.isfinite(pet).all(axis=0)
    )
    idx = np.flatnonzero(ok.reshape(-1))
    n = idx.size

    def grid(v: np.ndarray | None, k: int | None = None) -> np.ndarray:
        g = np.full(ny * nx, np.nan, dtype=np.float32)
        if v is not None:
            g[idx] = v if k is None else v[:, k]
        return g.reshape(ny, nx)

    out: dict[str, np.ndarray] = {}
    if n:

        def pix(a: np.ndarray) -> np.ndarray:  # (12, y, x) -> (n, 12)
            return np.ascontiguousarray(a.reshape(12, -1)[:, idx].T.astype(np.float64))

        t, p, e = pix(tas), pix(pr), pix(pet) / 0.75
        cover = np.where(warm_only.reshape(-1)[idx][:, None], (t > 5.0).astype(float), 1.0)
        cover[cover.sum(axis=1) == 0] = 1.0  # a cropland pixel with no warm month: keep it covered
        clay_p = np.clip(clay.reshape(-1)[idx], 0.0, 100.0)
        dpm_rpm = ratio.reshape(-1)[idx][:, None]
        for key, stock in stocks.items():
            s = stock.reshape(-1)[idx]
            # the mean stock is finite and > 0 on every modelled pixel; a bound may be NaN (a
            # stock without quantiles has no bounds): those pixels keep NaN bound maps
            good = np.isfinite(s) & (s > 0)
            if not good.any():
                continue
            forcing = Forcing.build(
                int(good.sum()),
                tas=t[good],
                rain=np.clip(p[good], 0, None),
                pet=np.clip(e[good], 0, None),
                cover=cover[good],
                c_in=cover[good],
                dpm_rpm=dpm_rpm[good],
            )
            soil = Soil.build(clay_p[good], 30.0, falloon_iom(s[good]))
            res = scenarios(soil, forcing, s[good], increases=INCREASES, years=years)
            sp = np.full((n, len(INCREASES)), np.nan)
            sp[good] = res.seq_potential
            out[f"sp_{key}"] = sp
            if key == "mean":
                out["c_input_eq"] = res.c_input
                out["soc_bau_end"] = res.soc_end[:, 0]
    maps = {
        f"seq_potential{sfx}": np.stack([grid(out.get(f"sp_{key}"), k) for k in range(len(INCREASES))])
        for sfx, key in (("", "mean"), ("_low", "low"), ("_high", "high"))
    }
    maps["c_input_eq"] = grid(out.get("c_input_eq"))
    maps["soc_bau_end"] = grid(out.get("soc_bau_end"))
    return maps, n


def _template(cube: xr.Dataset, years: int, chunks: tuple[int, int]) -> xr.Dataset:
    """The group's arrays (lazy zeros, never computed: the tiles fill them) and attributes."""
    ny, nx = cube.sizes["y"], cube.sizes["x"]
    cy, cx = min(chunks[0], ny), min(chunks[1], nx)
    scen = [f"+{round(i * 100)}%" for i in INCREASES]
    per_year = {
        "units": "t C/ha/yr",
        "long_name": "SOC sequestration potential relative to business as usual",
        "definition": f"(SOC_scenario - SOC_BAU) / {years} years",
    }
    s3 = da.zeros((len(scen), ny, nx), dtype=np.float32, chunks=(len(scen), cy, cx))
    s2 = da.zeros((ny, nx), dtype=np.float32, chunks=(cy, cx))
    dims3, dims2 = ("scenario", "y", "x"), ("y", "x")
    ds = xr.Dataset(
        {
            "seq_potential": (dims3, s3, per_year),
            "seq_potential_low": (dims3, s3, per_year),
            "seq_potential_high": (dims3, s3, per_year),
            "c_input_eq": (
                dims2,
                s2,
                {
                    "units": "t C/ha/yr",
                    "long_name": "equilibrium carbon input",
                    "definition": "plant input keeping the current stock at equilibrium",
                },
            ),
            "soc_bau_end": (
                dims2,
                s2,
                {
                    "units": "t C/ha",
                    "long_name": "SOC stock 0-30 cm at the end of business as usual",
                    "definition": f"SOC after {years} years of business as usual",
                },
            ),
        },
        coords={"scenario": scen, "y": cube["y"].values, "x": cube["x"].values},
    )
    ds = cf.annotate(ds, cf.crs_of(cube))
    for v in ds.data_vars.values():
        v.encoding["chunks"] = v.data.chunksize
    return ds


def _tiles(
    shape: tuple[int, int], tile: tuple[int, int], chunks: tuple[int, int]
) -> Iterator[tuple[slice, slice]]:
    """Windows of ``tile`` cells covering the grid, chunk by chunk (row-major within each)."""
    (ny, nx), (ty, tx) = shape, tile
    cy, cx = max(chunks[0], ty), max(chunks[1], tx)
    for y0 in range(0, ny, cy):
        for x0 in range(0, nx, cx):
            for r0 in range(y0, min(ny, y0 + cy), ty):
                for c0 in range(x0, min(nx, x0 + cx), tx):
                    yield slice(r0, min(ny, r0 + ty, y0 + cy)), slice(c0, min(nx, c0 + tx, x0 + cx))


def run_rothc_job(job: JobSpec, years: int = 20, *, block: int | None = None) -> RothcResult:
    """Compute the scenario maps for the latest epoch and commit them to the job's store, tile
    by tile of ``block`` x ``block`` cells (default: the job's chunks, at most ``TILE`` a side):
    memory is bounded by the tile, never by the grid.

    The tiles run one after the other in this process: the RothC kernel is numba-parallel over
    a tile's pixels already, and each tile is written into the transaction (region writes) as
    it is done. Tiles go through a chunk's window before the next chunk's, so a chunk is
    completed by consecutive writes."""
    if not 1 <= years <= MAX_YEARS:
        raise PipelineError(
            f"--years: expected 1 to {MAX_YEARS} (scenario length; GSOCseq uses 20), got {years}. "
            "Pass a length in that range."
        )
    snapshot = data_snapshot(job.store)  # the data the maps derive from (the tip may be RothC's)
    session = open_repo(job.store).readonly_session(snapshot_id=snapshot)
    cube = open_group(session, CUBE, mask_and_scale=False)  # land cover codes, not masked floats
    assert cube is not None  # required=True raises instead
    _require(cube)
    epoch = int(cube["epoch"].values[-1])
    stocks = _stocks(job.store, snapshot, epoch)
    ny, nx = cube.sizes["y"], cube.sizes["x"]
    rows, cols = (
        (max(1, block), max(1, block)) if block else (min(job.chunks.y, TILE), min(job.chunks.x, TILE))
    )
    ds = _template(cube, years, (job.chunks.y, job.chunks.x))
    ds.attrs = {
        "model": "RothC v2.0.0 (kernels.rothc)",
        "convention": "GSOCseq without warm-up",
        "epoch": epoch,
        "input_snapshot": snapshot,
        "years": years,
        "land_cover_table": json.dumps({str(k): v for k, v in RESOLVED_CLASSES.items()}),
    }
    meta = {"kind": Kind.ROTHC.value, "input_snapshot": snapshot, "epoch": epoch}
    n = 0
    repo = open_repo(job.store)
    with transaction(repo, f"rothc {job.name}: scenarios for epoch {epoch}", meta) as tx:
        ds.to_zarr(tx.session.store, group=ROTHC, mode="w", compute=False, consolidated=False)
        group = zarr.open_group(tx.session.store, path=ROTHC, mode="r+")
        for ys, xs in _tiles((ny, nx), (rows, cols), (job.chunks.y, job.chunks.x)):
            maps, k = _block(cube, stocks, epoch, {"y": ys, "x": xs}, years)
            n += k
            for name, a in maps.items():
                arr: Any = group[name]
                arr[(slice(None), ys, xs) if a.ndim == 3 else (ys, xs)] = a
            del maps
            release_freed()  # the tile's ~2 kB per pixel back to the system (pipeline.memory)
        if n == 0:  # raised inside the transaction: nothing is committed
            raise PipelineError("no pixel has all RothC inputs (climate, clay, modelled land cover, stock).")
    return RothcResult(tx.snapshot_id, n, epoch)
