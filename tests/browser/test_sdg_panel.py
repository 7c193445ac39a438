"""The region page's "SDG 15.3.1" panel (#20) shows what GET /v1/regions/{id}/sdg15_3_1 answers:
the degraded share, the land area, and the share of every class for the indicator and its three
sub-indicators, for the default (last reporting) period and, once picked, the baseline. The API
runs as a real process on a six-year demo store (``tests/support/sdg_store.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Api, goto, open_page, wait_ready
from tests.support.sdg_store import shared_sdg_indicators

pytestmark = pytest.mark.integration
CLASSES = ("degraded", "stable", "improved", "no_data")


@pytest.fixture(scope="module")
def sdg_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = shared_sdg_indicators(tmp_path_factory)  # read only: the API only reads it
    api = Api(built.store, built.registry, tmp_path_factory.mktemp("sdg_api_log") / "api.log")
    yield api
    api.stop()


def _check_panel(pg: Any, body: dict[str, Any]) -> None:
    assert pg.get_attribute("#sdg-panel", "data-period") == body["period"]
    shown = float(pg.get_attribute('[data-figure="sdg_degraded"]', "data-value"))
    assert shown == pytest.approx(body["degraded_share"], rel=1e-12)
    land = float(pg.get_attribute('[data-figure="sdg_land"]', "data-value"))
    assert land == pytest.approx(body["land_area_km2"], rel=1e-12)
    rows = {
        "result": body["result"],
        **{k: v["classes"] for k, v in body["sub_indicators"].items()},
    }
    for layer, classes in rows.items():
        for c in CLASSES:
            cell = f'[data-sdg-layer="{layer}"] td[data-class="{c}"]'
            value = pg.get_attribute(cell, "data-value")
            assert float(value) == pytest.approx(classes[c]["share"], rel=1e-12), (layer, c)
            area = pg.get_attribute(cell, "data-area")
            assert float(area) == pytest.approx(classes[c]["area_km2"], rel=1e-12), (layer, c)
    # the text says the share too (as a percentage with three significant digits)
    text = pg.inner_text('[data-figure="sdg_degraded"] .figure')
    assert text.endswith("%") and text != "no data"


def test_region_panel_shows_the_apis_figures(browser: Any, sdg_api: Api, tmp_path: Path) -> None:
    context, pg, watch = open_page(browser, sdg_api)
    try:
        body = sdg_api.json("/v1/regions/africa/sdg15_3_1")
        assert body["kind"] == "reporting" and body["degraded_share"] > 0
        goto(pg, sdg_api, "region/africa")
        _check_panel(pg, body)
        pg.locator("#sdg-panel").screenshot(path=str(tmp_path / "sdg-panel.png"))
        baseline = body["baseline"]
        pg.select_option("#sdg-period", baseline)
        pg.wait_for_function(f"() => location.hash.includes('sdg={baseline}')")
        wait_ready(pg)
        pg.wait_for_selector(f'#sdg-panel[data-period="{baseline}"]')
        _check_panel(pg, sdg_api.json("/v1/regions/africa/sdg15_3_1", period=baseline))
        watch.check()
    finally:
        context.close()
