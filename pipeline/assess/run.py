"""``assess(project)``: the whole ex-ante result (JSON-ready), and its per-year CSV form."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.assess import balance, montecarlo
from pipeline.assess.location import Site, site_at
from pipeline.assess.project import Project, parse_project, read_project
from pipeline.assess.tables import (
    SOIL_TYPES,
    AssessError,
    Factor,
    Tables,
    check_zone,
    load_tables,
    soil_classes,
)
from pipeline.assess.tier2 import tier2
from pipeline.assess.tier2 import unavailable as tier2_unavailable
from pipeline.assess.verdict import socio_economic, soil_health, verdict

CO2_PER_C = 44.0 / 12.0
STATES = ("baseline", "without_project", "project")


def _product(fs: list[Factor]) -> float:
    out = 1.0
    for f in fs:
        out *= f.value
    return out


def _key(f: Factor, zone: str) -> tuple[str, str, str, str]:
    return (f.factor, f.level, f.reference, zone)


def assess(
    project: Project | dict[str, Any], tables: Tables | None = None, site: Site | None = None
) -> dict[str, Any]:
    """The Tier 1 ex-ante balance of ``project`` (a ``Project`` or its dict form).

    A project with a ``location`` needs the observatory's ``site`` there (``site_at``, or
    ``assess_at`` which reads it). Bad input raises ``AssessError`` (a ``PipelineError``) naming
    the parameter and the allowed values; nothing is computed before every activity's states
    have been looked up.
    """
    p = project if isinstance(project, Project) else parse_project(project)
    t = tables or load_tables()
    if any((a.soil_type or p.soil_type) is None for a in p.activities):
        return _soil_range(p, t, site)
    return _assess(p, t, site)


RANGE_KEYS = (
    "soc_ref_t_c_ha",
    "soc_baseline_t_c_ha",
    "soc_without_project_t_c_ha",
    "soc_project_t_c_ha",
    "delta_soc_t_c_ha_yr",
    "soc_with_project_end_t_c_ha",
    "balance_t_c",
    "balance_t_co2e",
    "balance_t_co2e_per_ha",
    "balance_t_co2e_per_yr",
    "balance_t_co2e_per_ha_yr",
)


def _soil_range(p: Project, t: Tables, site: Site | None) -> dict[str, Any]:
    """soil_type unknown: the project run once per soil class that Table 2.3 defines in the zone
    of every activity lacking one, and each key figure's minimum and maximum over them."""
    zones = set()
    for a in p.activities:
        if (a.soil_type or p.soil_type) is None:
            zone = a.climate_zone or p.climate_zone or (site.climate_zone if site else None)
            if zone is None:  # the full run says why
                return _assess(p.model_copy(update={"soil_type": "HAC"}), t, site)
            zones.add(zone)
    for zone in zones:
        check_zone(zone)
    clay = site.clay_pct if site is not None else None
    per_zone = {z: soil_classes(z, clay, t) for z in sorted(zones)}
    soils = [s for s in SOIL_TYPES if all(s in got for got, _ in per_zone.values())]
    texture = next((note for _, note in per_zone.values() if note), "")
    results = {s: _assess(p.model_copy(update={"soil_type": s}), t, site) for s in soils}
    figures: dict[str, Any] = {}
    for k in RANGE_KEYS:
        lo = min(soils, key=lambda s: results[s][k])
        hi = max(soils, key=lambda s: results[s][k])
        figures[k] = {
            "min": results[lo][k],
            "max": results[hi][k],
            "min_soil_type": lo,
            "max_soil_type": hi,
        }
    first = results[soils[0]]
    levels = {s: r["verdict"]["level"] for s, r in results.items()}
    return {
        "method": first["method"],
        "project": first["project"],
        "soil_type": None,
        "soil_type_range": {
            "note": "soil_type was not given and the location does not tell it: the project was run "
            f"once for each mineral soil class Table 2.3 (2019) gives in {', '.join(sorted(zones))} "
            f"({', '.join(soils)}); each figure's range is over those classes. Give soil_type for "
            "one answer." + texture,
            "soil_types": soils,
            "figures": figures,
            "verdict_levels": levels,
        },
        "by_soil_type": results,
        "reference": first["reference"],
        "location": first["location"],
    }


