"""The practice catalogue (``catalogs/practices.yaml``) and each practice's Tier 1 dSOC in a stratum.

For a practice given as a change of state (``from`` -> ``to``) in a stratum (climate zone, soil
class): dSOC = SOC_REF * (F_to - F_from) / D per year for D = 20 years (Eq. 2.25), in t C/ha/yr
and t CO2e/ha/yr (x 44/12, positive = the soil gains carbon here, per hectare), with the 95 %
range of a seeded Monte Carlo over the defaults' ranges. A practice outside the stratum's land
use, or whose states the tables do not define there, says why instead of a number; a practice
that Eq. 2.25 does not cover says which method it needs.

At a place (a cell, or a region's area-weighted mean) the observatory's measured 0-30 cm stock
scales each change (``local``: Tier 1 with measured reference). Without a soil class the answer is
given once per plausible class (``soil_classes``), as the ex-ante assessment does.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.assess import montecarlo
from pipeline.assess.location import Site
from pipeline.assess.project import State
from pipeline.assess.tables import (
    LAND_USES,
    AssessError,
    Tables,
    load_tables,
    soil_classes,
    unknown,
)
from pipeline.errors import PipelineError
from pipeline.paths import catalogs_dir

CO2_PER_C = 44.0 / 12.0
DRAWS = 2000
SEED = 4


class Practice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    definition: str
    land_use: str
    from_: State | None = Field(default=None, alias="from")
    to: State | None = None
    method: str | None = None
    wocat: str | None = None


class Catalogue(BaseModel):
    practices: list[Practice] = Field(min_length=1)


@functools.cache
def load_practices(path: Path | None = None) -> list[Practice]:
    p = path or catalogs_dir() / "practices.yaml"
    try:
        cat = Catalogue.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise PipelineError(
            f"the practice catalogue {p} could not be read: {str(exc)[:300]}. Expected the file "
            "shipped in catalogs/; reinstall the package or fix the file."
        ) from None
    for pr in cat.practices:
        if (pr.from_ is None) != (pr.to is None) or (pr.from_ is None and not pr.method):
            raise PipelineError(f"the practice catalogue {p}: practice {pr.id} needs from+to or a method.")
    return cat.practices


def _stock_draws(
    t: Tables, state: State, zone: str, soil: str, where: str
) -> tuple[float, list[tuple[Any, float, float, str | None]]]:
    fs = [t.soc_ref(zone, soil), *t.state_factors(state.model_dump(), zone, where)]
    value = float(np.prod([f.value for f in fs]))
    return value, [((f.factor, f.level, f.reference), f.value, f.uncertainty_pct, f.disputed) for f in fs]


def practice_values(
    climate_zone: str, soil_type: str, land_use: str | None = None, tables: Tables | None = None
) -> dict[str, Any]:
    """Every practice of the catalogue with its Tier 1 dSOC for the stratum (a deep copy of a
    cached answer: 12 zones x 6 soils x 7 land-use filters at most, each deterministic)."""
    if tables is None:
        return copy.deepcopy(_cached(climate_zone, soil_type, land_use))
    return _values(climate_zone, soil_type, land_use, tables)


@functools.lru_cache(maxsize=1024)
def _cached(climate_zone: str, soil_type: str, land_use: str | None) -> dict[str, Any]:
    return _values(climate_zone, soil_type, land_use, load_tables())


def _values(climate_zone: str, soil_type: str, land_use: str | None, t: Tables) -> dict[str, Any]:
    ref = t.soc_ref(climate_zone, soil_type)  # refuses unknown zones, soils, organic soils
    if land_use is not None and land_use not in LAND_USES:
        raise unknown("land_use", land_use, LAND_USES)
    out = []
    for pr in load_practices():
        if land_use is not None and pr.land_use != land_use:
            continue
        row: dict[str, Any] = {
            "id": pr.id,
            "name": pr.name,
            "definition": pr.definition,
            "land_use": pr.land_use,
            "wocat": pr.wocat,
            "from": pr.from_.model_dump(exclude_none=True) if pr.from_ else None,
            "to": pr.to.model_dump(exclude_none=True) if pr.to else None,
        }
        if pr.from_ is None or pr.to is None:
            out.append({**row, "tier1": None, "method": pr.method})
            continue
        try:
            s0, e0 = _stock_draws(t, pr.from_, climate_zone, soil_type, "from")
            s1, e1 = _stock_draws(t, pr.to, climate_zone, soil_type, "to")
        except AssessError as exc:
            out.append({**row, "tier1": None, "method": f"not defined in this stratum: {exc}"})
            continue
        entries = sorted(((k, v, u) for k, v, u, _ in e0 + e1), key=lambda e: repr(e[0]))
        draws = montecarlo.draw(entries, DRAWS, SEED)
        disputed = sorted({f"{k[0]} {k[1]}: {note}" for k, _, _, note in e0 + e1 if note})

        def stock(es: list[tuple[Any, float, float, str | None]], d: dict[Any, Any] = draws) -> Any:
            prod = np.ones(DRAWS)
            for key, _, _, _ in es:
                prod = prod * d[key]
            return prod

        dsoc = (s1 - s0) / t.D
        mc = (stock(e1) - stock(e0)) / t.D
        lo, hi = (float(v) for v in np.percentile(mc, [2.5, 97.5]))
        tier1 = {
            "soc_from_t_c_ha": s0,
            "soc_to_t_c_ha": s1,
            "delta_soc_t_c_ha_yr": dsoc,
            "delta_soc_t_c_ha_yr_range": [lo, hi],
            "delta_t_co2e_ha_yr": dsoc * CO2_PER_C,
            "delta_t_co2e_ha_yr_range": [lo * CO2_PER_C, hi * CO2_PER_C],
            "years": t.D,
            "disputed_defaults": disputed,
        }
        out.append({**row, "tier1": tier1, "method": "IPCC 2019 Tier 1, Eq. 2.25 (default factors)"})
    return {
        "stratum": {"climate_zone": climate_zone, "soil_type": soil_type, "land_use": land_use},
        "soc_ref_t_c_ha": ref.value,
        "soc_ref_reference": ref.reference,
        "sign": "delta > 0: the soil gains carbon (a removal; EX-ACT would print it negative)",
        "uncertainty": f"95 % range of {DRAWS} seeded Monte Carlo draws over the defaults' ranges",
        "practices": out,
    }


def _add_local(out: dict[str, Any], measured: float | None, source: str) -> None:
    """Each practice's change scaled to a measured 0-30 cm stock (``local``; None without one)."""
    for row in out["practices"]:
        t1 = row["tier1"]
        if t1 is None or measured is None or not t1["soc_from_t_c_ha"] > 0:
            row["local"] = None
            continue
        k = measured / t1["soc_from_t_c_ha"]
        d = t1["delta_soc_t_c_ha_yr"] * k
        lo, hi = (v * k for v in t1["delta_soc_t_c_ha_yr_range"])
        row["local"] = {
            "soc_from_t_c_ha": measured,
            "soc_to_t_c_ha": t1["soc_to_t_c_ha"] * k,
            "delta_soc_t_c_ha_yr": d,
            "delta_soc_t_c_ha_yr_range": [lo, hi],
            "delta_t_co2e_ha_yr": d * CO2_PER_C,
            "delta_t_co2e_ha_yr_range": [lo * CO2_PER_C, hi * CO2_PER_C],
            "note": f"from {source}",
        }


