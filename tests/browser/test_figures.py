"""What the dashboard shows equals what the API answers: the overview's figures, the map's
tiles and legend, a CSV download; and navigation through the hierarchy by breadcrumb, links
and the browser's back and forward."""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import Api, goto, wait_ready

pytestmark = pytest.mark.integration
NUMBER = re.compile(r"^(-?[\d,]+(?:\.\d+)?)\s*(.*)$")
UNITS = {"permille/yr": "‰/yr", "km2": "km²", "1": ""}


def shown(text: str) -> tuple[float, str]:
    """The number and unit of a figure as shown ("-0.762 ‰/yr" -> (-0.762, "‰/yr"))."""
    m = NUMBER.match(text.strip())
    assert m, text
    return float(m.group(1).replace(",", "")), m.group(2)


def agrees(text: str, value: float, unit: str, digits: int = 3) -> None:
    """``text`` is ``value`` to ``digits`` significant digits, with ``unit``."""
    number, u = shown(text)
    assert u == UNITS.get(unit, unit), (text, unit)
    if value == 0:
        assert number == 0, text
        return
    step = 10 ** (math.floor(math.log10(abs(value))) - digits + 1)
    assert abs(number - value) <= step / 2 * (1 + 1e-9), (text, value)


def figure(pg: Any, key: str, part: str = ".figure") -> str:
    return pg.inner_text(f"[data-figure={key}] {part}")


def test_overview_figures_equal_the_api(page: tuple[Any, Any], dashboard_api: Api) -> None:
    pg, watch = page
    goto(pg, dashboard_api, "overview")
    s = dashboard_api.json("/v1/regions/global/summary")
    v = s["values"]
    for key in ("soc_stock_total", "soc_stock", "soc_stock_change", "soc_change_rate_permille"):
        agrees(figure(pg, key), v[key]["value"], v[key]["unit"])
    lo, hi = figure(pg, "soc_stock", ".bounds").split(" – ")
    agrees(lo, v["soc_stock_q05"]["value"], "t C/ha")
    agrees(hi, v["soc_stock_q95"]["value"], "t C/ha")
    agrees(figure(pg, "soc_change_rate_permille", ".bounds"), v["soc_change_rate"]["value"], "t C/ha/yr")
    progress, unit = shown(figure(pg, "progress_4p1000"))
    assert unit == "%" and abs(progress - 100 * s["progress_4p1000"]["value"]) <= 0.05 + 1e-9
    rows = dashboard_api.json("/v1/rankings/progress_4p1000", level="country")["rows"]
    with_data = [r for r in rows if not r["missing"]]
    on_path = sum(r["value"] >= 1 for r in with_data)
    assert figure(pg, "on_path") == f"{on_path} of {len(with_data)}"
    area = v["valid_area_km2"]["value"]
    for key, col in (
        ("sig_increase", "trend_sig_increase_share"),
        ("sig_decrease", "trend_sig_decrease_share"),
    ):
        agrees(figure(pg, key), s["trend"][col]["value"] * area, "km2")
    keys = pg.locator("[data-figure=sh_class_shares] .share-keys li").all_inner_texts()
    names = {"degraded": "degraded", "moderate": "moderate", "good": "good", "very_good": "very good"}
    assert keys == [f"{names[k]}: {round(x * 100)} %" for k, x in s["sh_class_shares"].items()]
    status = dashboard_api.json("/v1/status")
    for fact in ("newest_source_item", "snapshot_id", "committed_at"):
        assert pg.inner_text(f"[data-fact={fact}]") == status[fact]
    best = dashboard_api.json("/v1/rankings/soc_change_rate_permille", level="country", order="desc")["rows"]
    top = pg.locator(".page-overview .two ol").first.locator("a").all_inner_texts()
    assert top == [r["name"] for r in best if not r["missing"]][:5]
    watch.check()


def ramp(stops: list[dict[str, Any]], n: int = 256) -> np.ndarray:
    """The legend's colours, interpolated between its stops as the tiles' ramp is."""
    values = np.array([s["value"] for s in stops], dtype=float)
    rgb = np.array([[int(s["color"][i : i + 2], 16) for i in (1, 3, 5)] for s in stops], dtype=float)
    xs = np.linspace(values[0], values[-1], n)
    return np.stack([np.interp(xs, values, rgb[:, c]) for c in range(3)], axis=1)


