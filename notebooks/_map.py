"""An interactive map in a notebook, offline: a small page that loads the API's own vendored
MapLibre GL (``/static/vendor/maplibre-gl/``), draws an indicator's tiles from its TileJSON
(``/v1/tiles/{indicator}/tilejson.json``) over the API's offline country borders, with the API's
legend (``/v1/tiles/{indicator}/legend``) and a selector of the indicators given. Nothing comes
from the internet; every request goes to the API.

The page is shown in an ``<iframe srcdoc=...>`` (its scripts run in Jupyter front-ends that
sanitise plain HTML outputs). The iframe has the notebook's origin, so the API must allow it by
CORS: start the API with ``SOCOBS_CORS_ORIGINS='["http://localhost:8888"]'`` (the notebook
server's address); the page says so, with its own origin, when the API refuses it.

``from _map import show_map`` works from a notebook in this folder (Jupyter and nbclient start
the kernel here).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

import httpx

MAPLIBRE = "/static/vendor/maplibre-gl/maplibre-gl"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>soc-observatory map</title>
<link rel="stylesheet" href="__API__/static/vendor/maplibre-gl/maplibre-gl.css">
<style>
html, body { margin: 0; height: 100%; font: 13px system-ui, sans-serif; color: #222; }
#map { position: absolute; inset: 0; }
#panel { position: absolute; left: 8px; bottom: 28px; z-index: 2; background: #fffffff0;
  padding: 6px 8px; border-radius: 4px; box-shadow: 0 1px 3px #0004; max-width: 60%; }
#legend { margin: 6px 0 0; } #legend figcaption { font-weight: 600; }
#legend .bar { height: 10px; width: 220px; margin-top: 4px; }
#legend .ticks { display: flex; justify-content: space-between; width: 220px; }
#legend .classes span { display: inline-block; margin-right: 8px; }
#legend .classes i { display: inline-block; width: 10px; height: 10px; margin-right: 3px; }
#error { position: absolute; inset: 8px; z-index: 3; margin: 0; padding: 8px; background: #fff;
  border: 2px solid #b00020; overflow: auto; }
</style></head>
<body data-state="loading">
<div id="map" role="region" aria-label="Indicator map"></div>
<div id="panel">
  <label>Map <select id="indicator">__OPTIONS__</select></label>
  <figure id="legend"><figcaption></figcaption><div class="bar"></div>
    <div class="ticks"></div><div class="classes"></div></figure>
</div>
<p id="error" role="alert" hidden></p>
<script type="module">
const API = __API_JSON__;
const $ = (s) => document.querySelector(s);
function fail(what) {
  const origin = self.origin;
  $("#error").textContent = `The map could not be drawn from the API at ${API}: ${what}. `
    + `This page runs in the notebook's origin (${origin}); the API must serve it and allow that `
    + `origin by CORS. Check that the API is running (\\`make run\\`), and start it with `
    + `SOCOBS_CORS_ORIGINS='["${origin}"]' in its environment, then run the cell again.`;
  $("#error").hidden = false;
  document.body.dataset.state = "error";
}
async function getJSON(path) {
  let r;
  try { r = await fetch(`${API}${path}`); } catch (e) { throw new Error(`${path} did not answer (${e.message})`); }
  if (!r.ok) throw new Error(`${path} answered ${r.status}`);
  return r.json();
}
function drawLegend(title, lg) {
  const unit = lg.unit ? ` (${lg.unit})` : "";
  $("#legend figcaption").textContent = title + unit;
  $("#legend").dataset.indicator = lg.indicator;
  const bar = $("#legend .bar"), ticks = $("#legend .ticks"), classes = $("#legend .classes");
  ticks.replaceChildren(); classes.replaceChildren();
  if (lg.stops.some((s) => s.label !== undefined)) {
    bar.style.background = "none";
    for (const s of lg.stops) {
      const item = document.createElement("span"), sw = document.createElement("i");
      sw.style.background = s.color;
      item.append(sw, s.label);
      classes.append(item);
    }
    return;
  }
  const v0 = lg.stops[0].value, v1 = lg.stops[lg.stops.length - 1].value;
  const at = (v) => (v1 === v0 ? 0 : (100 * (v - v0)) / (v1 - v0)).toFixed(1);
  bar.style.background = `linear-gradient(to right, ${lg.stops.map((s) => `${s.color} ${at(s.value)}%`).join(", ")})`;
  for (const v of [v0, v1]) {
    const t = document.createElement("span");
    t.textContent = Number(v.toPrecision(3)).toString();
    ticks.append(t);
  }
}
let maplibregl, map, fitted = false;
async function show(indicator) {
  document.body.dataset.state = "loading";
  const [tj, lg] = await Promise.all([
    getJSON(`/v1/tiles/${indicator}/tilejson.json`), getJSON(`/v1/tiles/${indicator}/legend`)]);
  if (map.getLayer("tiles")) map.removeLayer("tiles");
  if (map.getSource("tiles")) map.removeSource("tiles");
  map.addSource("tiles", { type: "raster", tiles: tj.tiles, tileSize: 256, minzoom: tj.minzoom,
    maxzoom: tj.maxzoom, bounds: tj.bounds, attribution: tj.attribution });
  map.addLayer({ id: "tiles", type: "raster", source: "tiles", paint: { "raster-resampling": "nearest" } }, "borders");
  if (!fitted) { map.fitBounds(tj.bounds, { padding: 8, animate: false }); fitted = true; }
  drawLegend(tj.name, lg);
  map.once("idle", () => { if (document.body.dataset.state === "loading") document.body.dataset.state = "idle"; });
  map.triggerRepaint();
}
try {
  try { maplibregl = await import(`${API}__MAPLIBRE__.mjs`); }
  catch (e) { throw new Error(`MapLibre GL did not load from ${API}__MAPLIBRE__.mjs (${e.message})`); }
  map = new maplibregl.Map({
    container: "map", fadeDuration: 0, center: [0, 0], zoom: 0,
    attributionControl: { compact: true, customAttribution: "soc-observatory" },
    style: { version: 8,
      sources: { land: { type: "geojson", data: `${API}/v1/basemap/country.geojson` } },
      layers: [{ id: "borders", type: "line", source: "land", paint: { "line-color": "#444", "line-width": 0.6 } }] },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.on("error", (e) => fail(e.error ? e.error.message : String(e)));
  self.socMap = map; // for a reader's console (and the tests)
  await new Promise((resolve) => map.once("style.load", resolve));
  const select = $("#indicator");
  select.addEventListener("change", () => show(select.value).catch((e) => fail(e.message)));
  await show(select.value);
} catch (e) {
  fail(e.message);
}
</script>
</body></html>
"""