def practice_answer(
    climate_zone: str,
    soil_type: str | None,
    land_use: str | None = None,
    *,
    measured: float | None = None,
    source: str | None = None,
    clay_pct: float | None = None,
) -> dict[str, Any]:
    """The practices' Tier 1 values in the stratum; with a ``source`` (a measured stock's origin)
    each practice's ``local`` change scaled to ``measured`` (None where unmeasured). Without
    ``soil_type``: the answer once per plausible soil class (``soil_classes``) in
    ``by_soil_type``, and each practice's range over them in ``soil_type_range``."""
    if soil_type is not None:
        out = practice_values(climate_zone, soil_type, land_use)
        if source is not None:
            _add_local(out, measured, source)
        return out
    soils, texture = soil_classes(climate_zone, clay_pct)
    by = {s: practice_answer(climate_zone, s, land_use, measured=measured, source=source) for s in soils}
    figures: dict[str, Any] = {}
    for i, row in enumerate(by[soils[0]]["practices"]):
        fig: dict[str, Any] = {}
        for part in ("tier1", "local"):
            vals = {s: by[s]["practices"][i].get(part) for s in soils}
            got = {s: v["delta_soc_t_c_ha_yr"] for s, v in vals.items() if v is not None}
            if got:
                lo, hi = min(got, key=got.__getitem__), max(got, key=got.__getitem__)
                fig[part] = {"min": got[lo], "max": got[hi], "min_soil_type": lo, "max_soil_type": hi}
            else:
                fig[part] = None
        figures[row["id"]] = fig
    local = (
        " With a measured stock the local change hardly depends on the class (the measured stock "
        "replaces SOC_REF x F_from; only the Monte Carlo range keeps SOC_REF's uncertainty)."
        if source is not None
        else ""
    )
    first = by[soils[0]]
    return {
        "stratum": {"climate_zone": climate_zone, "soil_type": None, "land_use": land_use},
        "soil_type": None,
        "soil_type_range": {
            "note": "soil_type was not given and the observatory cannot tell it: the practices were "
            f"computed once for each mineral soil class Table 2.3 (2019) gives in {climate_zone} "
            f"({', '.join(soils)}); figures gives each practice's delta_soc_t_c_ha_yr range over "
            "those classes. Give soil_type for one answer." + texture + local,
            "soil_types": soils,
            "figures": figures,
        },
        "by_soil_type": by,
        "sign": first["sign"],
        "uncertainty": first["uncertainty"],
    }


def practices_at(site: Site, soil_type: str | None, land_use: str | None = None) -> dict[str, Any]:
    """The stratum's values for the climate zone the observatory finds at ``site``, and, where it
    measured a 0-30 cm stock there, each practice's change scaled to that local stock (the
    practice's "from" state is taken to hold the measured stock; Eq. 2.25's factor ratio is kept,
    so the change and its range scale by measured / Tier 1 "from" stock). Without ``soil_type``:
    per plausible soil class (the cell's clay can rule out sandy)."""
    if site.climate_zone is None:
        raise AssessError(
            f"lat/lon: the observatory could not tell the climate zone at ({site.lat:g}, {site.lon:g}) "
            f"({'; '.join(site.notes)}); give climate_zone instead.",
            parameter="climate_zone",
        )
    source = (
        f"the observatory's measured stock (epoch {site.soc_stock_epoch}, snapshot "
        f"{site.snapshot}{', synthetic demo data' if site.synthetic else ''})"
    )
    out = practice_answer(
        site.climate_zone,
        soil_type,
        land_use,
        measured=site.soc_stock_t_c_ha,
        source=source,
        clay_pct=site.clay_pct,
    )
    out["location"] = site.as_dict()
    return out
