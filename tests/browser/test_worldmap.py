"""The overview's world choropleth (SVG, no WebGL): its projection is PROJ's Equal Earth, every
country with a value is filled with that value's colour on the legend's ramp, countries without
one stay grey, and a click opens the country's page."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pyproj import Transformer

from tests.browser.conftest import Api, goto, wait_ready

pytestmark = pytest.mark.integration
LAND = "rgb(189, 189, 189)"  # worldmap.js LAND, #bdbdbd, as the browser reports a fill


def test_equal_earth_equals_proj(page: tuple[Any, Any], dashboard_api: Api) -> None:
    pg, watch = page
    goto(pg, dashboard_api, "overview")
    rng = np.random.default_rng(5)
    pts = np.column_stack([rng.uniform(-180, 180, 200), rng.uniform(-90, 90, 200)])
    pts = np.vstack([pts, [[0, 0], [180, 0], [-180, 0], [0, 90], [0, -90], [180, 90], [-179.9, -60]]])
    ours = np.array(
        pg.evaluate(
            "async (pts) => { const m = await import('/static/app/worldmap.js');"
            " return pts.map(([lon, lat]) => m.equalEarth(lon, lat)); }",
            pts.tolist(),
        )
    )
    # PROJ's eqearth on a unit sphere (+R=1), degrees in: x, y in units of the radius, as ours
    proj = Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step +proj=eqearth +R=1"
    )
    x, y = proj.transform(pts[:, 0], pts[:, 1])
    np.testing.assert_allclose(ours[:, 0], x, atol=1e-9)
    np.testing.assert_allclose(ours[:, 1], y, atol=1e-9)
    watch.check()


def _rgb(stops: list[dict[str, Any]], v: float) -> tuple[int, ...]:
    """The legend's colour of ``v``: linear between the two stops around it, clamped at the ends."""
    values = [s["value"] for s in stops]
    cols = [tuple(int(s["color"][i : i + 2], 16) for i in (1, 3, 5)) for s in stops]
    if v <= values[0]:
        return cols[0]
    for i in range(1, len(stops)):
        if v <= values[i]:
            f = (v - values[i - 1]) / (values[i] - values[i - 1])
            # rounded half up, as the page's Math.round
            return tuple(math.floor(a + f * (b - a) + 0.5) for a, b in zip(cols[i - 1], cols[i], strict=True))
    return cols[-1]


def _parse(fill: str) -> tuple[int, ...]:
    assert fill.startswith("rgb("), fill
    return tuple(int(x) for x in fill[4:-1].split(","))


def test_each_country_has_its_value_colour(page: tuple[Any, Any], dashboard_api: Api) -> None:
    pg, watch = page
    ind = "soc_change_rate_permille"
    goto(pg, dashboard_api, f"overview?ind={ind}")
    pg.wait_for_selector(".map[data-state=idle] svg.worldmap", state="attached")
    fills = dict(
        pg.eval_on_selector_all(
            "svg.worldmap [data-region]", "els => els.map(e => [e.dataset.region, getComputedStyle(e).fill])"
        )
    )
    basemap = dashboard_api.json("/v1/basemap/country.geojson")
    assert set(fills) == {f["properties"]["id"] for f in basemap["features"]}
    legend = dashboard_api.json(f"/v1/tiles/{ind}/legend")
    rows = dashboard_api.json(f"/v1/rankings/{ind}", level="country", order="desc")["rows"]
    valued = {r["region_id"]: r["value"] for r in rows if not r["missing"]}
    checked = 0
    for rid, fill in fills.items():
        if rid in valued:
            assert _parse(fill) == _rgb(legend["stops"], valued[rid]), rid
            checked += 1
        else:
            assert fill == LAND, rid
    assert checked > 50  # the demo store has values for most countries
    # a click on a country opens its page
    rid = max(valued, key=lambda k: valued[k] if k in fills else -np.inf)
    pg.dispatch_event(f"svg.worldmap [data-region='{rid}']", "click")
    pg.wait_for_function(f"() => location.hash.startsWith('#/region/{rid}')")
    wait_ready(pg)
    watch.check()
