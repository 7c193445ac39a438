"""What the indicator job can compute from the cube it is given, and what it cannot.

Real products give less than the full set the job can use (``soc``, ``soc_q05``, ``soc_q95``,
``bdod``, ``cfvo``, ``clay``, ``landcover`` over several epochs). ``inputs_of`` reads which
variables the cube holds and decides, once per run:

- the stock: from content x bulk density (``soc``, ``bdod``; ``cfvo`` assumed 0 when absent),
  else taken directly from a stock a product gives (``soc_stock_src`` or ``soc_stock`` in the
  cube, t C/ha over 0-30 cm, e.g. gNATSGO ``soc0_30``, SoilGrids ``ocs``); neither is an error;
- the bounds: only with ``soc_q05`` and ``soc_q95`` and a stock from content (never invented);
- SOC/clay ratio and soil-health class: only with ``soc`` and ``clay``;
- change, rates, 4 per 1000 progress and trends: only with a stock per epoch and at least two
  epochs (three for trends); otherwise NaN maps and columns, never zeros;
- strata: cropland / grassland / tree cover only with ``landcover``; without it only "all"
  (the other strata's columns are NaN) and no SDG 15.3.1 (its land-cover sub-indicator).

A cube without an epoch dimension (a static source: one release, e.g. SoilGrids or gNATSGO
ingested as ``temporal: static``) is one epoch, labelled with the year of its newest STAC item.
A stock input without epochs beside one with them (OpenLandMap's one bulk-density release under
a SOC time series) serves every epoch: the stock changes with the others, and that is recorded.

Every choice is recorded (``Inputs.attrs``: ``stock_method``, ``assumptions``,
``not_available``) in the indicator and table groups' attributes, which the API repeats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import xarray as xr
import zarr

from pipeline.errors import PipelineError
from pipeline.store import CUBE, StoreError, open_repo

LAYERED_INPUTS = ("soc", "soc_q05", "soc_q95", "bdod", "cfvo", "clay")
DIRECT_STOCKS = ("soc_stock_src", "soc_stock")  # a stock a product gives, t C/ha over 0-30 cm
ALL_INPUTS = (*LAYERED_INPUTS, "landcover", *DIRECT_STOCKS)
CHANGE_MAPS = ("soc_stock_change", "soc_change_rate", "soc_change_rate_permille", "progress_4p1000")
TREND_MAPS = ("trend_slope", "trend_p")


@dataclass(frozen=True)
class Inputs:
    """The inputs of one run and what they allow (see the module docstring)."""

    method: Literal["layers", "direct"]
    direct: str | None  # the cube variable holding a direct stock
    cfvo: bool
    bounds: bool
    clay: bool  # soc and clay: the SOC/clay ratio
    landcover: bool
    static_stock: bool  # the stock inputs have no epoch dimension
    epochs: int
    notes_extra: tuple[str, ...] = ()  # further assumptions (e.g. point depths, unused stock)

    @property
    def names(self) -> list[str]:
        """The cube variables the maps read."""
        if self.method == "direct":
            assert self.direct is not None
            out = [self.direct]
            out += ["soc"] if self.clay else []
        else:
            out = (
                ["soc", "bdod"]
                + (["cfvo"] if self.cfvo else [])
                + (["soc_q05", "soc_q95"] if self.bounds else [])
            )
        out += ["clay"] if self.clay else []
        out += ["landcover"] if self.landcover else []
        return out

    @property
    def stock_names(self) -> list[str]:
        """The cube variables the stock is computed from."""
        return [n for n in self.names if n not in ("clay", "landcover")]

    @property
    def changes(self) -> bool:
        """Whether change, rates and 4 per 1000 progress can be computed."""
        return self.epochs >= 2 and not self.static_stock

    def key(self) -> str:
        """What the stored maps' meaning depends on: a run whose key differs from the stored
        maps' recomputes every epoch (e.g. a second epoch makes the baseline's change 0, not NaN)."""
        return json.dumps(
            [self.method, self.direct, self.cfvo, self.bounds, self.clay, self.landcover, self.changes]
        )

    def assumptions(self) -> list[str]:
        out: list[str] = []
        if self.method == "direct":
            out.append(
                f"soc_stock: taken from the cube's {self.direct} (a stock the source gives directly, "
                "t C/ha over 0-30 cm); soc, bdod and cfvo are not used."
            )
        elif not self.cfvo:
            out.append(
                "cfvo: the cube has no coarse fragments; assumed 0 (the stock counts the whole soil "
                "volume as fine earth, an upper bound where the soil is stony)."
            )
        if self.static_stock:
            out.append(
                "soc_stock: the stock inputs have no epochs (a static source); every epoch has the same stock."
            )
        return out + list(self.notes_extra)

    def not_available(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if not self.bounds:
            why = (
                "the stock comes from a direct stock without quantiles"
                if self.method == "direct"
                else "the cube has no soc_q05/soc_q95 quantiles"
            )
            out["bounds"] = f"no stock bounds (soc_stock_q05/q95 are NaN): {why}; none are invented."
        if not self.changes:
            why = (
                "the stock inputs have no epochs (a static source)"
                if self.static_stock
                else f"the cube has {self.epochs} epoch; change needs at least two"
            )
            for name in CHANGE_MAPS:
                out[name] = f"not available: {why} (NaN, never zero)."
        if self.epochs < 3 or self.static_stock:
            why = (
                "a stock per epoch"
                if self.static_stock
                else f"at least 3 epochs (the cube has {self.epochs})"
            )
            for name in TREND_MAPS:
                out[name] = f"not available: the trend needs {why}."
        if not self.clay:
            for name in ("soc_clay_ratio", "sh_class"):
                out[name] = (
                    "not available: the SOC/clay ratio needs soc and clay content (the cube lacks one)."
                )
        if not self.landcover:
            out["strata"] = (
                "only stratum 'all': the cube has no landcover, so cropland, grassland and tree "
                "cover cannot be told apart (their columns are NaN)."
            )
            out["sdg15_3_1"] = "not available: SDG 15.3.1 needs land cover (the cube has no landcover)."
        elif self.static_stock or self.epochs < 2:
            out["sdg15_3_1"] = "not available: the SOC sub-indicator needs a stock for at least two epochs."
        return out

    def attrs(self) -> dict[str, Any]:
        """The groups' provenance attributes."""
        return {
            "stock_method": "content x bulk density"
            if self.method == "layers"
            else f"direct ({self.direct})",
            "stock_inputs": self.stock_names,
            "assumptions": self.assumptions(),
            "not_available": self.not_available(),
            "inputs_key": self.key(),
        }


