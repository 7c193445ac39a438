"""Thin xarray wrappers of the kernels: they map dims and coords and hold no numerics.

Each goes through ``xr.apply_ufunc(..., dask="parallelized")`` so a dask-backed cube is
computed chunk by chunk, in parallel, with the same compiled code as numpy arrays. The zonal
reduction is not elementwise: it reduces row blocks to partial accumulators and combines them
(sums add, min/max combine), which gives the numpy result exactly up to float64 summation
order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from kernels import change as _change
from kernels import soil_health as _sh
from kernels import stock as _stock
from kernels import trend as _trend
from kernels import zonal as _zonal
from kernels.errors import KernelInputError


def _need(da: xr.DataArray, dims: tuple[str, ...], name: str) -> None:
    missing = [d for d in dims if d not in da.dims]
    if missing:
        raise KernelInputError(f"{name}: expected dimensions {dims}, missing {missing} (has {da.dims}).")


def soc_stock(
    soc: xr.DataArray,
    bdod: xr.DataArray,
    cfvo: xr.DataArray,
    depth_range: tuple[float, float] = (0.0, 30.0),
    *,
    depth_dim: str = "depth",
) -> xr.DataArray:
    """SOC stock (t C/ha) over ``depth_range`` from layered variables with a ``depth`` dim and
    ``depth_top`` / ``depth_bottom`` coordinates (cm)."""
    _need(soc, (depth_dim,), "soc")
    if "depth_top" not in soc.coords or "depth_bottom" not in soc.coords:
        raise KernelInputError(
            "soc: expected coordinates depth_top and depth_bottom (cm) on the depth dimension."
        )
    top = soc["depth_top"].values
    bottom = soc["depth_bottom"].values
    _stock.layer_weights(top, bottom, depth_range)  # validate now, not inside dask tasks

    def block(s: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        ms, mb, mc = (np.moveaxis(a, -1, 0) for a in (s, b, c))
        return _stock.soc_stock(ms, mb, mc, top, bottom, depth_range).astype(np.float32)

    # The store keeps one depth interval per chunk; the layers of a pixel must meet in one
    # block, and a handful of layers is a cheap rechunk.
    soc, bdod, cfvo = (a.chunk({depth_dim: -1}) if a.chunks is not None else a for a in (soc, bdod, cfvo))
    out = xr.apply_ufunc(
        block,
        soc,
        bdod,
        cfvo,
        input_core_dims=[[depth_dim]] * 3,
        output_core_dims=[[]],
        dask="parallelized",
        output_dtypes=[np.float32],
    )
    out.attrs = {
        "units": "t C/ha",
        "long_name": "SOC stock",
        "depth_range_cm": f"{depth_range[0]:g}-{depth_range[1]:g}",
    }
    return out.rename("soc_stock")


def change_and_rates(
    stock: xr.DataArray,
    *,
    epoch_dim: str = "epoch",
    baseline: Any = None,
    convention: _change.Convention = "linear",
) -> xr.Dataset:
    """Change, rates and 4 per 1000 progress of every epoch against ``baseline`` (an epoch
    label; default the first). The epoch coordinate must hold years (numbers)."""
    _need(stock, (epoch_dim,), "stock")
    years = np.asarray(stock[epoch_dim].values, dtype=np.float64)
    base_label = stock[epoch_dim].values[0] if baseline is None else baseline
    base = stock.sel({epoch_dim: base_label}).drop_vars(epoch_dim)
    dts = years - float(base_label)

    def block(s: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.empty((*s.shape, 4))
        for k, dt in enumerate(dts):
            r = _change.change_and_rates(s[..., k], b, abs(dt), convention)
            sign = 1.0 if dt >= 0 else -1.0
            out[..., k, 0] = r["soc_stock_change"]
            out[..., k, 1] = sign * r["soc_change_rate"]
            out[..., k, 2] = sign * r["soc_change_rate_permille"]
            out[..., k, 3] = r["progress_4p1000"]
        return out

    s_in = stock.chunk({epoch_dim: -1}) if stock.chunks else stock
    arr = xr.apply_ufunc(
        block,
        s_in,
        base,
        input_core_dims=[[epoch_dim], []],
        output_core_dims=[[epoch_dim, "indicator"]],
        dask="parallelized",
        output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": {"indicator": 4}},
    )
    ds = xr.Dataset(
        {
            "soc_stock_change": arr.isel(indicator=0).assign_attrs(units="t C/ha"),
            "soc_change_rate": arr.isel(indicator=1).assign_attrs(units="t C/ha/yr"),
            "soc_change_rate_permille": arr.isel(indicator=2).assign_attrs(units="permille/yr"),
            "progress_4p1000": arr.isel(indicator=3).assign_attrs(
                units="1",
                convention=convention,
                target="0.4 %/yr of the baseline stock"
                if convention == "linear"
                else "stock growing by a factor 1.004 per year",
            ),
        }
    )
    ds.attrs["baseline_epoch"] = str(base_label)
    return ds


def soc_clay_ratio(soc: xr.DataArray, clay: xr.DataArray) -> xr.Dataset:
    """SOC/clay ratio and class (Prout et al. 2021) of canonical ``soc`` (g/kg), ``clay`` (%)."""
    ratio, cls = xr.apply_ufunc(
        _sh.soc_clay_ratio,
        soc,
        clay,
        output_core_dims=[[], []],
        dask="parallelized",
        output_dtypes=[np.float64, np.uint8],
    )
    return xr.Dataset(
        {
            "soc_clay_ratio": ratio.assign_attrs(units="1"),
            "soc_clay_class": cls.assign_attrs(
                flag_values=[0, 1, 2, 3],
                flag_meanings=" ".join(c.replace(" ", "_") for c in _sh.CLASSES),
                _FillValue=_sh.NODATA_CLASS,
            ),
        }
    )


def trends(
    values: xr.DataArray, *, epoch_dim: str = "epoch", min_count: int = 3, confidence: float = 0.95
) -> xr.Dataset:
    """OLS, Theil-Sen (with interval) and Mann-Kendall over ``epoch_dim`` (numeric years)."""
    _need(values, (epoch_dim,), "values")
    times = np.asarray(values[epoch_dim].values, dtype=np.float64)
    names = ("ols_slope", "sen_slope", "sen_low", "sen_high", "mk_s", "mk_z", "mk_p", "n_valid")

    def block(v: np.ndarray) -> np.ndarray:
        r = _trend.trends(np.moveaxis(v, -1, 0), times, min_count=min_count, confidence=confidence)
        return np.stack([getattr(r, n) for n in names], axis=-1)

    v = values.chunk({epoch_dim: -1}) if values.chunks else values
    arr = xr.apply_ufunc(
        block,
        v,
        input_core_dims=[[epoch_dim]],
        output_core_dims=[["stat"]],
        dask="parallelized",
        output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": {"stat": len(names)}},
    )
    return xr.Dataset({n: arr.isel(stat=i, drop=True) for i, n in enumerate(names)})


def zonal_stats(
    values: xr.DataArray,
    coverage: _zonal.Coverage,
    row_area: np.ndarray,
    *,
    y_dim: str = "y",
    strata: xr.DataArray | None = None,
    n_strata: int = 0,
) -> np.ndarray:
    """Accumulators (regions, strata + 1, stats) of a 2-D (y, x) DataArray, numpy or dask.

    With dask, every row block is reduced to partial accumulators in parallel and the partials
    are combined; the coverage is shared by all blocks.
    """
    if values.ndim != 2 or values.dims[0] != y_dim:
        raise KernelInputError(
            f"values: expected 2-D ({y_dim}, x), got {values.dims}. Select one epoch/variable."
        )
    if values.chunks is None:
        st = None if strata is None else np.asarray(strata.values)
        return _zonal.zonal_stats(values.values, coverage, row_area, strata=st, n_strata=n_strata)
    import dask
    import dask.array as da

    data = values.data.rechunk({1: -1})
    sdata = None if strata is None else da.asarray(strata.data).rechunk(data.chunks)
    offsets = np.cumsum((0, *data.chunks[0][:-1]))
    blocks = data.to_delayed().ravel()
    sblocks = [None] * len(blocks) if sdata is None else sdata.to_delayed().ravel()

    @dask.delayed
    def part(block: np.ndarray, sblock: np.ndarray | None, off: int) -> np.ndarray:
        return _zonal.zonal_stats(
            block, coverage, row_area, strata=sblock, n_strata=n_strata, row_offset=int(off)
        )

    parts = dask.compute(*[part(b, s, o) for b, s, o in zip(blocks, sblocks, offsets, strict=True)])
    total = parts[0]
    for p in parts[1:]:
        total = _zonal.combine(total, p)
    return total
