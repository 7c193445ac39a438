"""The map page's first frame (firstframe.js): the view's tiles as images before MapLibre has
drawn. Its images sit where MapLibre's own projection puts the same tiles (map.project of the
tile corners, within 1 px), they are the tiles MapLibre then asks for (the same URLs), they are on
screen (the screenshot's pixels are the tile PNGs' pixels), and the frame is gone once MapLibre
has drawn, once the view moves, or when the state changes while it is up.

MapLibre's own tile requests (fetch, not <img>) are held back by a Playwright route while the
first frame is examined, so that the frame stays up for as long as the test needs; they are then
let through to the real API.
"""

from __future__ import annotations

import io
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import Api

pytestmark = pytest.mark.integration

FRAME = """() => {
  const map = document.querySelector('.map');
  const layer = map?.querySelector('.firstframe');
  if (!layer) return null;
  return { drawn: layer.dataset.drawn === 'true', hidden: layer.getAttribute('aria-hidden'),
    display: getComputedStyle(layer).display, visibility: getComputedStyle(layer).visibility,
    imgs: [...layer.querySelectorAll('img')].map((i) => { const r = i.getBoundingClientRect();
      return { tile: i.dataset.tile, src: i.src, ok: i.complete && i.naturalWidth > 0,
        box: [r.left, r.top, r.right, r.bottom] }; }) };
}"""

# MapLibre's projection of each tile's north-west and south-east corners, in viewport pixels.
PROJECT = """(tiles) => {
  const m = document.querySelector('.map').maplibre;
  const c = m.getCanvas().getBoundingClientRect();
  const lng = (x, z) => (x / 2 ** z) * 360 - 180;
  const lat = (y, z) => (180 / Math.PI) * Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / 2 ** z)));
  return tiles.map(([z, x, y]) => {
    const a = m.project([lng(x, z), lat(y, z)]);
    const b = m.project([lng(x + 1, z), lat(y + 1, z)]);
    return [c.left + a.x, c.top + a.y, c.left + b.x, c.top + b.y];
  });
}"""

PARALLEL = 16  # MapLibre's maxParallelImageRequests (its default)

CONTROLS = """() => [...document.querySelectorAll('.map .maplibregl-ctrl')].map((e) => {
  const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"""


class Hold:
    """Holds MapLibre's tile requests (and any path given) until release(); the first frame's
    <img> requests, the TileJSON and everything else go through. `urls`: every tile MapLibre
    asked for, held or not."""

    def __init__(self, page: Any, paths: tuple[str, ...] = ()) -> None:
        self.held: list[Any] = []
        self.urls: list[str] = []
        self.paths = paths
        self.open = False
        page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        r = route.request
        path = urlsplit(r.url).path
        tile = path.startswith("/v1/tiles/") and path.endswith(".png") and r.resource_type != "image"
        if tile:
            self.urls.append(r.url)
        if not self.open and (tile or path in self.paths):
            self.held.append(route)
        else:
            route.continue_()

    def release(self) -> None:
        self.open = True
        for route in self.held:
            route.continue_()
        self.held = []


def check(watch: Any, *holds: Hold) -> None:
    """The page is clean, but for held tile requests MapLibre cancelled (the view or the page
    changed while they were held): they would have been cancelled just the same had they been slow."""
    held = {u for h in holds for u in h.urls}
    prefix, suffix = "failed: ", " net::ERR_ABORTED"

    def cancelled(e: str) -> bool:
        return (
            e.startswith(prefix)
            and e.endswith(suffix)
            and e.removeprefix(prefix).removesuffix(suffix) in held
        )

    watch.errors = [e for e in watch.errors if not cancelled(e)]
    watch.check()


def wait_until(page: Any, test: Any, what: str, seconds: float = 60.0) -> None:
    """Let Playwright deliver events (route handlers run meanwhile) until ``test()`` holds."""
    deadline = time.monotonic() + seconds
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(50)


