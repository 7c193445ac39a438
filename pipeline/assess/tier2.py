"""Tier 2 alongside Tier 1: the same scenario through the project's RothC kernels (issue #17, item 4).

At a location the observatory knows the cell's monthly climatology (``tas``, ``pr``, ``pet``) and
its clay (0-30 cm). For each activity, per hectare:

1. the baseline plant input c_B is RothC's inverse solve (as ``kernels.rothc.inverse_input``:
   two equilibria, no input and a unit input, per distinct plant cover): the input whose equilibrium, under the cell's climate, is the activity's Tier 1 baseline stock B
   (the measured stock with ``reference: measured``, else SOC_REF x the baseline factors);
2. RothC's equilibrium is linear in the plant input (SOC_eq = IOM + c x the active stock per unit
   input, at a fixed climate, cover and DPM/RPM ratio), so the with-project input c_P is the
   one input whose equilibrium is B x P / B = P: RothC's equilibrium ratio equals the Tier 1
   factor ratio F_LU F_MG F_I (project) / F_LU F_MG F_I (baseline). The same for the
   without-project state W. This is an assumption: Tier 1's factors are read as changes of
   the carbon input, which is what RothC can represent (it has no tillage or other process
   factor);
3. from the baseline's equilibrium pools, the year-by-year stocks over the horizon: each
   year's adoption cohort (the share of the area adopted in that year, from the same adoption
   curve as Tier 1, discretised by year: a cohort switches input at the start of its year)
   runs month by month with the new input; the stock is the area-weighted mean over cohorts.

Fixed choices, as ``pipeline.rothc.job`` (the observatory's RothC maps): depth 30 cm, IOM from
Falloon et al. (1998) at the baseline stock, open-pan evaporation = PET / 0.75, input spread
evenly over the covered months; cropland covered in months above 5 degC (all months if none),
grassland and forest all year; DPM/RPM 1.44 for crops and improved grassland, 0.67 for other
grassland, 0.25 for forest (the RothC description's guidance). Unlike Tier 1's linear 20-year
transition, RothC's stocks keep approaching the new equilibrium (fast pools first, then HUM
over decades): after 20 years RothC has realised only part of the change Tier 1 books.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels.rothc import Forcing, Soil, equilibrium, falloon_iom, run_monthly
from pipeline.assess import balance
from pipeline.assess.location import Site

CO2_PER_C = 44.0 / 12.0
DEPTH_CM = 30.0

METHOD = (
    "RothC v2.0.0 (the observatory's kernels) with the location's monthly climatology and clay: "
    "baseline input by equilibrium inversion to the baseline stock; without- and with-project "
    "inputs such that RothC's equilibrium ratio equals the Tier 1 factor ratio (RothC's "
    "equilibrium is linear in the plant input: an assumption that Tier 1's factors act through "
    "the carbon input); year-by-year stocks from the baseline equilibrium, adoption cohorts by "
    "year; depth 30 cm, IOM Falloon et al. (1998), evaporation = PET / 0.75"
)


def _plant(state: dict[str, Any], tas: np.ndarray) -> tuple[np.ndarray, float]:
    """Monthly plant cover (1/0) and the DPM/RPM ratio of a land-use state."""
    lu = state["land_use"]
    if lu.startswith("cropland"):
        cover = (tas > 5.0).astype(float)
        return (cover if cover.any() else np.ones(12)), 1.44
    if lu == "forest":
        return np.ones(12), 0.25
    return np.ones(12), 1.44 if state.get("management") == "improved" else 0.67


def unavailable(site: Site | None) -> str | None:
    """Why Tier 2 cannot run here, or None."""
    if site is None:
        return "no location: Tier 2 (RothC) needs the location's monthly climate and clay"
    if site.tas_monthly is None or site.pr_monthly is None or site.pet_monthly is None:
        return "the observatory has no complete monthly climatology at the location's cell"
    if site.clay_pct is None:
        return "the observatory has no clay at the location's cell"
    return None


def activity_run(
    site: Site,
    states: dict[str, dict[str, Any]],
    stocks: dict[str, float],
    years: int,
    implementation_years: int,
    adoption: str,
) -> dict[str, Any]:
    """Per-hectare RothC stocks (t C/ha) at t = 0..years without and with the project.

    ``states``/``stocks``: baseline, without_project, project -> the state dict and its Tier 1
    equilibrium stock."""
    tas = np.asarray(site.tas_monthly, dtype=float)
    rain = np.clip(np.asarray(site.pr_monthly, dtype=float), 0.0, None)
    pan = np.clip(np.asarray(site.pet_monthly, dtype=float), 0.0, None) / 0.75
    b = stocks["baseline"]
    soil = Soil.build([float(np.clip(site.clay_pct or 0.0, 0.0, 100.0))], DEPTH_CM, falloon_iom([b]))
    plant = {s: _plant(st, tas) for s, st in states.items()}
    # monthly distribution of each state's input (even over the covered months)
    shares = {s: cover / cover.sum() for s, (cover, _) in plant.items()}
    # RothC is linear in the input: per distinct cover and DPM/RPM, two equilibria (no input, a
    # unit input) give every state's input and the baseline's pools exactly
    unit: dict[tuple[tuple[float, ...], float], tuple[Any, Any]] = {}
    inputs: dict[str, float] = {}
    for s in states:
        cover, ratio = plant[s]
        key = (tuple(cover), ratio)
        if key not in unit:
            f = Forcing.build(1, tas=tas, rain=rain, pet=pan, cover=cover, c_in=shares[s], dpm_rpm=ratio)
            unit[key] = (equilibrium(soil, f.scaled_input(0.0)), equilibrium(soil, f))
        zero, one = unit[key]
        # the input whose equilibrium is B x (F_state / F_baseline) = the state's Tier 1 stock
        inputs[s] = float((stocks[s] - zero.soc[0]) / (one.soc[0] - zero.soc[0]))
    if not all(np.isfinite(v) and v >= 0 for v in inputs.values()):
        raise ValueError("a state's Tier 1 stock is below what RothC's inert organic matter alone holds")
    cover_b, ratio_b = plant["baseline"]
    zero, one = unit[(tuple(cover_b), ratio_b)]
    c_b = inputs["baseline"]
    eq_pools = zero.pools + c_b * (one.pools - zero.pools)
    eq_smd = one.smd
    # adoption cohorts by year: cohort k switches at the start of year k with weight F(k+1) - F(k)
    k_max = max(1, min(implementation_years, years)) if adoption != "immediate" else 1
    edges = balance.adopted(np.arange(k_max + 1, dtype=float), implementation_years, adoption)
    edges[0] = 0.0
    weights = np.diff(edges)
    weights[-1] += 1.0 - edges[-1]  # the rest (exponential: reached at I) in the last cohort
    months = 12 * years
    out: dict[str, Any] = {"c_input_t_c_ha_yr": inputs, "soc_start_t_c_ha": float(eq_pools.sum())}
    for scen in ("without_project", "project"):
        cover_s, ratio_s = plant[scen]
        tiles = {
            "cover": np.empty((k_max, months)),
            "c_in": np.empty((k_max, months)),
            "ratio": np.empty((k_max, months)),
        }
        for k in range(k_max):
            switched = np.arange(months) >= 12 * k
            month = np.arange(months) % 12
            tiles["cover"][k] = np.where(switched, cover_s[month], cover_b[month])
            tiles["c_in"][k] = np.where(
                switched,
                shares[scen][month] * inputs[scen],
                shares["baseline"][month] * inputs["baseline"],
            )
            tiles["ratio"][k] = np.where(switched, ratio_s, ratio_b)
        forcing = Forcing.build(
            k_max,
            tas=np.tile(tas, years),
            rain=np.tile(rain, years),
            pet=np.tile(pan, years),
            cover=tiles["cover"],
            c_in=tiles["c_in"],
            dpm_rpm=tiles["ratio"],
        )
        soil_k = Soil.build(np.repeat(soil.clay, k_max), DEPTH_CM, np.repeat(soil.iom, k_max))
        run = run_monthly(soil_k, forcing, np.repeat(eq_pools, k_max, axis=0), np.repeat(eq_smd, k_max))
        year_end = run.soc[:, 11::12]  # (cohorts, years)
        out[scen] = np.concatenate([[float(eq_pools.sum())], weights @ year_end])
    return out


def tier2(
    site: Site | None,
    looked: list[dict[str, Any]],
    years: int,
    implementation_years: int,
    adoption: str,
) -> dict[str, Any]:
    """The Tier 2 block of an answer: area-weighted RothC stocks and the balance, or why not."""
    why = unavailable(site)
    if why is not None or site is None:
        return {"available": False, "reason": why}
    area = sum(x["area_ha"] for x in looked)
    without = np.zeros(years + 1)
    with_ = np.zeros(years + 1)
    per_activity = []
    for x in looked:
        try:
            run = activity_run(site, x["states"], x["stocks"], years, implementation_years, adoption)
        except ValueError as exc:
            return {"available": False, "reason": f"{x['name']}: {exc}"}
        without += x["area_ha"] * run["without_project"]
        with_ += x["area_ha"] * run["project"]
        bal_c = -x["area_ha"] * float(run["project"][-1] - run["without_project"][-1])
        per_activity.append(
            {
                "name": x["name"],
                "c_input_t_c_ha_yr": run["c_input_t_c_ha_yr"],
                "soc_baseline_t_c_ha": run["soc_start_t_c_ha"],
                "soc_project_equilibrium_t_c_ha": x["stocks"]["project"],
                "soc_without_project_end_t_c_ha": float(run["without_project"][-1]),
                "soc_with_project_end_t_c_ha": float(run["project"][-1]),
                "balance_t_c": bal_c,
                "balance_t_co2e": bal_c * CO2_PER_C,
            }
        )
    bal_c_total = -float(with_[-1] - without[-1])
    return {
        "available": True,
        "method": METHOD,
        "soc_baseline_t_c_ha": float(without[0] / area),
        "soc_without_project_end_t_c_ha": float(without[-1] / area),
        "soc_with_project_end_t_c_ha": float(with_[-1] / area),
        "delta_soc_t_c_ha_yr": float((with_[-1] - without[-1]) / area / years),
        "balance_t_c": bal_c_total,
        "balance_t_co2e": bal_c_total * CO2_PER_C,
        "activities": per_activity,
        "series": [
            {
                "year": k,
                "soc_without_project_t_c_ha": float(without[k] / area),
                "soc_with_project_t_c_ha": float(with_[k] / area),
            }
            for k in range(1, years + 1)
        ],
    }
