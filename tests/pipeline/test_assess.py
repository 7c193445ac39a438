"""IPCC 2019 Tier 1 ex-ante assessment (pipeline.assess, `socobs assess`), issue 17.

Expected numbers are worked by hand in each test from Eq. 2.25 (2019 Refinement Vol. 4 Ch. 2:
SOC = SOC_REF * F_LU * F_MG * F_I, linear change over D = 20 years) and the published table
values, written out as literals with their table and row - never computed by the code under test.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline import cli
from pipeline.assess import AssessError, assess, load_tables, result_csv
from pipeline.assess.practices import load_practices, practice_values
from pipeline.paths import catalogs_dir

C2CO2 = 44 / 12
D = 20

# ---- Published defaults, 2019 Refinement Vol. 4 (value, ± % of the 95 % interval) ----
# Ch. 2 Table 2.3 (updated), SOC_REF t C/ha 0-30 cm, every cell the table fills.
TABLE_2_3 = {
    ("boreal_moist", "HAC"): (63, 18),
    ("boreal_moist", "sandy"): (10, 90),
    ("boreal_moist", "spodic"): (117, 90),
    ("boreal_moist", "volcanic"): (20, 90),
    ("boreal_moist", "wetland"): (116, 65),
    ("cool_temperate_dry", "HAC"): (43, 8),
    ("cool_temperate_dry", "LAC"): (33, 90),
    ("cool_temperate_dry", "sandy"): (13, 33),
    ("cool_temperate_dry", "volcanic"): (20, 90),
    ("cool_temperate_dry", "wetland"): (87, 90),
    ("cool_temperate_moist", "HAC"): (81, 5),
    ("cool_temperate_moist", "LAC"): (76, 51),
    ("cool_temperate_moist", "sandy"): (51, 13),
    ("cool_temperate_moist", "spodic"): (128, 14),
    ("cool_temperate_moist", "volcanic"): (136, 14),
    ("cool_temperate_moist", "wetland"): (128, 13),
    ("warm_temperate_dry", "HAC"): (24, 5),
    ("warm_temperate_dry", "LAC"): (19, 16),
    ("warm_temperate_dry", "sandy"): (10, 5),
    ("warm_temperate_dry", "volcanic"): (84, 65),
    ("warm_temperate_dry", "wetland"): (74, 17),
    ("warm_temperate_moist", "HAC"): (64, 5),
    ("warm_temperate_moist", "LAC"): (55, 8),
    ("warm_temperate_moist", "sandy"): (36, 23),
    ("warm_temperate_moist", "spodic"): (143, 30),
    ("warm_temperate_moist", "volcanic"): (138, 12),
    ("warm_temperate_moist", "wetland"): (135, 28),
    ("tropical_dry", "HAC"): (21, 5),
    ("tropical_dry", "LAC"): (19, 10),
    ("tropical_dry", "sandy"): (9, 9),
    ("tropical_dry", "volcanic"): (50, 90),
    ("tropical_dry", "wetland"): (22, 17),
    ("tropical_moist", "HAC"): (40, 7),
    ("tropical_moist", "LAC"): (38, 5),
    ("tropical_moist", "sandy"): (27, 12),
    ("tropical_moist", "volcanic"): (70, 90),
    ("tropical_moist", "wetland"): (68, 17),
    ("tropical_wet", "HAC"): (60, 8),
    ("tropical_wet", "LAC"): (52, 6),
    ("tropical_wet", "sandy"): (46, 20),
    ("tropical_wet", "volcanic"): (77, 27),
    ("tropical_wet", "wetland"): (49, 19),
    ("tropical_montane", "HAC"): (51, 10),
    ("tropical_montane", "LAC"): (44, 11),
    ("tropical_montane", "sandy"): (52, 34),
    ("tropical_montane", "volcanic"): (96, 31),
    ("tropical_montane", "wetland"): (82, 50),
    ("polar_moist", "HAC"): (59, 41),
    ("polar_moist", "sandy"): (27, 67),
}
# Table 2.3 prints one boreal row and one polar row: both moisture regimes take it.
TABLE_2_3.update({("boreal_dry", s): v for (z, s), v in list(TABLE_2_3.items()) if z == "boreal_moist"})
TABLE_2_3.update({("polar_dry", s): v for (z, s), v in list(TABLE_2_3.items()) if z == "polar_moist"})
# Ch. 5 Table 5.5 (updated) rows, per climate zone: (kind, land use, level, zone) -> (value, ±%).
TABLE_5_5 = {
    ("F_LU", "cropland_annual", "cropland_annual", "tropical_moist"): (0.83, 11),  # long-term cultivated
    ("F_LU", "cropland_annual", "cropland_annual", "tropical_dry"): (0.92, 13),
    ("F_LU", "cropland_annual", "cropland_annual", "tropical_montane"): (0.86, 50),
    ("F_LU", "cropland_annual", "cropland_annual", "warm_temperate_moist"): (0.69, 16),
    ("F_LU", "cropland_annual", "cropland_annual", "warm_temperate_dry"): (0.76, 12),
    ("F_LU", "cropland_annual", "cropland_annual", "cool_temperate_moist"): (0.70, 12),
    ("F_LU", "cropland_annual", "cropland_annual", "cool_temperate_dry"): (0.77, 14),
    ("F_LU", "cropland_paddy_rice", "cropland_paddy_rice", "tropical_wet"): (1.35, 4),  # paddy rice
    ("F_LU", "cropland_perennial", "cropland_perennial", "cool_temperate_moist"): (0.72, 22),  # perennial
    # perennial/tree crop, tropical: 1.01 (EX-ACT's 2019 table; hestia-earth-models prints 1.10)
    ("F_LU", "cropland_perennial", "cropland_perennial", "tropical_moist"): (1.01, 25),
    ("F_LU", "cropland_set_aside", "cropland_set_aside", "warm_temperate_dry"): (0.93, 11),  # set aside
    ("F_LU", "cropland_set_aside", "cropland_set_aside", "tropical_moist"): (0.82, 17),
    ("F_MG", "cropland_annual", "full_tillage", "tropical_moist"): (1.0, 0),  # tillage: full
    ("F_MG", "cropland_annual", "reduced_tillage", "warm_temperate_moist"): (1.05, 4),  # tillage: reduced
    ("F_MG", "cropland_annual", "reduced_tillage", "tropical_dry"): (0.99, 7),
    ("F_MG", "cropland_annual", "no_tillage", "tropical_moist"): (1.10, 5),  # tillage: no-till
    ("F_MG", "cropland_annual", "no_tillage", "cool_temperate_dry"): (1.03, 4),
    ("F_MG", "cropland_annual", "no_tillage", "tropical_wet"): (1.10, 5),
    ("F_I", "cropland_annual", "low", "tropical_wet"): (0.92, 14),  # input: low
    ("F_I", "cropland_annual", "medium", "tropical_moist"): (1.0, 0),  # input: medium
    ("F_I", "cropland_annual", "high_without_manure", "tropical_moist"): (1.11, 10),
    ("F_I", "cropland_annual", "high_with_manure", "warm_temperate_moist"): (1.44, 13),
    ("F_I", "cropland_annual", "high_with_manure", "warm_temperate_dry"): (1.37, 12),
}
# Ch. 6 Table 6.2 (updated), grassland ("all" climates unless a zone is named).
TABLE_6_2 = {
    ("F_LU", "grassland", "grassland", "cool_temperate_moist"): (1.0, 0),
    ("F_MG", "grassland", "nominally_managed", "tropical_dry"): (1.0, 0),
    ("F_MG", "grassland", "high_intensity_grazing", "tropical_dry"): (
        0.90,
        8,
    ),  # 2006: moderately degraded 0.95
    ("F_MG", "grassland", "severely_degraded", "cool_temperate_moist"): (0.70, 40),
    ("F_MG", "grassland", "improved", "cool_temperate_moist"): (1.14, 11),  # temperate/boreal
    ("F_MG", "grassland", "improved", "tropical_moist"): (1.17, 9),  # tropical
    ("F_MG", "grassland", "improved", "tropical_montane"): (1.16, 40),
    ("F_I", "grassland", "medium", "tropical_moist"): (1.0, 0),
    ("F_I", "grassland", "high", "cool_temperate_moist"): (1.11, 7),
}

MINIMAL = {
    "area_ha": 100,
    "climate_zone": "tropical_moist",
    "soil_type": "HAC",
    "years": 20,
    "baseline": {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"},
    "project": {"land_use": "cropland_annual", "management": "no_tillage", "input": "high_without_manure"},
}


@pytest.mark.parametrize(("cell", "published"), sorted(TABLE_2_3.items()))
def test_soc_ref_is_table_2_3(cell: tuple[str, str], published: tuple[float, float]) -> None:
    f = load_tables().soc_ref(*cell)
    assert (f.value, f.uncertainty_pct) == published
    assert "Table 2.3" in f.reference and cell[0] in f.reference


def test_soc_ref_cells_the_table_leaves_empty_are_refused() -> None:
    t = load_tables()
    filled = sum(len(row) for row in t.data.soc_ref.values.values())
    assert filled == len(TABLE_2_3) == 56
    for zone, soil in [("tropical_moist", "spodic"), ("boreal_dry", "LAC"), ("polar_moist", "wetland")]:
        with pytest.raises(AssessError, match="no reference stock") as e:
            t.soc_ref(zone, soil)
        assert e.value.parameter == "soil_type"


@pytest.mark.parametrize(("key", "published"), sorted({**TABLE_5_5, **TABLE_6_2}.items()))
def test_factors_are_tables_5_5_and_6_2(
    key: tuple[str, str, str, str], published: tuple[float, float]
) -> None:
    kind, lu, level, zone = key
    f = load_tables().factor(kind, lu, level, zone, "x")
    assert (f.value, f.uncertainty_pct) == published
    assert ("Table 5.5" if lu.startswith("cropland") else "Table 6.2") in f.reference


def test_minimal_request_cropland_no_till_high_input_immediate() -> None:
    r = assess(MINIMAL)
    # Table 2.3 tropical moist HAC 40; Table 5.5 tropical moist: F_LU 0.83, full 1.0, no-till
    # 1.10, medium 1.0, high without manure 1.11.
    b = 40 * 0.83 * 1.0 * 1.0  # 33.2
    p = 40 * 0.83 * 1.10 * 1.11  # 40.5372
    assert r["soc_ref_t_c_ha"] == 40
    assert r["soc_baseline_t_c_ha"] == pytest.approx(33.2)
    assert r["soc_project_t_c_ha"] == pytest.approx(40.5372)
    assert r["delta_soc_t_c_ha_yr"] == pytest.approx((p - b) / 20) == pytest.approx(0.36686)
    assert r["balance_t_c"] == pytest.approx(-100 * 7.3372)
    assert r["balance_t_co2e"] == pytest.approx(-733.72 * 44 / 12) == pytest.approx(-2690.306667)
    assert len(r["series"]) == 20
    assert r["series"][0]["balance_t_co2e"] == pytest.approx(-100 * 0.36686 * 44 / 12)
    assert r["series"][-1]["soc_with_project_t_c_ha"] == pytest.approx(40.5372)
    assert r["series"][-1]["cumulative_balance_t_co2e"] == pytest.approx(r["balance_t_co2e"])
    levels = {(f["state"], f["factor"]): f["value"] for f in r["factors"]}
    assert levels[("project", "F_MG")] == 1.10 and levels[("project", "F_I")] == 1.11
    assert all("Table" in f["reference"] for f in r["factors"])
    # verdict: (40.5372 - 33.2) / (20 * 33.2) = 11.05 per mille per year >= 4
    assert r["verdict"]["relative_rate_per_mille_yr"] == pytest.approx(7.3372 / (20 * 33.2) * 1000)
    assert r["verdict"]["level"] == "in_line" and r["verdict"]["in_line"]


def test_cropland_linear_implementation_when_period_lies_between_20_and_i_plus_20() -> None:
    # warm temperate moist HAC (Table 2.3: 64), full/medium -> reduced/high with manure
    # (Table 5.5: F_LU 0.69, reduced 1.05, high with manure 1.44), 250 ha, 5 years of linear
    # adoption F(t) = t/5, period 22 years. Area in transition at t: F(t) - F(t - 20). Its
    # integral G(t) = t^2/10 for t <= 5, 2.5 + (t - 5) after. Realised share at 22:
    # (G(22) - G(2)) / 20 = (19.5 - 0.4) / 20 = 0.955 (the last hectares have 17 of their 20 years).
    b = 64 * 0.69
    p = 64 * 0.69 * 1.05 * 1.44
    project = {
        "area_ha": 250,
        "climate_zone": "warm_temperate_moist",
        "soil_type": "HAC",
        "years": 22,
        "implementation_years": 5,
        "baseline": {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"},
        "project": {
            "land_use": "cropland_annual",
            "management": "reduced_tillage",
            "input": "high_with_manure",
        },
    }
    r = assess(project)
    assert r["balance_t_c"] == pytest.approx(-250 * (p - b) * 0.955) == pytest.approx(-5398.1184)
    step = 250 * (p - b) / 20
    # year k: G(k) - G(k-1) - (G(k-20) - G(k-21)); year 1: 0.1; year 5: 2.5 - 1.6 = 0.9; year 6: 1;
    # year 21: 1 - 0.1 = 0.9; year 22: 1 - (0.4 - 0.1) = 0.7
    for year, share in [(1, 0.1), (5, 0.9), (6, 1.0), (21, 0.9), (22, 0.7)]:
        assert r["series"][year - 1]["balance_t_c"] == pytest.approx(-step * share)
    assert [s["adopted_area_ha"] for s in r["series"][:6]] == pytest.approx([50, 100, 150, 200, 250, 250])
    assert r["project"]["capitalisation_years"] == 17
    # the same with immediate adoption: all of it by year 20, then nothing
    r = assess({**project, "adoption": "immediate"})
    assert r["balance_t_c"] == pytest.approx(-250 * (p - b))
    assert r["series"][21]["balance_t_c"] == 0


def test_grassland_restoration_immediate_short_period() -> None:
    # cool temperate moist LAC (Table 2.3: 76); severely degraded 0.70 -> improved 1.14 with
    # high input 1.11 (Table 6.2); F_LU grassland 1.0; 40 ha, 10 years: half of the 20-year change.
    b = 76 * 1.0 * 0.70
    p = 76 * 1.0 * 1.14 * 1.11
    r = assess(
        {
            "area_ha": 40,
            "climate_zone": "cool_temperate_moist",
            "soil_type": "LAC",
            "years": 10,
            "baseline": {"land_use": "grassland", "management": "severely_degraded"},
            "project": {"land_use": "grassland", "management": "improved", "input": "high"},
        }
    )
    assert r["soc_project_t_c_ha"] == pytest.approx(96.1704)
    assert r["balance_t_co2e"] == pytest.approx(-40 * (p - b) * 10 / 20 * 44 / 12)
    assert r["soc_with_project_end_t_c_ha"] == pytest.approx(b + (p - b) / 2)


def test_grassland_exponential_implementation() -> None:
    # tropical dry sandy (Table 2.3: 9); high intensity grazing 0.90 -> nominally managed 1.0
    # (Table 6.2); 4 implementation years, EX-ACT's exponential adoption
    # F(t) = (1 - e^(kt)) / (1 - e^(4k)), k = -0.519349/yr; 10 years. All adopted by t = 4 and
    # nothing has reached 20 years, so realised = G(10) / 20 with
    # G(10) = [4 - (e^(4k) - 1)/k] / (1 - e^(4k)) + 6.
    k = -0.519349
    g4 = (4 - (math.exp(4 * k) - 1) / k) / (1 - math.exp(4 * k))
    realised = (g4 + 6) / 20
    r = assess(
        {
            "area_ha": 1000,
            "climate_zone": "tropical_dry",
            "soil_type": "sandy",
            "years": 10,
            "implementation_years": 4,
            "adoption": "exponential",
            "baseline": {"land_use": "grassland", "management": "high_intensity_grazing"},
            "project": {"land_use": "grassland", "management": "nominally_managed"},
        }
    )
    assert r["balance_t_c"] == pytest.approx(-1000 * (9 - 9 * 0.9) * realised)
    # fast start: more than the linear 1/4 adopted after the first year (1 - e^k) / (1 - e^(4k))
    assert r["series"][0]["adopted_area_ha"] == pytest.approx(
        1000 * (1 - math.exp(k)) / (1 - math.exp(4 * k))
    )
    assert r["series"][0]["adopted_area_ha"] > 250


def test_without_project_differs_from_baseline() -> None:
    # tropical wet LAC (52); baseline full/medium, business as usual degrades to low input (0.92),
    # project no-till/medium (1.10); F_LU 0.83. Immediate, 20 years, 10 ha.
    b, w, p = 52 * 0.83, 52 * 0.83 * 0.92, 52 * 0.83 * 1.10
    r = assess(
        {
            "area_ha": 10,
            "climate_zone": "tropical_wet",
            "soil_type": "LAC",
            "years": 20,
            "baseline": {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"},
            "without_project": {"land_use": "cropland_annual", "management": "full_tillage", "input": "low"},
            "project": {"land_use": "cropland_annual", "management": "no_tillage", "input": "medium"},
        }
    )
    assert r["soc_without_project_end_t_c_ha"] == pytest.approx(w)
    assert r["soc_with_project_end_t_c_ha"] == pytest.approx(p)
    assert r["balance_t_c"] == pytest.approx(-10 * (p - w))
    assert r["verdict"]["relative_rate_per_mille_yr"] == pytest.approx((p - b) / (20 * b) * 1000)


def test_losing_activity_is_not_in_line() -> None:
    project = {
        **MINIMAL,
        "project": {"land_use": "cropland_annual", "management": "full_tillage", "input": "low"},
    }
    r = assess(project)
    assert r["balance_t_c"] > 0
    assert r["verdict"]["level"] == "not_in_line"
    assert any("losing SOC" in reason for reason in r["verdict"]["reasons"])


def test_monte_carlo_contains_default_and_is_reproducible() -> None:
    project = {**MINIMAL, "monte_carlo_draws": 5000, "seed": 7}
    a, b = assess(project), assess(project)
    ci = a["uncertainty"]["balance_t_co2e"]
    assert ci["p2_5"] < a["balance_t_co2e"] < ci["p97_5"]
    assert ci == b["uncertainty"]["balance_t_co2e"]
    assert assess({**project, "seed": 8})["uncertainty"]["balance_t_co2e"] != ci
    # First-order propagation by hand: balance ∝ SOC_REF * F_LU * (F_MG * F_I - 1) with
    # sigma = value * pct / 100 / 1.96: SOC_REF 40 ± 7 %, F_LU 0.83 ± 11 %, no-till 1.10 ± 5 %,
    # high input 1.11 ± 10 %. The full-tillage and medium-input factors are exact (± 0).
    sm, si = 1.10 * 0.05 / 1.96, 1.11 * 0.10 / 1.96
    var_mi = (1.11 * sm) ** 2 + (1.10 * si) ** 2
    rel = math.sqrt((0.07 / 1.96) ** 2 + (0.11 / 1.96) ** 2 + var_mi / (1.10 * 1.11 - 1) ** 2)
    width = 2 * 1.96 * rel * abs(a["balance_t_co2e"])
    assert ci["p97_5"] - ci["p2_5"] == pytest.approx(width, rel=0.1)


def test_socio_economic_is_reported_not_invented() -> None:
    r = assess(MINIMAL)
    assert r["socio_economic"]["given"] is False and "cost_per_ha" not in r["socio_economic"]
    r = assess({**MINIMAL, "socio_economic": {"cost_total": 5000, "currency": "EUR"}})
    se = r["socio_economic"]
    assert se["cost_per_ha"] == 50
    assert se["cost_per_t_co2e_removed"] == pytest.approx(5000 / 2690.306667)
    assert "labour_days_per_ha_yr" not in se


@pytest.mark.parametrize(
    ("change", "parameter", "needle"),
    [
        ({"climate_zone": "tropical"}, "climate_zone", "tropical_moist"),
        ({"soil_type": "clay"}, "soil_type", "HAC"),
        ({"soil_type": "organic"}, "soil_type", "Table 2.5"),
        ({"area_ha": 0}, "activities.0.area_ha", "greater than 0"),
        ({"area_ha": -5}, "activities.0.area_ha", "greater than 0"),
        ({"area_ha": 2e9}, "activities.0.area_ha", "1000000000"),
        ({"years": 0}, "years", "greater than or equal to 1"),
        ({"years": 101}, "years", "less than or equal to 100"),
        ({"implementation_years": 30}, None, "must not exceed years"),
        (
            {"project": {"land_use": "grassland", "management": "no_tillage"}},
            "project.management",
            "nominally_managed",
        ),
        (
            {"project": {"land_use": "cropland_annual", "management": "zero_till", "input": "medium"}},
            "project.management",
            "no_tillage",
        ),
        (
            {"project": {"land_use": "forest", "management": "full_tillage"}},
            "project.management",
            "Leave management out",
        ),
        (
            {"project": {"land_use": "grassland", "management": "nominally_managed", "input": "high"}},
            "project.input",
            "improved",
        ),
        (
            {"project": {"land_use": "cropland_annual", "management": "no_tillage"}},
            "project.input",
            "required",
        ),
        ({"project": {"land_use": "pasture"}}, "activities.0.project.land_use", "grassland"),
        ({"climate_zone": "polar_moist"}, "baseline.land_use", "no F_LU"),
        ({"unknown_key": 1}, "unknown_key", "Extra inputs"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(
    change: dict[str, object], parameter: str | None, needle: str
) -> None:
    with pytest.raises(AssessError) as e:
        assess({**MINIMAL, **change})
    assert needle in str(e.value)
    if parameter is not None:
        assert e.value.parameter == parameter


def test_disputed_defaults_are_reported_and_undecided_cells_refused() -> None:
    # Table 5.5 tropical montane: the two transcriptions disagree (EX-ACT 0.64 / 1.16 = the 2006
    # values; hestia 0.86 / 1.08); the answer uses 0.86 and 1.08 and says so.
    r = assess({**MINIMAL, "climate_zone": "tropical_montane"})
    assert r["soc_baseline_t_c_ha"] == pytest.approx(51 * 0.86)  # Table 2.3 tropical montane HAC 51
    assert r["soc_project_t_c_ha"] == pytest.approx(51 * 0.86 * 1.08 * 1.08)
    assert any("F_LU" in n and "0.64" in n for n in r["notes"])
    assert any("no_tillage" in n and "1.16" in n for n in r["notes"])
    assert assess(MINIMAL)["notes"] == []
    # perennial crops in the tropical montane zone: EX-ACT 1.00, hestia 1.10 -> refused, not guessed
    project = {**MINIMAL, "climate_zone": "tropical_montane", "project": {"land_use": "cropland_perennial"}}
    with pytest.raises(AssessError, match="no F_LU for cropland_perennial"):
        assess(project)


def test_practice_catalogue_values_for_a_stratum() -> None:
    practices = load_practices()
    assert len(practices) >= 20 and len({p.id for p in practices}) == len(practices)
    r = practice_values("tropical_moist", "HAC")
    by_id = {p["id"]: p for p in r["practices"]}
    nt = by_id["no_tillage"]["tier1"]
    # 40 * 0.83 * (1.10 - 1.0) / 20 (Table 2.3 tropical moist HAC; Table 5.5 no-till 1.10)
    assert nt["delta_soc_t_c_ha_yr"] == pytest.approx(40 * 0.83 * 0.10 / 20)
    assert nt["delta_t_co2e_ha_yr"] == pytest.approx(0.166 * 44 / 12)
    lo, hi = nt["delta_soc_t_c_ha_yr_range"]
    assert lo < 0.166 < hi
    # grassland restoration: 40 * (1.0 - 0.70) / 20 (Table 6.2 severely degraded 0.70)
    assert by_id["grassland_restoration"]["tier1"]["delta_soc_t_c_ha_yr"] == pytest.approx(0.6)
    assert by_id["biochar"]["tier1"] is None and "Appendix 4" in by_id["biochar"]["method"]
    only_grass = practice_values("tropical_moist", "HAC", "grassland")["practices"]
    assert {p["land_use"] for p in only_grass} == {"grassland"} and len(only_grass) == 4


def test_csv_has_one_row_per_year_and_a_total() -> None:
    rows = result_csv(assess({**MINIMAL, "years": 7})).strip().splitlines()
    assert rows[0].startswith("year,") and len(rows) == 1 + 7 + 1
    assert rows[-1].startswith("total,")


def test_example_project_file_is_valid_and_matches_hand_figures() -> None:
    data = yaml.safe_load((catalogs_dir() / "projects" / "example.yaml").read_text())
    r = assess(data)
    # linear adoption over 5 years, 20 years: realised (G(20) - G(0)) / 20 = (2.5 + 15) / 20 = 0.875;
    # cropland 1000 ha: 40*0.83*(1.10*1.11 - 1); grassland 500 ha: 40*(1.0 - 0.90)
    expected_c = -(1000 * 40 * 0.83 * (1.10 * 1.11 - 1) + 500 * 40 * 0.10) * 0.875
    assert r["balance_t_c"] == pytest.approx(expected_c) == pytest.approx(-8170.05)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_writes_json_and_csv_with_the_library_numbers(tmp_path: Path) -> None:
    project = tmp_path / "p.yaml"
    project.write_text(yaml.safe_dump(MINIMAL))
    res = _run(["assess", str(project), "--out", str(tmp_path / "r.json")], tmp_path)
    assert res.returncode == 0, res.stderr
    assert "-2690.3 t CO2e" in res.stdout and "in_line" in res.stdout
    out = json.loads((tmp_path / "r.json").read_text())
    assert out["balance_t_co2e"] == pytest.approx(-733.72 * 44 / 12)
    assert cli.run(["assess", str(project), "--out", str(tmp_path / "r.csv")]) == 0
    assert (tmp_path / "r.csv").read_text().count("\n") == 22


@pytest.mark.parametrize(
    ("content", "extra", "needle"),
    [
        ({**MINIMAL, "climate_zone": "mars"}, [], "tropical_moist"),
        ({**MINIMAL, "area_ha": -1}, [], "area_ha"),
        ("years: [", [], "not valid YAML"),
        ("- 1\n- 2\n", [], "mapping"),
        (MINIMAL, ["--out", "r.txt"], ".json or .csv"),
    ],
)
def test_cli_bad_input_exit_2_one_paragraph(
    tmp_path: Path, content: object, extra: list[str], needle: str
) -> None:
    project = tmp_path / "p.yaml"
    project.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    res = _run(["assess", str(project), *extra], tmp_path)
    assert res.returncode == 2
    assert needle in res.stderr and "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]  # nothing written