def open_held(page: Any, api: Api, route: str, paths: tuple[str, ...] = ()) -> tuple[Hold, dict[str, Any]]:
    """Open ``route`` with MapLibre's tiles held; return once the first frame is drawn."""
    hold = Hold(page, paths)
    page.goto(f"{api.base}/#/{route}")
    page.wait_for_function(f"() => {{ const f = ({FRAME})(); return f && f.drawn; }}")
    frame = page.evaluate(FRAME)
    assert frame["imgs"] and all(i["ok"] for i in frame["imgs"]), frame
    assert frame["hidden"] == "true" and frame["display"] != "none" and frame["visibility"] == "visible"
    return hold, frame


def tile_ids(frame: dict[str, Any]) -> list[tuple[int, int, int]]:
    return [tuple(int(v) for v in i["tile"].split("/")) for i in frame["imgs"]]  # type: ignore[misc]


def screen_matches_tiles(page: Any, frame: dict[str, Any], seed: int) -> int:
    """Sample pixels inside the map where a tile PNG is opaque and uniform around the sampled
    pixel: the screenshot's pixel must be the PNG's. Returns how many were compared."""
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).astype(int)
    canvas = page.evaluate(
        "() => { const r = document.querySelector('.map canvas').getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom]; }"
    )
    controls = page.evaluate(CONTROLS)
    rng = np.random.default_rng(seed)
    compared = 0
    for img in frame["imgs"]:
        png = np.asarray(
            Image.open(io.BytesIO(httpx.get(img["src"], timeout=30).content)).convert("RGBA")
        ).astype(int)
        left, top, right, _ = img["box"]
        scale = (right - left) / 256
        for _ in range(400):
            u, v = (int(a) for a in rng.integers(3, 253, 2))
            patch = png[v - 3 : v + 4, u - 3 : u + 4]
            if (patch[..., 3] != 255).any() or (patch != png[v, u]).any():
                continue  # transparent, or near a cell's edge
            x, y = left + (u + 0.5) * scale, top + (v + 0.5) * scale
            if not (canvas[0] + 2 <= x <= canvas[2] - 2 and canvas[1] + 2 <= y <= canvas[3] - 2):
                continue  # outside the map (the image is clipped there)
            if any(c[0] - 2 <= x <= c[2] + 2 and c[1] - 2 <= y <= c[3] + 2 for c in controls):
                continue  # under MapLibre's controls
            got = shot[int(y), int(x)]
            assert np.abs(got - png[v, u, :3]).max() <= 2, (img["tile"], u, v, got, png[v, u])
            compared += 1
            if compared % 12 == 0:
                break
    return compared


VIEWS = [
    "map?ind=soc_stock",  # the default view: the world is narrower than the map, MapLibre zooms in
    "map?ind=soc_stock&z=2.63&c=-60.5,-10.25",  # a fractional zoom
    "map?ind=soc_stock_change&cmap=ylorbr&range=-5,5&z=2.2&c=178,84",  # pushed back from the corner
    "map?ind=soc_stock&z=5.5&c=10.3,45.7&epoch=2016",
]


@pytest.mark.parametrize("route", VIEWS)
def test_first_frame_is_where_maplibre_draws_the_same_tiles(
    page: tuple[Any, Any], dashboard_api: Api, route: str
) -> None:
    pg, watch = page
    hold, frame = open_held(pg, dashboard_api, route)
    ids = tile_ids(frame)
    assert len({z for z, _, _ in ids}) == 1 and len(set(ids)) == len(ids), ids
    # the tiles' choices are the URL's (indicator, epoch, colour map, range) and the snapshot's
    params = dict(p.split("=") for p in route.split("?")[1].split("&"))
    for img in frame["imgs"]:
        u = urlsplit(img["src"])
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        assert u.path == f"/v1/tiles/{params['ind']}/{img['tile']}.png"
        assert q.get("colormap") == params.get("cmap") and q.get("rescale") == params.get("range")
        assert q["v"] == pg.get_attribute("body", "data-snapshot")
        assert q["epoch"] == params.get("epoch", "2017")
    # MapLibre asks for these tiles, by the same URLs (so from the browser's cache); at most
    # PARALLEL at a time (the rest once those are answered, checked below)
    wait_until(pg, lambda: len(hold.urls) >= min(len(ids), PARALLEL), "MapLibre's tile requests")
    wait_until(pg, lambda: pg.evaluate("() => Boolean(document.querySelector('.map').maplibre)"), "the map")
    srcs = {i["src"] for i in frame["imgs"]}
    assert set(hold.urls) <= srcs, set(hold.urls) - srcs
    # each image within 1 px of MapLibre's projection of its tile's corners
    want = np.array(pg.evaluate(PROJECT, [list(t) for t in ids]))
    got = np.array([i["box"] for i in pg.evaluate(FRAME)["imgs"]])
    assert np.abs(got - want).max() <= 1.0, np.abs(got - want).max(axis=1)
    # on screen, above MapLibre's canvas (blank while its tiles are held): the PNGs' pixels
    assert screen_matches_tiles(pg, frame, seed=len(route)) >= 6
    # once MapLibre has drawn its tiles the first frame is gone
    hold.release()
    pg.wait_for_selector(".map[data-state=idle]", state="attached")
    assert pg.get_attribute(".map", "data-tiles")
    assert pg.evaluate(FRAME) is None
    z = ids[0][0]
    assert {u for u in hold.urls if urlsplit(u).path.split("/")[4] == str(z)} == srcs
    watch.check()