def _assess(p: Project, t: Tables, site: Site | None) -> dict[str, Any]:
    if p.location is not None and site is None:
        raise AssessError(
            "location: a project with a location is assessed against the observatory's cube; none was "
            "given. Run `socobs assess PROJECT.yaml --store PATH` (or the API), or give climate_zone "
            "and drop the location.",
            parameter="location",
        )
    d, years = t.D, p.years
    impl, how = p.implementation_years, p.adoption
    realised_end = float(balance.realised(np.array([float(years)]), d, impl, how)[0])
    tt = np.arange(years + 1, dtype=np.float64)
    adopted = balance.adopted(tt[1:], impl, how)  # by the end of each year

    looked: list[dict[str, Any]] = []
    for i, a in enumerate(p.activities):  # every look-up first: refuse before computing anything
        zone = a.climate_zone or p.climate_zone or (site.climate_zone if site else None)
        soil = a.soil_type or p.soil_type
        if zone is None:
            raise AssessError(
                f"climate_zone: the observatory could not tell the climate zone at the location "
                f"({'; '.join(site.notes) if site else 'no site'}); give climate_zone.",
                parameter="climate_zone",
            )
        assert soil is not None  # Project checks it
        where = f"activities[{i}]" if len(p.activities) > 1 else ""
        pre = f"{where}." if where else ""
        ref = t.soc_ref(zone, soil)
        states = {
            "baseline": a.baseline,
            "without_project": a.without_project or a.baseline,
            "project": a.project,
        }
        fs = {s: t.state_factors(st.model_dump(), zone, f"{pre}{s}") for s, st in states.items()}
        if p.reference == "measured":
            assert site is not None  # Project checks location with measured
            ref = measured_reference(site, ref, _product(fs["baseline"]))
        looked.append({"a": a, "zone": zone, "soil": soil, "ref": ref, "fs": fs, "states": states})

    total_area = sum(x["a"].area_ha for x in looked)
    acts: list[dict[str, Any]] = []
    without_sum = np.zeros(years + 1)
    with_sum = np.zeros(years + 1)
    factors_out: list[dict[str, Any]] = []
    for_tier2: list[dict[str, Any]] = []
    for x in looked:
        a, ref, fs = x["a"], x["ref"], x["fs"]
        b, w, pr = (ref.value * _product(fs[s]) for s in STATES)
        without, with_ = balance.trajectories(b, w, pr, years, d, impl, how)
        for_tier2.append(
            {
                "name": a.name,
                "area_ha": a.area_ha,
                "states": {s: st.model_dump() for s, st in x["states"].items()},
                "stocks": {"baseline": b, "without_project": w, "project": pr},
            }
        )
        without_sum += a.area_ha * without
        with_sum += a.area_ha * with_
        bal_c = float(-a.area_ha * (with_[-1] - without[-1]))
        acts.append(
            {
                "name": a.name,
                "area_ha": a.area_ha,
                "climate_zone": x["zone"],
                "soil_type": x["soil"],
                "soc_ref_t_c_ha": ref.value,
                "soc_baseline_t_c_ha": b,
                "soc_without_project_t_c_ha": w,
                "soc_project_t_c_ha": pr,
                "delta_soc_t_c_ha_yr": (pr - w) / d,
                "soc_without_project_end_t_c_ha": float(without[-1]),
                "soc_with_project_end_t_c_ha": float(with_[-1]),
                "emissions_without_project_t_co2e": float(-a.area_ha * (without[-1] - b) * CO2_PER_C),
                "emissions_with_project_t_co2e": float(-a.area_ha * (with_[-1] - b) * CO2_PER_C),
                "balance_t_c": bal_c,
                "balance_t_co2e": bal_c * CO2_PER_C,
            }
        )
        base = {"activity": a.name}
        factors_out.append({**base, "state": "all", **ref.model_dump()})
        for s in STATES:
            factors_out.extend({**base, "state": s, **f.model_dump()} for f in fs[s])

    def mean(k: str) -> float:
        return sum(x[k] * x["area_ha"] for x in acts) / total_area

    bal_c_total = float(sum(x["balance_t_c"] for x in acts))
    bal_co2 = bal_c_total * CO2_PER_C
    series = []
    cum = 0.0
    for k in range(1, years + 1):
        step_c = -((with_sum[k] - with_sum[k - 1]) - (without_sum[k] - without_sum[k - 1]))
        cum += step_c * CO2_PER_C
        series.append(
            {
                "year": k,
                "adopted_area_ha": float(adopted[k - 1]) * total_area,
                "soc_without_project_t_c_ha": float(without_sum[k] / total_area),
                "soc_with_project_t_c_ha": float(with_sum[k] / total_area),
                "balance_t_c": float(step_c),
                "balance_t_co2e": float(step_c * CO2_PER_C),
                "cumulative_balance_t_co2e": float(cum),
            }
        )

    soc0 = float(with_sum[0] / total_area)
    disputed = sorted(
        {
            f"{f['factor']} {f['level']} ({f['activity']}): {f['disputed']}"
            for f in factors_out
            if f.get("disputed")
        }
    )
    return {
        "method": {
            "tier": "IPCC Tier 1, mineral soils",
            "equation": t.data.equation,
            "edition": t.edition,
            "depth_cm": t.data.depth_cm,
            "transition_years": d,
            "transition": "exact for the adoption curve, both scenarios' changes along it, each hectare's "
            "change capped at D years after its adoption (EX-ACT v9.4 workbook's variant; see "
            "pipeline.assess.balance)",
            "sign": "balance = with-project - without-project emissions; negative = removal (EX-ACT's sign)",
            "co2_per_c": "44/12",
        },
        "project": {
            "name": p.name,
            "area_ha": total_area,
            "years": years,
            "implementation_years": p.implementation_years,
            "capitalisation_years": p.capitalisation_years,
            "adoption": p.adoption if p.implementation_years > 0 else "immediate",
            "realised_share_at_end": realised_end,
        },
        "soc_ref_t_c_ha": mean("soc_ref_t_c_ha"),
        "soc_baseline_t_c_ha": mean("soc_baseline_t_c_ha"),
        "soc_without_project_t_c_ha": mean("soc_without_project_t_c_ha"),
        "soc_project_t_c_ha": mean("soc_project_t_c_ha"),
        "delta_soc_t_c_ha_yr": mean("delta_soc_t_c_ha_yr"),
        "soc_without_project_end_t_c_ha": float(without_sum[-1] / total_area),
        "soc_with_project_end_t_c_ha": float(with_sum[-1] / total_area),
        "emissions_without_project_t_co2e": float(sum(x["emissions_without_project_t_co2e"] for x in acts)),
        "emissions_with_project_t_co2e": float(sum(x["emissions_with_project_t_co2e"] for x in acts)),
        "balance_t_c": bal_c_total,
        "balance_t_co2e": bal_co2,
        "balance_t_co2e_per_ha": bal_co2 / total_area,
        "balance_t_co2e_per_yr": bal_co2 / years,
        "balance_t_co2e_per_ha_yr": bal_co2 / total_area / years,
        "factors": factors_out,
        "activities": acts,
        "series": series,
        "uncertainty": _uncertainty(p, looked, realised_end, bal_co2),
        "verdict": verdict(
            soc0,
            float(with_sum[-1] / total_area),
            float(without_sum[-1] / total_area),
            years,
            acts,
            soil_health(site.clay_pct, site.soc_clay_ratio, soc0, float(with_sum[-1] / total_area))
            if site is not None
            else None,
        ),
        "tier2": tier2(site, for_tier2, years, impl, how)
        if site is not None
        else {"available": False, "reason": tier2_unavailable(None)},
        "reference": _reference_text(p, site),
        "location": site.as_dict() if site else None,
        "notes": [f"disputed default used: {d}" for d in disputed] + (site.notes if site else []),
        "socio_economic": socio_economic(
            p.socio_economic.model_dump() if p.socio_economic else None, total_area, bal_co2
        ),
    }


