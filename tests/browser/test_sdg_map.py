"""The map page's SDG 15.3.1 layers (#20): picked in the indicator picker, they draw the API's
SDG tiles (pixels in the legend's class colours), show the classes' legend and a period picker,
keep the layer and the period in the URL (shareable; back returns to the previous indicator),
with no console error and no request to another host. The API runs as a real process on the
six-year SDG demo store (``tests/support/sdg_store.py``); a link to an SDG layer the store does
not hold opens the first indicator."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import Api, goto, open_page, wait_ready
from tests.support.sdg_store import shared_sdg_indicators

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sdg_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = shared_sdg_indicators(tmp_path_factory)  # read only: the API only reads it
    api = Api(built.store, built.registry, tmp_path_factory.mktemp("sdg_map_log") / "api.log")
    yield api
    api.stop()


def hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def class_shares(pg: Any, stops: list[dict[str, Any]]) -> dict[str, float]:
    """The share of the map canvas's pixels within 6 of each class colour of the legend."""
    png = pg.locator(".map canvas").screenshot()
    px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    uniq, counts = np.unique(px, axis=0, return_counts=True)
    out = {}
    for s in stops:
        d = np.abs(uniq.astype(float) - hex_rgb(s["color"])[None, :]).max(axis=1)
        out[s["label"]] = float(counts[d <= 6].sum() / counts.sum())
    return out


def hash_params(pg: Any) -> dict[str, str]:
    h = pg.evaluate("location.hash")
    return {k: v[0] for k, v in parse_qs(h.split("?", 1)[1] if "?" in h else "").items()}


def sdg_tiles(urls: list[str], layer: str) -> list[dict[str, list[str]]]:
    """The queries of the layer's PNG tile requests."""
    split = [urlsplit(u) for u in urls]
    return [
        parse_qs(u.query)
        for u in split
        if u.path.startswith(f"/v1/tiles/sdg/{layer}/") and u.path.endswith(".png")
    ]


def idle(pg: Any) -> None:
    wait_ready(pg)
    pg.wait_for_selector(".map[data-state=idle]", state="attached")


def test_the_sdg_layer_draws_its_classes_and_keeps_the_url(
    browser: Any, sdg_api: Api, tmp_path: Path
) -> None:
    context, pg, watch = open_page(browser, sdg_api)
    urls: list[str] = []
    pg.on("request", lambda r: urls.append(r.url))
    try:
        catalogue = sdg_api.json("/v1/indicators")["sdg15_3_1"]
        periods, baseline = catalogue["periods"], catalogue["baseline"]
        assert len(periods) >= 2 and baseline == periods[0]
        legend = sdg_api.json("/v1/tiles/sdg/sdg_15_3_1/legend")
        goto(pg, sdg_api, "map?ind=soc_stock")
        pg.wait_for_selector(".map[data-state=idle]", state="attached")
        groups = pg.locator("#map-indicator optgroup option").evaluate_all("os => os.map((o) => o.value)")
        assert groups == [m["id"] for m in catalogue["maps"]]
        assert class_shares(pg, legend["stops"])["degraded"] < 0.001  # the SOC stock map: no SDG colours

        pg.select_option("#map-indicator", "sdg_15_3_1")
        pg.wait_for_function("() => location.hash.includes('ind=sdg_15_3_1')")
        idle(pg)
        # the URL names the layer and the period shown (the last reporting period by default)
        assert hash_params(pg)["ind"] == "sdg_15_3_1" and hash_params(pg)["period"] == periods[-1]
        assert pg.input_value("#map-period") == periods[-1]
        assert pg.query_selector("#epoch") is None and pg.query_selector("#map-cmap") is None
        assert pg.query_selector("#range-min") is None
        # the legend: the API's classes with their colours
        items = pg.locator("[data-legend=sdg_15_3_1] li")
        assert items.all_inner_texts() == [s["label"] for s in legend["stops"]]
        swatches = items.locator(".swatch").evaluate_all(
            "ss => ss.map((s) => getComputedStyle(s).backgroundColor)"
        )
        want = [f"rgb({', '.join(str(int(v)) for v in hex_rgb(s['color']))})" for s in legend["stops"]]
        assert swatches == want
        # the tiles: the SDG route in that period, drawn in the classes' colours
        tiles = sdg_tiles(urls, "sdg_15_3_1")
        assert tiles and all(q["period"] == [periods[-1]] for q in tiles), tiles
        shares = class_shares(pg, legend["stops"])
        pg.screenshot(path=str(tmp_path / "sdg-map.png"))
        assert sum(shares.values()) > 0.05, shares
        assert shares["degraded"] > 0.001 and shares["improved"] + shares["stable"] > 0.001, shares

        # another period: a new history entry, its tiles
        pg.select_option("#map-period", baseline)
        pg.wait_for_function(f"() => location.hash.includes('period={baseline}')")
        idle(pg)
        assert pg.input_value("#map-period") == baseline
        assert any(q["period"] == [baseline] for q in sdg_tiles(urls, "sdg_15_3_1"))
        assert sum(class_shares(pg, legend["stops"]).values()) > 0.05

        # back: the last reporting period, then the indicator before the SDG layer
        pg.go_back()
        pg.wait_for_function(f"() => location.hash.includes('period={periods[-1]}')")
        idle(pg)
        assert pg.input_value("#map-period") == periods[-1]
        pg.go_back()
        pg.wait_for_function("() => location.hash.includes('ind=soc_stock')")
        idle(pg)
        assert pg.input_value("#map-indicator") == "soc_stock"
        assert pg.query_selector("#epoch") is not None and pg.query_selector("#map-period") is None
        assert pg.query_selector("[data-legend=soc_stock]") is not None
        watch.check()
    finally:
        context.close()