FULL_KEY = json.dumps(["layers", None, True, True, True, True, True])  # maps written before the key


def _has(cube: xr.Dataset, name: str) -> bool:
    return name in cube.data_vars


def _epoch_of(cube: xr.Dataset, var: str) -> bool:
    return "epoch" in cube[var].dims


def _depth_notes(cube: xr.Dataset, names: list[str]) -> tuple[str, ...]:
    prov = json.loads(cube.attrs.get("provenance", "{}"))
    out = []
    for n in names:
        pts = prov.get(n, {}).get("point_depths_cm")
        if pts:
            out.append(
                f"{n}: the source gives point depths {pts} cm; the ingest integrated them to the "
                "intervals between them by the trapezoidal rule (the property linear between the "
                "points, each interval's mean the mean of its end values; Hengl et al. 2017, PLoS "
                "ONE 12(2): e0169748), and the stock sums content x bulk density of those interval "
                "means."
            )
    return tuple(out)


def _unusable(cube: xr.Dataset, why: str) -> PipelineError:
    have = sorted(str(n) for n in cube.data_vars if n in ALL_INPUTS) or ["none of them"]
    return PipelineError(
        f"the cube snapshot cannot give a SOC stock: {why}. Expected either soc and bdod (content "
        "and bulk density by depth interval; cfvo, soc_q05/soc_q95, clay and landcover are optional) "
        "or a stock the source gives directly (soc_stock_src or soc_stock, t C/ha over 0-30 cm), with "
        f"an epoch per year or one static release; received {', '.join(have)}. Add a soil source "
        "(e.g. demo-soilgrids, openlandmap-soil, pc-gnatsgo) to the job's sources and run "
        "`socobs ingest JOB.yaml`."
    )


