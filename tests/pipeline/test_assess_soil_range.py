"""soil_type unknown (issue #17 item 3): the answer is the range over the soil classes Table 2.3
gives for the climate zone, each class's result beside it, instead of a refusal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.assess import assess, result_csv
from pipeline.assess.location import Site

MINIMAL = {
    "area_ha": 100,
    "climate_zone": "tropical_moist",
    "years": 20,
    "monte_carlo_draws": 0,
    "baseline": {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"},
    "project": {"land_use": "cropland_annual", "management": "no_tillage", "input": "high_without_manure"},
}
# Table 2.3 (2019), tropical moist: HAC 40, LAC 38, sandy 27, volcanic 70, wetland 68 (no spodic)
TROPICAL_MOIST = {"HAC": 40.0, "LAC": 38.0, "sandy": 27.0, "volcanic": 70.0, "wetland": 68.0}


def test_unknown_soil_gives_the_range_over_the_zones_classes() -> None:
    r = assess(MINIMAL)
    rng = r["soil_type_range"]
    assert r["soil_type"] is None
    assert rng["soil_types"] == list(TROPICAL_MOIST)
    ref = rng["figures"]["soc_ref_t_c_ha"]
    assert (ref["min"], ref["min_soil_type"], ref["max"], ref["max_soil_type"]) == (
        27,
        "sandy",
        70,
        "volcanic",
    )
    # balance = -area * SOC_REF * 0.83 * (1.10 * 1.11 - 1) * 44/12 (20 years = D, immediate): the
    # largest removal (most negative) on volcanic soils, the smallest on sandy ones
    factor = 0.83 * (1.10 * 1.11 - 1) * 44 / 12
    bal = rng["figures"]["balance_t_co2e"]
    assert bal["min"] == pytest.approx(-100 * 70 * factor) and bal["min_soil_type"] == "volcanic"
    assert bal["max"] == pytest.approx(-100 * 27 * factor) and bal["max_soil_type"] == "sandy"
    # each class's own full result is there, equal to a run with that class given
    for soil, value in TROPICAL_MOIST.items():
        one = r["by_soil_type"][soil]
        assert one["soc_ref_t_c_ha"] == value
        assert one["balance_t_co2e"] == pytest.approx(
            assess({**MINIMAL, "soil_type": soil})["balance_t_co2e"]
        )
        assert rng["verdict_levels"][soil] == one["verdict"]["level"]
    assert "Table 2.3" in rng["note"] and "Give soil_type" in rng["note"]


def test_a_zone_with_fewer_classes_ranges_over_those_only() -> None:
    # polar zones: Table 2.3 gives HAC (59) and sandy (27) only; grassland is defined there
    r = assess(
        {
            **MINIMAL,
            "climate_zone": "polar_moist",
            "baseline": {"land_use": "grassland", "management": "severely_degraded"},
            "project": {"land_use": "grassland", "management": "nominally_managed"},
        }
    )
    assert r["soil_type_range"]["soil_types"] == ["HAC", "sandy"]
    assert r["soil_type_range"]["figures"]["soc_project_t_c_ha"]["max"] == 59


def test_a_given_soil_on_one_activity_is_kept() -> None:
    r = assess(
        {
            "climate_zone": "tropical_moist",
            "years": 20,
            "monte_carlo_draws": 0,
            "activities": [
                {
                    "name": "known",
                    "soil_type": "LAC",
                    "area_ha": 10,
                    "baseline": MINIMAL["baseline"],
                    "project": MINIMAL["project"],
                },
                {
                    "name": "unknown",
                    "area_ha": 10,
                    "baseline": MINIMAL["baseline"],
                    "project": MINIMAL["project"],
                },
            ],
        }
    )
    for soil, one in r["by_soil_type"].items():
        assert one["activities"][0]["soil_type"] == "LAC"
        assert one["activities"][1]["soil_type"] == soil


def test_csv_and_cli_of_a_range(tmp_path: Path) -> None:
    text = result_csv(assess(MINIMAL))
    lines = text.splitlines()
    assert lines[0].startswith("soil_type,year,")
    assert len(lines) == 1 + len(TROPICAL_MOIST) * 21  # 20 years + a total row per class
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(MINIMAL))
    out = tmp_path / "r.json"
    run = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "assess", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "sandy" in run.stdout and "volcanic" in run.stdout
    assert json.loads(out.read_text())["soil_type_range"]["soil_types"] == list(TROPICAL_MOIST)


def _site(clay: float | None) -> Site:
    return Site(
        lat=1.0,
        lon=1.0,
        cell_lat=1.0,
        cell_lon=1.0,
        snapshot="test",
        synthetic=True,
        climate_zone="tropical_moist",
        mat_c=25.0,
        map_mm=1500.0,
        pet_mm=1400.0,
        clay_pct=clay,
        soc_stock_t_c_ha=None,
        soc_stock_epoch=None,
        soc_clay_ratio=None,
    )


@pytest.mark.parametrize(("clay", "sandy_kept"), [(7.9, True), (8.0, False), (35.0, False), (None, True)])
def test_the_locations_clay_rules_out_sandy(clay: float | None, sandy_kept: bool) -> None:
    # IPCC's sandy soils: > 70 % sand and < 8 % clay; the cube has clay but no sand
    p = {k: v for k, v in MINIMAL.items() if k != "climate_zone"}
    r = assess({**p, "location": {"lat": 1.0, "lon": 1.0}}, site=_site(clay))
    soils = r["soil_type_range"]["soil_types"]
    assert ("sandy" in soils) is sandy_kept
    assert set(soils) | {"sandy"} == set(TROPICAL_MOIST)
    assert ("rules out the sandy class" in r["soil_type_range"]["note"]) is not sandy_kept
