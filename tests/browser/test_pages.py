"""Every page of the dashboard, and /docs and /redoc, load in chromium from the API alone: no
console error, no failed request, no request to another host; each is screenshotted (the
test artifacts) and scanned by axe-core with no serious or critical violation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import AXE, Api, goto

pytestmark = pytest.mark.integration

PAGES = [
    ("overview", "overview"),
    ("map", "map"),
    ("map-regions", "map?show=country&ind=soc_change_rate_permille"),
    ("region-global", "region/global"),
    ("region-country", "region/FRA"),
    ("rankings", "rankings?ind=soc_change_rate_permille&level=country"),
    ("assess", "assess"),
    ("compare", "compare?ids=FRA,KEN"),
    ("rankings-fr", "rankings?lang=fr"),
    ("kpis", "kpis"),
    ("exante", "exante?run=1"),
    ("exante-fr", "exante?run=1&lang=fr&lat=0.5&lon=36.5&ref=measured&zone="),
]


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_every_page_loads_clean_and_accessible(
    page: tuple[Any, Any], dashboard_api: Api, artifacts: Path
) -> None:
    pg, watch = page
    bad: dict[str, list[dict[str, Any]]] = {}
    for name, route in PAGES:
        t0 = time.monotonic()
        goto(pg, dashboard_api, route)
        if pg.query_selector(".map"):
            pg.wait_for_selector(".map[data-state=idle]", state="attached")
        print(f"{name}: drawn in {time.monotonic() - t0:.2f} s")
        pg.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
        assert pg.query_selector(".error") is None, pg.inner_text(".error")
        if name.endswith("-fr"):  # the strings of the URL's language
            assert pg.get_attribute("html", "lang") == "fr"
            assert pg.inner_text("h1").startswith(("Classements", "Évaluation ex-ante"))
        if found := axe_violations(pg):
            bad[name] = found
    watch.check()
    assert bad == {}
    assert len(list(artifacts.glob("*.png"))) >= len(PAGES)


def test_swagger_ui_loads_offline(page: tuple[Any, Any], dashboard_api: Api, artifacts: Path) -> None:
    pg, watch = page
    pg.goto(f"{dashboard_api.base}/docs")
    pg.wait_for_selector(".swagger-ui .info .title")
    assert "soc-observatory API" in pg.inner_text(".swagger-ui .info .title")
    paths = pg.locator(".opblock-summary-path").all_inner_texts()  # the operations, from /openapi.json
    assert "/v1/regions/{region_id}/summary" in [p.replace("\u200b", "") for p in paths]
    pg.screenshot(path=str(artifacts / "docs.png"))
    watch.check()


def test_redoc_loads_offline(page: tuple[Any, Any], dashboard_api: Api, artifacts: Path) -> None:
    pg, watch = page
    pg.goto(f"{dashboard_api.base}/redoc")
    pg.wait_for_selector("h1")
    pg.screenshot(path=str(artifacts / "redoc.png"))
    assert "soc-observatory API" in pg.inner_text("h1")
    watch.check()
