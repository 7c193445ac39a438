"""Dashboard benchmark: headless chromium (Debian's, as the browser tests) against a real API
process on the demo store (the browser tests' store, tests.support.api_store).

Navigation to first paint of what matters, median of 5, each in a fresh browser context (an
empty cache, as a first visit): the overview until its figures are shown and its world
choropleth drawn (SVG); the map page until its first tiles are on screen: the first frame's
(firstframe.js: the view's tiles as images, before MapLibre), every image loaded
(complete, naturalWidth > 0) and decoded (the page's decode() resolved, then a frame), in a
visible layer in the viewport. For information, not a goal: the same navigation until
MapLibre has drawn its own tiles (software WebGL; the land and borders come after the tiles).
Then the JavaScript and CSS the two pages load (every script, module, worker and stylesheet),
as transferred with gzip.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.browser.conftest import ARGS, CHROMIUM, VIEWPORT, Api
from tests.support.api_store import build_api_store

RUNS = 5
PAGES = {"overview": "overview", "map": "map?ind=soc_stock"}


DRAWN = {
    "overview": "() => { const m = document.querySelector('main'); const map = document.querySelector('.map');"
    " return m.dataset.ready === 'true' && map && map.dataset.state === 'idle'; }",
    # the first frame's tiles on screen, or (should MapLibre come first) MapLibre's own
    "map": """() => {
      const map = document.querySelector('.map');
      if (!map) return false;
      if (map.dataset.tiles) return 'maplibre';
      const layer = map.querySelector('.firstframe');
      if (!layer || layer.dataset.drawn !== 'true') return false;
      const s = getComputedStyle(layer), box = layer.getBoundingClientRect();
      const imgs = [...layer.querySelectorAll('img')];
      return s.display !== 'none' && s.visibility === 'visible' && box.width > 0 && box.height > 0
        && box.top < innerHeight && box.bottom > 0 && imgs.length > 0
        && imgs.every((i) => i.complete && i.naturalWidth > 0) && 'first frame';
    }""",
}
MAPLIBRE_DRAWN = "() => Boolean(document.querySelector('.map')?.dataset.tiles)"


def bench_dashboard(work: Path | None = None) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise SystemExit(f"the dashboard benchmark needs {CHROMIUM}: run `make browser`")
    root = work or Path(tempfile.mkdtemp(prefix="socobs-bench-dashboard-"))
    store = build_api_store(root / "store")
    api = Api(store.store, store.registry, root / "api.log")
    out: dict[str, float] = {}
    assets: set[str] = set()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            for name, route in PAGES.items():
                times, maplibre, via = [], [], []
                for _ in range(RUNS + 1):  # the first warms the server's caches; not counted
                    context = browser.new_context(viewport=VIEWPORT)
                    page = context.new_page()
                    page.on(
                        "request",
                        lambda r: (
                            assets.add(r.url)
                            if r.resource_type in ("script", "stylesheet")
                            or r.url.endswith((".js", ".mjs", ".css"))
                            else None
                        ),
                    )
                    t0 = time.perf_counter()
                    page.goto(f"{api.base}/#/{route}")
                    how = page.wait_for_function(DRAWN[name], timeout=120_000).json_value()
                    times.append(time.perf_counter() - t0)
                    if name == "map":
                        via.append(how)
                        page.wait_for_function(MAPLIBRE_DRAWN, timeout=120_000)
                        maplibre.append(time.perf_counter() - t0)
                    context.close()
                out[f"{name}_median_s"] = statistics.median(times[1:])
                if name == "map":
                    out["map_maplibre_median_s"] = statistics.median(maplibre[1:])
                    out["map_runs_first_frame"] = sum(v == "first frame" for v in via[1:])
            browser.close()
        if any(u.endswith("maplibre-gl.mjs") for u in assets):  # its worker loads outside the page
            assets.add(f"{api.base}/static/vendor/maplibre-gl/maplibre-gl-worker.mjs")
        with httpx.Client(headers={"Accept-Encoding": "gzip"}) as c:
            sizes = {u.split("?")[0]: c.get(u).num_bytes_downloaded for u in sorted(assets)}
        out["js_css_gzip_mb"] = sum(sizes.values()) / 1e6
        out["js_css_files"] = len(sizes)
    finally:
        api.stop()
        if work is None:
            shutil.rmtree(root, ignore_errors=True)
    return out


def goal_rows(d: dict[str, float]) -> list[tuple[str, str, str, bool]]:
    worst = max(d["overview_median_s"], d["map_median_s"])
    return [
        (
            "dashboard: navigation -> overview figures + choropleth; map's first tiles on screen",
            f"overview {d['overview_median_s']:.2f} s, map tiles {d['map_median_s']:.2f} s (median of {RUNS})",
            "<= 1.0 s",
            worst <= 1.0,
        ),
        (
            "dashboard: navigation -> MapLibre's own map tiles drawn (information)",
            f"{d['map_maplibre_median_s']:.2f} s (median of {RUNS}; first frame first in "
            f"{d['map_runs_first_frame']:.0f} of {RUNS})",
            "none (information, not a goal)",
            True,
        ),
        (
            "dashboard JS+CSS transferred (gzip)",
            f"{d['js_css_gzip_mb']:.2f} MB ({d['js_css_files']:.0f} files)",
            "<= 1.5 MB",
            d["js_css_gzip_mb"] <= 1.5,
        ),
    ]