def _tilejson(api: str, indicator: str) -> dict[str, Any]:
    url = f"{api}/v1/tiles/{indicator}/tilejson.json"
    try:
        r = httpx.get(url, timeout=30)
    except httpx.HTTPError as e:
        raise RuntimeError(
            f"The map needs the API at {api}, which did not answer ({e}). Start it (`make run`) "
            "or set SOCOBS_API_URL to where it runs, then run the cell again."
        ) from None
    if r.status_code != 200:
        raise ValueError(
            f"Expected an indicator the API maps; {indicator!r} is not one ({url} answered "
            f"{r.status_code}). Pick one of the API's map indicators (GET {api}/v1/indicators, "
            "those with tiles), e.g. 'soc_stock'."
        )
    body: dict[str, Any] = r.json()
    return body


def map_page(api: str, indicators: Sequence[str] = ("soc_stock",)) -> str:
    """The map page (a whole HTML document) for ``indicators`` (the first shown first), every
    URL under the API base ``api``. Asks the API for each indicator's TileJSON first, so an
    indicator it does not map, or an API that does not answer, raises here with the fix."""
    api = api.rstrip("/")
    if not indicators:
        raise ValueError("Expected at least one indicator to map, got none; pass e.g. ['soc_stock'].")
    options = "".join(
        f'<option value="{html.escape(i)}">{html.escape(str(_tilejson(api, i)["name"]))}</option>'
        for i in indicators
    )
    return (
        _PAGE.replace("__API_JSON__", json.dumps(api))
        .replace("__API__", html.escape(api))
        .replace("__MAPLIBRE__", MAPLIBRE)
        .replace("__OPTIONS__", options)
    )


def map_iframe(api: str, indicators: Sequence[str] = ("soc_stock",), height: int = 460) -> str:
    """The map page in an ``<iframe srcdoc>``: the HTML a notebook cell displays."""
    page = html.escape(map_page(api, indicators), quote=True)
    return (  # in a div: IPython warns of a bare <iframe> in HTML (it suggests IFrame, src= only)
        f'<div class="socobs-map"><iframe srcdoc="{page}" title="soc-observatory map" '
        f'style="width: 100%; height: {int(height)}px; border: 1px solid #ccc"></iframe></div>'
    )


def show_map(api: str, indicators: Sequence[str] = ("soc_stock",), height: int = 460) -> Any:
    """Display the map in the notebook (``IPython.display.HTML`` of :func:`map_iframe`)."""
    from IPython.display import HTML

    return HTML(map_iframe(api, indicators, height))
