// MapLibre maps on the offline basemap (land, coastlines and borders from the project's own
// region geometries, /v1/basemap/country.geojson), the indicator tiles, region choropleths and
// legends. An external basemap style is an option (?basemap=<style URL>), never the default.
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";
import { colourOf, getJSON } from "./api.js";
import { VIEW, tileTemplate } from "./firstframe.js";
import { BORDER, LAND, OCEAN } from "./worldmap.js";

// Two workers even on a two-core machine (MapLibre's default is half the cores): one parses the
// basemap's GeoJSON while the other decodes the indicator tiles. Started when this module loads,
// before any map exists, so a map's first frame does not wait for them.
maplibregl.setWorkerCount(2);
maplibregl.prewarm();

const LAND_SOURCE = { type: "geojson", data: `${location.origin}/v1/basemap/country.geojson`, promoteId: "id" };
const LAND_LAYER = { id: "land", type: "fill", source: "land", paint: { "fill-color": LAND } };
const BORDER_LAYER = { id: "borders", type: "line", source: "land", paint: { "line-color": BORDER, "line-width": 0.6 } };

// The offline basemap: ocean, land and borders. `land: false` leaves land and borders out (the
// map page adds them with addBasemap once its tiles are drawn: the cells cover the land).
// `tiles`: an indicator's tile source (tileSource) drawn from the first frame.
export function baseStyle({ land = true, tiles = null } = {}) {
  return {
    version: 8,
    sources: { ...(land ? { land: LAND_SOURCE } : {}), ...(tiles ? { tiles } : {}) },
    layers: [{ id: "ocean", type: "background", paint: { "background-color": OCEAN } },
      ...(land ? [LAND_LAYER] : []), ...(tiles ? [TILE_LAYER] : []), ...(land ? [BORDER_LAYER] : [])],
  };
}

export function addBasemap(map) {
  if (map.getSource("land")) return;
  map.addSource("land", LAND_SOURCE);
  map.addLayer(LAND_LAYER, map.getLayer("tiles") ? "tiles" : undefined);
  map.addLayer(BORDER_LAYER);
}

export function createMap(container, view = {}, external = null) {
  const map = new maplibregl.Map({
    container,
    style: external || baseStyle({ land: view.land ?? true, tiles: view.tiles }),
    fadeDuration: 0,
    center: view.center || VIEW.center,
    zoom: view.zoom ?? VIEW.zoom,
    minZoom: VIEW.minZoom,
    maxZoom: VIEW.maxZoom,
    attributionControl: { compact: true, customAttribution: "soc-observatory" },
    renderWorldCopies: false,
  });
  styled.set(map, new Promise((resolve) => map.once("style.load", resolve)));
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.getCanvas().setAttribute("aria-label", container.getAttribute("aria-label") || "map");
  return map;
}

export function whenLoaded(map) {
  return new Promise((resolve) => (map.loaded() ? resolve() : map.once("load", resolve)));
}

// The style parsed (sources may still be loading): layers can be added. Sooner than "load",
// which waits for the basemap's GeoJSON and the first full frame.
const styled = new WeakMap();
export function whenStyled(map) {
  return styled.get(map);
}

// Resolves on the first frame drawn after the indicator tiles in view have loaded (or when the
// map is idle with none in view).
export function whenTilesDrawn(map) {
  return new Promise((resolve) => {
    const check = (e) => {
      if (e.sourceId !== "tiles" || !e.tile || !map.isSourceLoaded("tiles")) return;
      map.off("sourcedata", check);
      map.once("render", resolve);
      map.triggerRepaint();
    };
    map.on("sourcedata", check);
    map.once("idle", resolve);
  });
}

// The indicator's raster tiles (a TileJSON answer and the page's choices) as a MapLibre source
// (firstframe.js places its images for these 256-px tiles).
export function tileSource(tj, choices) {
  return { type: "raster", tiles: [tileTemplate(tj, choices)], tileSize: 256,
    bounds: tj.bounds, minzoom: tj.minzoom, maxzoom: tj.maxzoom };
}

// Tiles drawn as cells (nearest neighbour), without fading in (each frame counts in software GL).
const TILE_LAYER = { id: "tiles", type: "raster", source: "tiles",
  paint: { "raster-resampling": "nearest", "raster-fade-duration": 0 } };

// Swap the indicator's tiles (below the borders) for another epoch, colour map or snapshot.
// `ind`: the tiles' path under /v1/tiles/ (an SDG 15.3.1 map's: sdg/{layer}, with a `period`).
export async function setTiles(map, ind, { epoch, period, colormap, rescale, snapshot, before = null }) {
  const [tj] = await Promise.all([getJSON(`/v1/tiles/${ind}/tilejson.json`, { epoch, period }), before?.()]);
  if (map.getLayer("tiles")) map.removeLayer("tiles");
  if (map.getSource("tiles")) map.removeSource("tiles");
  map.addSource("tiles", tileSource(tj, { epoch, period, colormap, rescale, snapshot }));
  map.addLayer(TILE_LAYER, map.getLayer("borders") ? "borders" : undefined);
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

export function fitBox(map, box) {
  if (!box) return;
  const [w, s, e, n] = box;
  map.fitBounds([[w, s], [e < w ? e + 360 : e, n]], { padding: 20, duration: 0, maxZoom: 5 });
}

// The registry's projects (a GET /v1/projects FeatureCollection) on top of everything: polygons
// as an outline with a light fill, points as circles. A click hits PROJECT_LAYERS.
export const PROJECT_LAYERS = ["projects-fill", "projects-line", "projects-point"];
const PROJECT_COLOUR = "#6a1b9a";

export function setProjects(map, collection) {
  removeProjects(map);
  map.addSource("projects", { type: "geojson", data: collection });
  const polygons = ["match", ["geometry-type"], ["Polygon", "MultiPolygon"], true, false];
  map.addLayer({ id: "projects-fill", type: "fill", source: "projects", filter: polygons,
    paint: { "fill-color": PROJECT_COLOUR, "fill-opacity": 0.25 } });
  map.addLayer({ id: "projects-line", type: "line", source: "projects", filter: polygons,
    paint: { "line-color": PROJECT_COLOUR, "line-width": 1.5 } });
  map.addLayer({ id: "projects-point", type: "circle", source: "projects", filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-color": PROJECT_COLOUR, "circle-radius": 5, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5 } });
}

// Keep the projects above layers added after them (borders, a choropleth's outlines).
export function raiseProjects(map) {
  for (const id of PROJECT_LAYERS) if (map.getLayer(id)) map.moveLayer(id);
}

export function removeProjects(map) {
  for (const id of PROJECT_LAYERS) if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource("projects")) map.removeSource("projects");
}

// The ids of the projects the map has drawn (the source's features, as MapLibre holds them).
export function drawnProjects(map) {
  if (!map.getSource("projects")) return [];
  return [...new Set(map.querySourceFeatures("projects").map((f) => f.properties.id))].sort((a, b) => a - b);
}