def test_moving_the_map_removes_the_first_frame(page: tuple[Any, Any], dashboard_api: Api) -> None:
    pg, watch = page
    hold, _ = open_held(pg, dashboard_api, "map?ind=soc_stock&z=2&c=20,10")
    wait_until(pg, lambda: len(hold.urls) > 0, "MapLibre's tile requests")
    box = pg.locator(".map canvas").bounding_box()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    pg.mouse.wheel(0, -300)  # zoom in: the tiles of the first frame are no longer the view's
    pg.wait_for_function(f"() => ({FRAME})() === null")
    hold.release()
    pg.wait_for_function("() => new URLSearchParams(location.hash.split('?')[1]).get('z') > 2.05")
    pg.wait_for_selector(".map[data-state=idle]", state="attached")
    assert pg.evaluate(FRAME) is None
    check(watch, hold)


def test_state_changes_while_the_first_frame_is_up(page: tuple[Any, Any], dashboard_api: Api) -> None:
    pg, watch = page
    # the map library itself held: the first frame is up and there is no map yet
    first, _ = open_held(pg, dashboard_api, "map?ind=soc_stock", paths=("/static/app/geo.js",))
    assert pg.evaluate("() => document.querySelector('.map').maplibre === undefined")
    pg.eval_on_selector("#epoch", "(e) => { e.value = 0; e.dispatchEvent(new Event('change')); }")
    pg.wait_for_function(f"() => ({FRAME})() === null")  # another epoch: the frame is not its tiles
    first.release()
    pg.wait_for_function(
        "() => (document.querySelector('.map').dataset.tiles || '').endsWith('/soc_stock/2015')"
    )
    pg.wait_for_selector(".map[data-state=idle]", state="attached")
    assert "epoch=2015" in pg.evaluate("location.hash")
    # another indicator (a new page) while its first frame is up: that page draws, and only it
    pg.unroute("**/*")
    hold, _ = open_held(pg, dashboard_api, "map?ind=soc_stock&z=1.5")
    pg.select_option("#map-indicator", "soc_stock_change")
    new_frame = "f && f.drawn && f.imgs.every((i) => i.src.includes('/soc_stock_change/'))"
    pg.wait_for_function(f"() => {{ const f = ({FRAME})(); return {new_frame}; }}")
    hold.release()
    pg.wait_for_function(
        "() => (document.querySelector('.map').dataset.tiles || '').includes('/soc_stock_change/')"
    )
    pg.wait_for_selector(".map[data-state=idle]", state="attached")
    assert pg.evaluate(FRAME) is None and pg.locator(".map").count() == 1
    check(watch, first, hold)


def test_without_holding_the_first_frame_comes_and_goes(page: tuple[Any, Any], dashboard_api: Api) -> None:
    """An ordinary load: the page draws, its first frame is gone, MapLibre's tiles are drawn and
    every page (as the other tests) is clean."""
    pg, watch = page
    pg.goto(f"{dashboard_api.base}/#/map?ind=soc_stock")
    pg.wait_for_selector(".map[data-state=idle]", state="attached")
    assert pg.get_attribute(".map", "data-tiles")
    assert pg.evaluate(FRAME) is None
    assert pg.evaluate("() => performance.getEntriesByName('firstframe-drawn').length") == 1
    watch.check()