def test_the_map_draws_tiles_and_the_legend(page: tuple[Any, Any], dashboard_api: Api) -> None:
    pg, watch = page
    goto(pg, dashboard_api, "map?ind=soc_stock&cmap=ylorbr")
    pg.wait_for_selector(".map[data-state=idle]", state="attached")
    legend = dashboard_api.json("/v1/tiles/soc_stock/legend", colormap="ylorbr")
    ticks = pg.locator("[data-legend=soc_stock] .ticks span").all_inner_texts()
    agrees(ticks[0], legend["stops"][0]["value"], legend["unit"])
    agrees(ticks[-1], legend["stops"][-1]["value"], legend["unit"])
    assert "(t C/ha)" in pg.inner_text("[data-legend=soc_stock] figcaption")
    png = pg.locator(".map canvas").screenshot()
    px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    uniq, counts = np.unique(px, axis=0, return_counts=True)  # distances per distinct colour only
    d = np.abs(uniq[:, None, :].astype(float) - ramp(legend["stops"])[None, :, :]).max(axis=2).min(axis=1)
    near = counts[d <= 6].sum() / counts.sum()
    # the basemap alone (ocean, grey land, dark borders) has no colour of the ramp; tiles do
    assert near > 0.05, near
    watch.check()


def test_a_csv_download_equals_the_api_csv(page: tuple[Any, Any], dashboard_api: Api, tmp_path) -> None:
    pg, watch = page
    goto(pg, dashboard_api, "region/FRA?ind=soc_stock&stratum=cropland")
    with pg.expect_download() as d:
        pg.click("#series-csv")
    d.value.save_as(tmp_path / "series.csv")
    got = (tmp_path / "series.csv").read_bytes()
    want = dashboard_api.get("/v1/regions/FRA/indicators/soc_stock", stratum="cropland", format="csv").content
    assert got == want and b"FRA,cropland,2015" in got
    goto(pg, dashboard_api, "region/europe?ind=soc_stock_change")
    with pg.expect_download() as d:
        pg.click(".table-wrap a[download]")
    d.value.save_as(tmp_path / "children.csv")
    rows = list(csv.DictReader((tmp_path / "children.csv").open()))
    api = dashboard_api.json("/v1/rankings/soc_stock_change", level="country", parent="europe")
    assert [r["region_id"] for r in rows] == [r["region_id"] for r in api["rows"]]
    for r, a in zip(rows, api["rows"], strict=True):
        assert (float(r["value"]) if r["value"] else None) == (None if a["missing"] else a["value"])
        assert r["unit"] == api["unit"] and r["snapshot_id"] == api["snapshot_id"]
    watch.check()


def test_navigation_through_the_hierarchy_and_history(page: tuple[Any, Any], dashboard_api: Api) -> None:
    pg, watch = page
    goto(pg, dashboard_api, "region/global")
    assert pg.inner_text("h1").startswith("World")

    def click_and_wait(selector: str) -> None:
        pg.click(selector)
        wait_ready(pg)

    click_and_wait(".ranking a[href*='/region/europe']")
    assert pg.inner_text("h1").startswith("Europe") and "#/region/europe" in pg.url
    click_and_wait(".ranking a[href*='/region/FRA']")
    assert pg.inner_text("h1").startswith("France")
    crumbs = pg.locator(".breadcrumb li").all_inner_texts()
    assert [c.strip() for c in crumbs] == ["World", "Europe", "France"]
    summary = dashboard_api.json("/v1/regions/FRA/summary")
    agrees(figure(pg, "soc_stock"), summary["values"]["soc_stock"]["value"], "t C/ha")
    click_and_wait(".breadcrumb a[href*='/region/europe']")
    assert pg.inner_text("h1").startswith("Europe")
    pg.go_back()
    wait_ready(pg)
    assert pg.inner_text("h1").startswith("France")
    pg.go_back()
    wait_ready(pg)
    assert pg.inner_text("h1").startswith("Europe")
    pg.go_forward()
    wait_ready(pg)
    assert pg.inner_text("h1").startswith("France")
    # a shared URL opens the same state: the stratum from the URL, its figures from the API
    goto(pg, dashboard_api, "region/FRA?stratum=cropland")
    assert pg.locator("#region-stratum").input_value() == "cropland"
    crop = dashboard_api.json("/v1/regions/FRA/summary", stratum="cropland")
    agrees(figure(pg, "soc_stock"), crop["values"]["soc_stock"]["value"], "t C/ha")
    watch.check()
