"""The soil-health part of the "4 per 1000" verdict (issue #17 item 5): SOC/clay class before and
after, from the location's measured ratio scaled by the with-project / baseline stock ratio.

The site is a real ``Site`` (what ``site_at`` returns) with chosen values, so that each class
boundary can be put where the test wants it; the classes are Prout et al. (2021)'s thresholds
(1/13, 1/10, 1/8), written out here by hand.
"""

from __future__ import annotations

import pytest

from pipeline.assess import assess
from pipeline.assess.location import Site
from pipeline.assess.verdict import health_class, soil_health

BASE = {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"}
NO_TILL = {"land_use": "cropland_annual", "management": "no_tillage", "input": "high_without_manure"}
LOW = {"land_use": "cropland_annual", "management": "full_tillage", "input": "low"}


def _site(ratio: float | None, clay: float | None = 25.0) -> Site:
    return Site(
        lat=10.0,
        lon=10.0,
        cell_lat=10.0,
        cell_lon=10.0,
        snapshot="test",
        synthetic=True,
        climate_zone="tropical_moist",
        mat_c=25.0,
        map_mm=1500.0,
        pet_mm=1400.0,
        clay_pct=clay,
        soc_stock_t_c_ha=None,
        soc_stock_epoch=None,
        soc_clay_ratio=ratio,
    )


def _project(project: dict, **extra: object) -> dict:
    return {
        "area_ha": 10,
        "soil_type": "HAC",
        "years": 20,
        "location": {"lat": 10.0, "lon": 10.0},
        "monte_carlo_draws": 0,
        "baseline": BASE,
        "project": project,
        **extra,
    }


@pytest.mark.parametrize(
    ("ratio", "cls"),
    [
        (0.05, "degraded"),
        (1 / 13, "moderate"),
        (0.09, "moderate"),
        (0.1, "good"),
        (0.124, "good"),
        (0.125, "very good"),
    ],
)
def test_classes_are_prout_2021(ratio: float, cls: str) -> None:
    assert health_class(ratio) == cls


def test_a_gain_can_raise_the_class_and_the_verdict_says_so() -> None:
    # tropical moist: baseline 40 * 0.83 = 33.2, project 40 * 0.83 * 1.10 * 1.11 = 40.5372, all of
    # it realised after 20 years (immediate): stock ratio 40.5372 / 33.2 = 1.221; 0.095 (moderate)
    # -> 0.11599 (good)
    r = assess(_project(NO_TILL), site=_site(0.095))
    h = r["verdict"]["soil_health"]
    assert h["assessed"] is True
    assert h["stock_ratio"] == pytest.approx(1.10 * 1.11)
    assert h["soc_clay_ratio_with_project"] == pytest.approx(0.095 * 1.10 * 1.11)
    assert (h["class_baseline"], h["class_with_project"], h["lowered"]) == ("moderate", "good", False)
    assert r["verdict"]["level"] == "in_line"
    assert any("moderate" in x and "good" in x and "not lowered" in x for x in r["verdict"]["reasons"])


def test_a_loss_that_lowers_the_class_fails_the_verdict() -> None:
    # full tillage, medium -> low input (0.92): ratio 0.105 (good) -> 0.0966 (moderate)
    r = assess(_project(LOW), site=_site(0.105))
    h = r["verdict"]["soil_health"]
    assert h["soc_clay_ratio_with_project"] == pytest.approx(0.105 * 0.92)
    assert (h["class_baseline"], h["class_with_project"], h["lowered"]) == ("good", "moderate", True)
    assert r["verdict"]["level"] == "not_in_line" and not r["verdict"]["in_line"]


def test_a_class_kept_does_not_fail_and_a_partial_period_scales_by_the_realised_stock() -> None:
    # 10 years of 20: the with-project stock at the end is 33.2 + (40.5372 - 33.2) / 2
    r = assess(_project(NO_TILL, years=10), site=_site(0.13))
    h = r["verdict"]["soil_health"]
    assert h["stock_ratio"] == pytest.approx((33.2 + (40.5372 - 33.2) / 2) / 33.2)
    assert h["class_baseline"] == h["class_with_project"] == "very good"
    assert h["lowered"] is False


def test_without_clay_or_ratio_it_says_not_assessed() -> None:
    r = assess(_project(NO_TILL), site=_site(None, None))
    assert r["verdict"]["soil_health"]["assessed"] is False
    assert any("not assessed" in x for x in r["verdict"]["reasons"])
    assert soil_health(25.0, None, 30.0, 31.0)["assessed"] is False


def test_without_a_location_it_says_plainly_not_assessed() -> None:
    p = _project(NO_TILL, climate_zone="tropical_moist")
    del p["location"]
    r = assess(p)
    assert r["verdict"]["soil_health"] == {"assessed": False}
    assert any("not assessed" in x and "location" in x for x in r["verdict"]["reasons"])
