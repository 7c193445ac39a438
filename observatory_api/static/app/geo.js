// MapLibre maps on the offline basemap (land, coastlines and borders from the project's own
// region geometries, /v1/basemap/country.geojson), the indicator tiles, region choropleths and
// legends. An external basemap style is an option (?basemap=<style URL>), never the default.
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";
import { colourOf, el, fmt, getJSON, unitLabel, url } from "./api.js";
import { t } from "./i18n.js";

export const OCEAN = "#c9d6df";
export const LAND = "#bdbdbd";
export const BORDER = "#4d4d4d";

export function baseStyle() {
  return {
    version: 8,
    sources: {
      land: { type: "geojson", data: `${location.origin}/v1/basemap/country.geojson`, promoteId: "id" },
    },
    layers: [
      { id: "ocean", type: "background", paint: { "background-color": OCEAN } },
      { id: "land", type: "fill", source: "land", paint: { "fill-color": LAND } },
      { id: "borders", type: "line", source: "land", paint: { "line-color": BORDER, "line-width": 0.6 } },
    ],
  };
}

export function createMap(container, view = {}, external = null) {
  const map = new maplibregl.Map({
    container,
    style: external || baseStyle(),
    center: view.center || [10, 20],
    zoom: view.zoom ?? 0.8,
    minZoom: 0,
    maxZoom: 8,
    attributionControl: { compact: true, customAttribution: "soc-observatory" },
    renderWorldCopies: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.getCanvas().setAttribute("aria-label", container.getAttribute("aria-label") || "map");
  return map;
}

export function whenLoaded(map) {
  return new Promise((resolve) => (map.loaded() ? resolve() : map.once("load", resolve)));
}

// The indicator's raster tiles from its TileJSON, below the borders. `v` (the snapshot) keeps a
// browser from showing a cached tile of an older snapshot.
export async function setTiles(map, ind, { epoch, colormap, rescale, snapshot }) {
  const tj = await getJSON(`/v1/tiles/${ind}/tilejson.json`, { epoch });
  const base = tj.tiles[0].split("?")[0];
  const tiles = [url(base, { epoch, colormap, rescale, v: snapshot })];
  if (map.getLayer("tiles")) map.removeLayer("tiles");
  if (map.getSource("tiles")) map.removeSource("tiles");
  map.addSource("tiles", {
    type: "raster", tiles, tileSize: 256, bounds: tj.bounds, minzoom: tj.minzoom, maxzoom: tj.maxzoom,
  });
  map.addLayer({ id: "tiles", type: "raster", source: "tiles", paint: { "raster-resampling": "nearest" } },
    map.getLayer("borders") ? "borders" : undefined);
  return tj;
}

export function removeTiles(map) {
  if (map.getLayer("tiles")) map.removeLayer("tiles");
  if (map.getSource("tiles")) map.removeSource("tiles");
}

// Regions of `level` coloured by `rows` (a /v1/rankings answer's rows) with the legend's stops.
// Countries colour the basemap's own features (feature state: nothing fetched again); other
// levels get their own source.
export async function setChoropleth(map, level, rows, stops) {
  removeChoropleth(map);
  const colours = rows.filter((r) => !r.missing).map((r) => [r.region_id, colourOf(stops, r.value)]);
  if (level === "country") {
    map.removeFeatureState({ source: "land" });
    for (const [id, colour] of colours) map.setFeatureState({ source: "land", id }, { colour });
    map.setPaintProperty("land", "fill-color", ["coalesce", ["feature-state", "colour"], LAND]);
    return;
  }
  const geo = await fetch(`/v1/basemap/${level}.geojson`).then((r) => r.json());
  const byId = new Map(colours);
  for (const f of geo.features) f.properties.colour = byId.get(f.properties.id) || "rgba(0,0,0,0)";
  map.addSource("choropleth", { type: "geojson", data: geo, promoteId: "id" });
  map.addLayer({ id: "choropleth", type: "fill", source: "choropleth",
    paint: { "fill-color": ["get", "colour"], "fill-opacity": 0.9 } }, "borders");
  map.addLayer({ id: "choropleth-line", type: "line", source: "choropleth",
    paint: { "line-color": BORDER, "line-width": 0.8 } });
}

// The layer a click on a region hits (the basemap's countries, or the level's own source).
export function choroplethLayer(map) {
  return map.getLayer("choropleth") ? "choropleth" : "land";
}

export function removeChoropleth(map) {
  for (const id of ["choropleth-line", "choropleth"]) if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource("choropleth")) map.removeSource("choropleth");
  if (map.getLayer("land")) map.setPaintProperty("land", "fill-color", LAND);
}

// The legend from /v1/tiles/{indicator}/legend: a gradient with values and unit, or classes.
export function legendBox(legend, title) {
  const box = el("figure", { class: "legend", "data-legend": legend.indicator });
  box.append(el("figcaption", {}, `${title}${unitLabel(legend.unit) ? ` (${unitLabel(legend.unit)})` : ""}`));
  if (legend.stops.some((s) => s.label !== undefined)) {
    const ul = el("ul", { class: "classes" });
    for (const s of legend.stops) {
      ul.append(el("li", {}, el("span", { class: "swatch", style: `background:${s.color}` }),
        t(`sh_${s.label}`) !== `sh_${s.label}` ? t(`sh_${s.label}`) : s.label));
    }
    box.append(ul);
  } else {
    const grad = legend.stops.map((s, i) => `${s.color} ${(100 * i) / (legend.stops.length - 1)}%`).join(",");
    box.append(el("div", { class: "ramp", style: `background:linear-gradient(to right,${grad})`, role: "img",
      "aria-label": `${fmt(legend.stops[0].value, legend.unit)} – ${fmt(legend.stops.at(-1).value, legend.unit)}` }));
    const first = legend.stops[0].value, last = legend.stops.at(-1).value;
    const mid = legend.stops[Math.floor(legend.stops.length / 2)].value;
    box.append(el("div", { class: "ticks" }, ...[first, mid, last].map((v) => el("span", {}, fmt(v, legend.unit)))));
  }
  return box;
}

export function fitBox(map, box) {
  if (!box) return;
  const [w, s, e, n] = box;
  map.fitBounds([[w, s], [e < w ? e + 360 : e, n]], { padding: 20, duration: 0, maxZoom: 5 });
}