def _uncertainty(
    p: Project, looked: list[dict[str, Any]], realised_end: float, default: float
) -> dict[str, Any]:
    n = p.monte_carlo_draws
    if n == 0:
        return {"method": "none (monte_carlo_draws = 0)", "draws": 0}
    entries = []
    for x in looked:
        entries.append((_key(x["ref"], x["zone"]), x["ref"].value, x["ref"].uncertainty_pct))
        for s in STATES:
            entries.extend((_key(f, x["zone"]), f.value, f.uncertainty_pct) for f in x["fs"][s])
    entries.sort(key=lambda e: repr(e[0]))
    samples = montecarlo.draw(entries, n, p.seed)
    total = np.zeros(n)
    for x in looked:
        ref = samples[_key(x["ref"], x["zone"])]
        stock = {}
        for s in STATES:
            prod = ref.copy()
            for f in x["fs"][s]:
                prod = prod * samples[_key(f, x["zone"])]
            stock[s] = prod
        # the whole area's W -> P change, the realised share of it by the end; B -> W cancels
        total += -x["a"].area_ha * (stock["project"] - stock["without_project"]) * realised_end
    total *= CO2_PER_C
    return {
        "method": "IPCC Approach 2: Monte Carlo over the default values' 95 % ranges (truncated normal), seeded",
        "draws": n,
        "seed": p.seed,
        "balance_t_co2e": montecarlo.interval(total),
        "default_inside": bool(np.percentile(total, 2.5) <= default <= np.percentile(total, 97.5)),
    }


