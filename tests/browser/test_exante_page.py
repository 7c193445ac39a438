"""The dashboard's ex-ante form (issue #17, item 8): its vocabulary is the API's, its answer is
the API's answer to the same request, a practice from the catalogue sets the two states, and a
bad request shows the API's own explanation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import Api, goto

pytestmark = pytest.mark.integration
MINIMAL = {
    "area_ha": 100,
    "climate_zone": "tropical_moist",
    "soil_type": "HAC",
    "years": 20,
    "baseline": {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"},
    "project": {"land_use": "cropland_annual", "management": "no_tillage", "input": "high_without_manure"},
}
ROUTE = (
    "exante?zone=tropical_moist&soil=HAC&area=100&years=20"
    "&b=cropland_annual.full_tillage.medium&p=cropland_annual.no_tillage.high_without_manure&run=1"
)


def _enums(schema: Any, name: str) -> set[str]:
    """Every enum the OpenAPI document gives a property called ``name``."""
    found: set[str] = set()

    def walk(node: Any, key: str | None) -> None:
        if isinstance(node, dict):
            if key == name and "enum" in node:
                found.update(node["enum"])
            for k, v in node.items():
                walk(v, k if k not in ("anyOf", "oneOf", "allOf", "items") else key)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)

    walk(schema, None)
    return found


def test_the_forms_vocabulary_is_the_apis(page: tuple[Any, Any], dashboard_api: Api) -> None:
    pg, watch = page
    goto(pg, dashboard_api, "exante")
    ours = pg.evaluate(
        "async () => { const m = await import('/static/app/exante.js');"
        " return {climate_zone: m.ZONES, soil_type: m.SOILS, land_use: m.LAND_USES}; }"
    )
    doc = dashboard_api.json("/openapi.json")
    for name, values in ours.items():
        assert set(values) == _enums(doc, name), name
    watch.check()


def test_the_answer_shown_is_the_apis(page: tuple[Any, Any], dashboard_api: Api) -> None:
    pg, watch = page
    goto(pg, dashboard_api, ROUTE)
    api = httpx.post(f"{dashboard_api.base}/v1/assess/ex-ante", json=MINIMAL, timeout=60).json()
    for key, unit in (
        ("soc_ref_t_c_ha", "t C/ha"),
        ("soc_baseline_t_c_ha", "t C/ha"),
        ("soc_project_t_c_ha", "t C/ha"),
        ("delta_soc_t_c_ha_yr", "t C/ha/yr"),
        ("balance_t_co2e", "t CO2e"),
    ):
        text = pg.inner_text(f"#exante-result [data-figure={key}] .figure")
        number, shown_unit = text.rsplit(" ", 2)[0], text.split(" ", 1)[1]
        assert shown_unit == unit, text
        value = float(number.replace(",", ""))
        assert value == pytest.approx(api[key], rel=5e-3, abs=5e-3), (key, text, api[key])
    assert pg.get_attribute("[data-verdict]", "data-verdict") == api["verdict"]["level"]
    reasons = pg.locator("[data-verdict] li").all_inner_texts()
    assert reasons == api["verdict"]["reasons"]
    rows = pg.locator("#exante-result table tbody tr").count()
    assert rows >= len(api["factors"])
    watch.check()


def test_a_practice_sets_both_states(page: tuple[Any, Any], dashboard_api: Api) -> None:
    pg, watch = page
    goto(pg, dashboard_api, "exante?zone=warm_temperate_moist&soil=LAC")
    practices = dashboard_api.json("/v1/practices", climate_zone="warm_temperate_moist", soil_type="LAC")[
        "practices"
    ]
    grass = next(p for p in practices if p["from"]["land_use"] == "grassland" and p["to"].get("input"))
    pg.select_option("#exante-practice", grass["id"])
    for prefix, state in (("baseline", grass["from"]), ("project", grass["to"])):
        assert pg.input_value(f"#{prefix}-land-use") == state["land_use"]
        assert pg.input_value(f"#{prefix}-management") == (state.get("management") or "")
        assert pg.input_value(f"#{prefix}-input") == (state.get("input") or "")
    pg.click("form.exante button[type=submit]")
    pg.wait_for_selector("#exante-result [data-verdict]")
    assert "run=1" in pg.evaluate("location.hash") and "grassland" in pg.evaluate("location.hash")
    watch.check()


def test_a_bad_request_shows_the_apis_explanation(page: tuple[Any, Any], dashboard_api: Api) -> None:
    pg, watch = page
    goto(pg, dashboard_api, ROUTE.replace("area=100", "area=0"))
    alert = pg.inner_text("[role=alert]")
    assert "area_ha" in alert, alert
    assert [e for e in watch.errors if "422" not in e] == []
    assert watch.foreign == []
