"""Per-pixel indicator maps of one epoch, and their overview pyramid.

Every map is float32 with NaN for no data (``sh_class``: uint8, 255 for no data). The stock is
rounded to float32 once, and everything downstream (change, rates, trends) is computed from
those float32 stocks in float64: an incremental run reads the stored stocks of older epochs and
gets bit-for-bit what a full run computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from kernels.change import change_and_rates
from kernels.overview import block_mean, block_mode
from kernels.soil_health import NODATA_CLASS, soc_clay_ratio
from kernels.stock import soc_stock
from kernels.trend import trends
from pipeline.indicators.inputs import Inputs
from pipeline.indicators.registry import CLASS_MAPS, SH_CLASSES, SIGNIFICANCE

DEPTH_RANGE = (0.0, 30.0)
STOCK_INPUTS = ("soc", "soc_q05", "soc_q95", "bdod", "cfvo", "clay", "landcover")
OVERVIEW_TARGET = 256  # coarsest level's longest side; a web-map tile is 256 px


@dataclass(frozen=True)
class EpochMaps:
    """The maps of one epoch that need only that epoch's cube slice."""

    stock: np.ndarray
    stock_q05: np.ndarray
    stock_q95: np.ndarray
    ratio: np.ndarray
    sh_class: np.ndarray
    landcover: np.ndarray


def _f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def topsoil_mean(layers: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Thickness-weighted mean over the part of each layer inside 0-30 cm."""
    w = np.clip(np.minimum(bottom, DEPTH_RANGE[1]) - np.maximum(top, DEPTH_RANGE[0]), 0, None)
    keep = np.flatnonzero(w > 0)
    # Layer by layer, elementwise: each cell's sum is the same whatever the block it is computed
    # in (a BLAS tensordot may round a block's tail cells differently from its body).
    acc = np.zeros(layers.shape[1:])
    for k in keep:
        acc += w[k] * layers[k].astype(np.float64)
    return acc / w[keep].sum()


def epoch_maps(cube: xr.Dataset, epoch: int, inputs: Inputs | None = None) -> EpochMaps:
    """Stock (+ bounds), SOC/clay ratio and class, and land cover of one epoch. ``inputs``
    (default: the full set) says what the cube has (``pipeline.indicators.inputs``): what it
    cannot give is NaN (255 for the class, 0 "no class" for the land cover), never invented."""
    if inputs is None:
        sl = cube[list(STOCK_INPUTS)].sel(epoch=epoch).compute()
    else:  # a static variable (no epoch dimension) is the same for every epoch
        sub = cube[inputs.names]
        sl = (sub.sel(epoch=epoch) if "epoch" in sub.dims else sub).compute()
    shape = (cube.sizes["y"], cube.sizes["x"])
    depths = "depth_top" in cube.coords
    top = cube["depth_top"].values if depths else np.zeros(0)
    bot = cube["depth_bottom"].values if depths else np.zeros(0)
    nan = np.full(shape, np.nan, dtype=np.float32)
    if inputs is not None and inputs.method == "direct":
        assert inputs.direct is not None
        s = _f32(sl[inputs.direct].values)
        s_lo, s_hi = nan, nan.copy()
    else:
        bd = sl["bdod"].values
        cf = sl["cfvo"].values if "cfvo" in sl else np.zeros_like(bd)  # assumed 0, recorded

        def stock(var: str) -> np.ndarray:
            return _f32(soc_stock(sl[var].values, bd, cf, top, bot, DEPTH_RANGE))

        s = stock("soc")
        bounds = inputs is None or inputs.bounds
        s_lo, s_hi = (stock("soc_q05"), stock("soc_q95")) if bounds else (nan, nan.copy())
    ratio: np.ndarray
    if "soc" in sl and "clay" in sl:
        soc_top = topsoil_mean(sl["soc"].values, top, bot)
        clay_top = np.clip(topsoil_mean(sl["clay"].values, top, bot), 0.0, 100.0)
        ratio, cls = soc_clay_ratio(soc_top, clay_top)
    else:
        ratio, cls = nan.copy(), np.full(shape, NODATA_CLASS, dtype=np.uint8)
    lc = sl["landcover"].values if "landcover" in sl else np.zeros(shape)  # 0: no stratum
    return EpochMaps(s, s_lo, s_hi, _f32(ratio), cls, np.asarray(lc, dtype=np.uint8))


def change_maps(stock: np.ndarray, baseline: np.ndarray, years: float) -> dict[str, np.ndarray]:
    """Change, rates and 4 per 1000 progress against the baseline (linear convention)."""
    out = change_and_rates(stock.astype(np.float64), baseline.astype(np.float64), years, "linear")
    return {k: _f32(v) for k, v in out.items()}


def trend_maps(stocks: Sequence[np.ndarray], epochs: Sequence[int]) -> dict[str, np.ndarray]:
    """Theil-Sen slope and Mann-Kendall p of the stocks of ``epochs`` (NaN with < 3 epochs)."""
    shape = stocks[-1].shape
    if len(stocks) < 3:
        nan = np.full(shape, np.nan, dtype=np.float32)
        return {"trend_slope": nan, "trend_p": nan.copy()}
    t = trends(np.stack([s.astype(np.float64) for s in stocks]), np.asarray(epochs, dtype=np.float64))
    return {"trend_slope": _f32(t.sen_slope), "trend_p": _f32(t.mk_p)}


def all_maps(
    em: EpochMaps,
    baseline: np.ndarray,
    years: float,
    trend: dict[str, np.ndarray],
    changes: bool = True,
) -> dict[str, np.ndarray]:
    """Every map variable of one epoch, by name (``changes`` False: the change maps are NaN,
    one epoch or a static stock has no change, never a change of zero)."""
    out = {"soc_stock": em.stock, "soc_stock_q05": em.stock_q05, "soc_stock_q95": em.stock_q95}
    ch = change_maps(em.stock, baseline, years)
    out.update(ch if changes else {k: np.full_like(v, np.nan) for k, v in ch.items()})
    out["soc_clay_ratio"] = em.ratio
    out["sh_class"] = em.sh_class
    out.update(trend)
    return out


def overview_factors(shape: tuple[int, int]) -> list[int]:
    """Factors 2, 4, 8, ... until the longest side is at most ``OVERVIEW_TARGET`` cells."""
    factors, f = [], 2
    while max(shape) > OVERVIEW_TARGET * (f // 2):
        factors.append(f)
        f *= 2
    return factors


def overview(maps: dict[str, np.ndarray], row_area: np.ndarray, factor: int) -> dict[str, np.ndarray]:
    """One coarser level of every map: area-weighted means, modes for classes."""
    out = {}
    for name, a in maps.items():
        if name in CLASS_MAPS:
            out[name] = block_mode(a, row_area, factor, len(SH_CLASSES), NODATA_CLASS)
        else:
            out[name] = _f32(block_mean(a, row_area, factor)[0])
    return out


def significant(slope: np.ndarray, p: np.ndarray, sign: int) -> np.ndarray:
    """1 where the trend is significant in direction ``sign``, 0 where not, NaN without trend."""
    with np.errstate(invalid="ignore"):
        hit = (p < SIGNIFICANCE) & (np.sign(slope) == sign)
    return np.where(np.isfinite(p), hit.astype(np.float64), np.nan)