def measured_reference(site: Site, default: Factor, baseline_factors: float) -> Factor:
    """SOC_REF such that the baseline state's Eq. 2.25 stock equals the measured stock."""
    if site.soc_stock_t_c_ha is None:
        raise AssessError(
            f"reference: 'measured' needs the observatory's 0-30 cm stock at lat {site.lat:g}, lon "
            f"{site.lon:g}; there is none ({'; '.join(site.notes) or 'no data'}). Use reference "
            "'ipcc_default' or a location the cube covers.",
            parameter="reference",
        )
    return Factor(
        factor="SOC_REF",
        level="measured",
        value=site.soc_stock_t_c_ha / baseline_factors,
        uncertainty_pct=default.uncertainty_pct,
        reference=(
            f"the observatory's 0-30 cm stock {site.soc_stock_t_c_ha:.2f} t C/ha at cell ({site.cell_lat:g}, "
            f"{site.cell_lon:g}), epoch {site.soc_stock_epoch}, snapshot {site.snapshot}"
            f"{' (synthetic demo data)' if site.synthetic else ''}, divided by the baseline state's "
            f"factors ({baseline_factors:.3f}); the IPCC default would be {default.value:g} t C/ha "
            f"({default.reference}); its +-{default.uncertainty_pct:g} % is kept for the interval"
        ),
    )


def _reference_text(p: Project, site: Site | None) -> str:
    if p.reference == "measured" and site is not None:
        return (
            "Tier 1 with measured reference: the baseline stock is the observatory's measured stock at "
            "the location, not the IPCC default"
        )
    return "IPCC default reference stocks (2019 Refinement Vol. 4 Ch. 2 Table 2.3)"


def assess_at(project: Project, store: str | None, snapshot: str | None = None) -> dict[str, Any]:
    """``assess``, reading the observatory's site first when the project has a location."""
    site = None
    if project.location is not None:
        if store is None:
            raise AssessError(
                "location: a project with a location needs the observatory's store; none is set. "
                "Pass --store PATH (or set SOCOBS_STORE), or give climate_zone and drop the location.",
                parameter="location",
            )
        site = site_at(store, project.location.lat, project.location.lon, snapshot)
    return assess(project, site=site)


def assess_file(path: Path, store: str | None = None) -> dict[str, Any]:
    """``assess`` of a project YAML file (the store is read when the project has a location)."""
    return assess_at(read_project(path), store)


def result_csv(result: dict[str, Any]) -> str:
    """The per-year series as CSV, one row per year, then a total row; for a soil-type range
    (soil_type unknown) the same rows for each soil class, with a leading soil_type column."""
    if "by_soil_type" in result:
        blocks = []
        for i, (soil, one) in enumerate(result["by_soil_type"].items()):
            lines = result_csv(one).splitlines()
            blocks.extend(
                (["soil_type," + lines[0]] if i == 0 else []) + [f"{soil},{line}" for line in lines[1:]]
            )
        return "\n".join(blocks) + "\n"
    buf = io.StringIO()
    cols = list(result["series"][0]) if result["series"] else []
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for row in result["series"]:
        w.writerow(row)
    total = {c: "" for c in cols}
    total["year"] = "total"
    total["balance_t_c"] = result["balance_t_c"]
    total["balance_t_co2e"] = result["balance_t_co2e"]
    total["cumulative_balance_t_co2e"] = result["balance_t_co2e"]
    w.writerow(total)
    return buf.getvalue()