def inputs_of(cube: xr.Dataset) -> Inputs:
    """The run's inputs (see the module docstring); a PipelineError when no stock can be formed."""
    layers = _has(cube, "soc") and _has(cube, "bdod")
    direct = next((n for n in DIRECT_STOCKS if _has(cube, n)), None)
    if not layers and direct is None:
        partial = [n for n in ("soc", "bdod") if _has(cube, n)]
        why = (
            f"it has {partial[0]} without {'bdod' if partial[0] == 'soc' else 'soc'}"
            if partial
            else "it has neither"
        )
        raise _unusable(cube, why)
    if layers and "depth" not in cube["soc"].dims:
        raise _unusable(cube, "soc has no depth intervals (depth_top/depth_bottom)")
    if "epoch" not in cube.dims:
        raise _unusable(cube, "it has no epoch (and no STAC item dates to label a static release)")
    extra: list[str] = []
    if layers:
        stock_vars = ["soc", "bdod"]
        if direct is not None:
            extra.append(
                f"{direct}: in the cube but not used; the stock is computed from content x bulk density."
            )
    else:
        assert direct is not None
        stock_vars = [direct]
    clay = _has(cube, "soc") and _has(cube, "clay")
    epochs = int(cube.sizes["epoch"])
    if layers:
        used = [v for v in ("soc", "bdod", "cfvo", "soc_q05", "soc_q95") if _has(cube, v)]
        timed = [v for v in used if _epoch_of(cube, v)]
        if timed and epochs > 1:
            extra += [
                f"{v}: one release (no epochs); the same values serve every epoch, so the stock's "
                f"change comes from {', '.join(timed)} alone."
                for v in used
                if v not in timed
            ]
    return Inputs(
        method="layers" if layers else "direct",
        direct=None if layers else direct,
        cfvo=layers and _has(cube, "cfvo"),
        bounds=layers and _has(cube, "soc_q05") and _has(cube, "soc_q95"),
        clay=clay,
        landcover=_has(cube, "landcover"),
        static_stock=epochs > 1 and not any(_epoch_of(cube, v) for v in stock_vars),
        epochs=epochs,
        notes_extra=(*_depth_notes(cube, ["soc", "bdod", "clay"]), *extra),
    )


def _static_year(ds: xr.Dataset) -> int | None:
    """The year of the newest STAC item behind a cube without epochs (None: no dates)."""
    prov = json.loads(ds.attrs.get("provenance", "{}"))
    dts = [
        d
        for v in ALL_INPUTS
        for entry in prov.get(v, {}).get("inputs", {}).values()
        for d in entry.get("datetimes", [])
    ]
    return int(max(dts)[:4]) if dts else None


def open_inputs(store: str, snapshot: str) -> xr.Dataset:
    """The cube variables the indicators read, lazily and without dask: each epoch is read by
    plain indexing (a dask graph over every variable of the cube cost 0.5 s per run). A cube
    without epochs gets a one-label epoch coordinate (its variables are not expanded)."""
    session = open_repo(store).readonly_session(snapshot_id=snapshot)
    try:
        names = list(zarr.open_group(session.store, path=CUBE, mode="r").array_keys())
        keep = set(ALL_INPUTS) | {"epoch", "y", "x", "depth_top", "depth_bottom", "spatial_ref"}
        ds = xr.open_zarr(
            session.store,
            group=CUBE,
            consolidated=False,
            chunks=None,
            mask_and_scale=False,  # the land cover's codes, not floats with NaN for _FillValue
            drop_variables=[n for n in names if n not in keep],
        )
    except (FileNotFoundError, KeyError) as exc:
        raise StoreError(f"{store}: snapshot {snapshot} has no cube.") from exc
    if "epoch" not in ds.dims and any(v in ds.data_vars for v in ALL_INPUTS):
        year = _static_year(ds)
        if year is not None:
            ds = ds.assign_coords(epoch=("epoch", [year]))
    return ds


def source_latest(cube: xr.Dataset, epoch: int, names: list[str]) -> str:
    """Latest datetime of the STAC items behind an epoch's stock inputs (ISO 8601); a static
    source's items count for every epoch."""
    prov = json.loads(cube.attrs.get("provenance", "{}"))
    dts = []
    for v in names:
        inputs = prov.get(v, {}).get("inputs", {})
        dts += inputs.get(str(epoch), inputs.get("static", {})).get("datetimes", [])
    return max(dts) if dts else ""
