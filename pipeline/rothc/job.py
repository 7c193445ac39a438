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
from dataclasses import dataclass

import numpy as np
import xarray as xr

from kernels.rothc import Forcing, Soil, falloon_iom, scenarios
from pipeline.config import JobSpec
from pipeline.errors import PipelineError
from pipeline.store import (
    INDICATORS,
    ROTHC,
    Kind,
    data_snapshot,
    latest_commit,
    open_cube,
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


def _stocks(store: str, data_snap: str, epoch: int) -> dict[str, np.ndarray]:
    """The indicator job's stock maps (mean, q05, q95) of ``epoch``, from its commit of ``data_snap``."""
    ind = latest_commit(store, Kind.INDICATORS, input_snapshot=data_snap)
    if ind is None:
        raise PipelineError(
            f"{store}: no indicator maps for data snapshot {data_snap}; the RothC step reads their "
            "SOC stock. Run `socobs indicators JOB.yaml` first (the demo does both)."
        )
    maps = open_group(open_repo(store).readonly_session(snapshot_id=ind), INDICATORS)
    assert maps is not None  # required=True raises instead
    sel = maps[["soc_stock", "soc_stock_q05", "soc_stock_q95"]].sel(epoch=epoch)
    return {
        k: np.asarray(sel[v].values, dtype=np.float64)
        for k, v in (("mean", "soc_stock"), ("low", "soc_stock_q05"), ("high", "soc_stock_q95"))
    }


def run_rothc_job(job: JobSpec, years: int = 20) -> RothcResult:
    """Compute the scenario maps for the latest epoch and commit them to the job's store."""
    if not 1 <= years <= MAX_YEARS:
        raise PipelineError(
            f"--years: expected 1 to {MAX_YEARS} (scenario length; GSOCseq uses 20), got {years}. "
            "Pass a length in that range."
        )
    cube = open_cube(job.store)
    _require(cube)
    snapshot = data_snapshot(job.store)  # the data the maps derive from (the tip may be RothC's)
    epoch = int(cube["epoch"].values[-1])
    top, bot = cube["depth_top"].values, cube["depth_bottom"].values
    w = np.clip(np.minimum(bot, 30) - np.maximum(top, 0), 0, None)
    clay = (cube["clay"].sel(epoch=epoch).compute().values * w[:, None, None]).sum(axis=0) / w.sum()
    lc = cube["landcover"].sel(epoch=epoch).compute().values
    tas = cube["tas"].compute().values  # (12, y, x)
    pr = cube["pr"].compute().values
    pet = cube["pet"].compute().values
    stocks = _stocks(job.store, snapshot, epoch)
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
    if n == 0:
        raise PipelineError("no pixel has all RothC inputs (climate, clay, modelled land cover, stock).")

    def pix(a: np.ndarray) -> np.ndarray:  # (12, y, x) -> (n, 12)
        return np.ascontiguousarray(a.reshape(12, -1)[:, idx].T.astype(np.float64))

    t, p, e = pix(tas), pix(pr), pix(pet) / 0.75
    cover = np.where(warm_only.reshape(-1)[idx][:, None], (t > 5.0).astype(float), 1.0)
    cover[cover.sum(axis=1) == 0] = 1.0  # a cropland pixel with no warm month: keep it covered
    clay_p = np.clip(clay.reshape(-1)[idx], 0.0, 100.0)
    forcing = Forcing.build(
        n,
        tas=t,
        rain=np.clip(p, 0, None),
        pet=np.clip(e, 0, None),
        cover=cover,
        c_in=cover,
        dpm_rpm=ratio.reshape(-1)[idx][:, None],
    )
    out: dict[str, np.ndarray] = {}
    for key, stock in stocks.items():
        s = stock.reshape(-1)[idx]
        soil = Soil.build(clay_p, 30.0, falloon_iom(s))
        res = scenarios(soil, forcing, s, increases=INCREASES, years=years)
        out[f"sp_{key}"] = res.seq_potential
        if key == "mean":
            out["c_input_eq"] = res.c_input
            out["soc_bau_end"] = res.soc_end[:, 0]

    def grid(v: np.ndarray, k: int | None = None) -> np.ndarray:
        g = np.full(ny * nx, np.nan, dtype=np.float32)
        g[idx] = v if k is None else v[:, k]
        return g.reshape(ny, nx)

    scen = [f"+{round(i * 100)}%" for i in INCREASES]
    coords = {"scenario": scen, "y": cube["y"].values, "x": cube["x"].values}
    ds = xr.Dataset(
        {
            "seq_potential": (("scenario", "y", "x"), np.stack([grid(out["sp_mean"], k) for k in range(3)])),
            "seq_potential_low": (
                ("scenario", "y", "x"),
                np.stack([grid(out["sp_low"], k) for k in range(3)]),
            ),
            "seq_potential_high": (
                ("scenario", "y", "x"),
                np.stack([grid(out["sp_high"], k) for k in range(3)]),
            ),
            "c_input_eq": (("y", "x"), grid(out["c_input_eq"])),
            "soc_bau_end": (("y", "x"), grid(out["soc_bau_end"])),
        },
        coords=coords,
    )
    for v in ("seq_potential", "seq_potential_low", "seq_potential_high"):
        ds[v].attrs = {"units": "t C/ha/yr", "definition": f"(SOC_scenario - SOC_BAU) / {years} years"}
    ds["c_input_eq"].attrs = {
        "units": "t C/ha/yr",
        "definition": "plant input keeping the current stock at equilibrium",
    }
    ds["soc_bau_end"].attrs = {
        "units": "t C/ha",
        "definition": f"SOC after {years} years of business as usual",
    }
    if "spatial_ref" in cube.coords:
        ds = ds.assign_coords(spatial_ref=cube["spatial_ref"])
    ds.attrs = {
        "model": "RothC v2.0.0 (kernels.rothc)",
        "convention": "GSOCseq without warm-up",
        "epoch": epoch,
        "input_snapshot": snapshot,
        "years": years,
        "land_cover_table": json.dumps({str(k): v for k, v in RESOLVED_CLASSES.items()}),
    }
    meta = {"kind": Kind.ROTHC.value, "input_snapshot": snapshot, "epoch": epoch}
    with transaction(
        open_repo(job.store), f"rothc {job.name}: scenarios for epoch {epoch}, {n} pixels", meta
    ) as tx:
        ds.to_zarr(tx.session.store, group=ROTHC, mode="w", consolidated=False)
    return RothcResult(tx.snapshot_id, n, epoch)