def test_a_shared_sdg_url_opens_its_layer_and_period(browser: Any, sdg_api: Api) -> None:
    context, pg, watch = open_page(browser, sdg_api)
    urls: list[str] = []
    pg.on("request", lambda r: urls.append(r.url))
    try:
        baseline = sdg_api.json("/v1/indicators")["sdg15_3_1"]["baseline"]
        tj = sdg_api.json("/v1/tiles/sdg/sdg_soc/tilejson.json", period=baseline)
        assert tj["tiles"][0].endswith(f"/v1/tiles/sdg/sdg_soc/{{z}}/{{x}}/{{y}}.png?period={baseline}")
        goto(pg, sdg_api, f"map?ind=sdg_soc&period={baseline}&lang=fr")
        pg.wait_for_selector(".map[data-state=idle]", state="attached")
        assert pg.input_value("#map-indicator") == "sdg_soc"
        assert pg.input_value("#map-period") == baseline
        tiles = sdg_tiles(urls, "sdg_soc")
        assert tiles and all(q["period"] == [baseline] for q in tiles)
        # French class names in the legend
        assert pg.locator("[data-legend=sdg_soc] li").all_inner_texts() == ["dégradé", "stable", "amélioré"]
        # a click on a cell still shows its series (the SOC stock, from /v1/point)
        pg.locator(".map canvas").click()
        pg.wait_for_selector(".side h2")
        assert pg.query_selector(".side .error") is None, pg.inner_text(".side")
        watch.check()
    finally:
        context.close()


def test_an_unknown_sdg_layer_in_a_link_opens_the_first_indicator(browser: Any, sdg_api: Api) -> None:
    first = next(i["id"] for i in sdg_api.json("/v1/indicators")["indicators"] if i["map"])
    context, pg, watch = open_page(browser, sdg_api)
    try:
        goto(pg, sdg_api, "map?ind=sdg_nothing&period=1900-1901")
        pg.wait_for_selector(".map[data-state=idle]", state="attached")
        assert pg.input_value("#map-indicator") == first
        assert pg.query_selector("#map-period") is None and pg.query_selector("#epoch") is not None
        watch.check()
    finally:
        context.close()
