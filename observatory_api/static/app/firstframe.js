// The map page's first frame, before MapLibre has loaded: the indicator's PNG tiles of the view
// as plain <img> elements in the map's container, placed where MapLibre will draw the same tiles
// (same URLs, so MapLibre then finds them in the browser's cache). Decorative (aria-hidden) and
// inert (pointer-events: none); removed when MapLibre has drawn its own tiles or the view moves.
//
// MapLibre's camera, as this file reproduces it (Web Mercator, no pitch, no rotation): the world
// is 512 px wide at zoom 0 and 512 * 2^zoom at `zoom`; the view is constrained so that the world
// (its latitudes within ±85.051129°, and with renderWorldCopies off its longitudes) covers the
// container, zooming in when it is smaller than the container; a raster source of 256-px tiles
// is drawn from tiles of zoom round(zoom + 1), at most the source's maxzoom (overscaled beyond).
import { url } from "./api.js";
import { OCEAN } from "./worldmap.js";

// The map's camera limits and default view (geo.js creates the MapLibre map with the same).
export const VIEW = { center: [10, 20], zoom: 0.8, minZoom: 0, maxZoom: 8 };
const WORLD = 512;
const MAX_LAT = 85.051129;
const TILE = 256;

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const mercX = (lng) => (180 + lng) / 360;
const mercY = (lat) => (180 - (180 / Math.PI) * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360))) / 360;
const lngOf = (x) => x * 360 - 180;
const latOf = (y) => (360 / Math.PI) * Math.atan(Math.exp(((180 - y * 360) * Math.PI) / 180)) - 90;
const wrapLng = (lng) => {
  const r = ((((lng + 180) % 360) + 360) % 360) - 180;
  return r === -180 ? 180 : r;
};

// One step of MapLibre's constraint of the view to the world, for a `w` x `h` container.
function constrainOnce(w, h, [lng, lat], zoom) {
  const z = clamp(zoom, VIEW.minZoom, VIEW.maxZoom);
  const ws = WORLD * 2 ** z;
  const top = mercY(MAX_LAT) * ws, bottom = mercY(-MAX_LAT) * ws;
  const left = mercX(-179.9999999999) * ws, right = mercX(180 - 1e-10) * ws;
  const sy = bottom - top < h ? h / (bottom - top) : 0;
  const sx = right - left < w ? w / (right - left) : 0;
  let x = mercX(lng) * ws, y = mercY(clamp(lat, -MAX_LAT, MAX_LAT)) * ws;
  const s = Math.max(sx, sy);
  if (s) return { center: [wrapLng(lngOf((sx ? (left + right) / 2 : x) / ws)), latOf((sy ? (top + bottom) / 2 : y) / ws)], zoom: z + Math.log2(s) };
  if (y - h / 2 < top) y = top + h / 2;
  if (y + h / 2 > bottom) y = bottom - h / 2;
  if (x - w / 2 < left) x = left + w / 2;
  if (x + w / 2 > right) x = right - w / 2;
  return { center: [wrapLng(lngOf(x / ws)), latOf(y / ws)], zoom: z };
}

// The view MapLibre settles on (the constraint applied until nothing changes).
export function camera(w, h, center, zoom) {
  let v = { center, zoom };
  for (let i = 0; i < 4; i++) {
    const n = constrainOnce(w, h, v.center, v.zoom);
    const same = n.zoom === v.zoom && n.center[0] === v.center[0] && n.center[1] === v.center[1];
    v = n;
    if (same) break;
  }
  return v;
}

// The URL template of an indicator's tiles (a TileJSON answer and the page's choices), the same
// for the first frame and MapLibre (`period`: an SDG 15.3.1 map's). `v` (the snapshot) keeps a browser from showing a cached tile
// of an older snapshot.
export function tileTemplate(tj, { epoch, period, colormap, rescale, snapshot }) {
  return url(tj.tiles[0].split("?")[0], { epoch, period, colormap, rescale, v: snapshot });
}

// The tiles in view and their boxes in container pixels: [{z, x, y, left, top, size}].
export function tilesInView(w, h, center, zoom, tj) {
  const v = camera(w, h, center, zoom);
  const ws = WORLD * 2 ** v.zoom;
  const cx = mercX(v.center[0]) * ws, cy = mercY(v.center[1]) * ws;
  const z = Math.min(Math.max(0, Math.round(v.zoom + Math.log2(WORLD / TILE))), tj.maxzoom ?? 22);
  if (z < (tj.minzoom ?? 0)) return [];
  const n = 2 ** z, size = ws / n;
  const [west, south, east, north] = tj.bounds || [-180, -90, 180, 90];
  const span = (a, b) => [Math.max(0, Math.floor(a)), Math.min(n - 1, Math.ceil(b) - 1)];
  const [x0, x1] = span(Math.max((cx - w / 2) / size, mercX(west) * n), Math.min((cx + w / 2) / size, mercX(east) * n));
  const [y0, y1] = span(Math.max((cy - h / 2) / size, mercY(clamp(north, -MAX_LAT, MAX_LAT)) * n),
    Math.min((cy + h / 2) / size, mercY(clamp(south, -MAX_LAT, MAX_LAT)) * n));
  const out = [];
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) out.push({ z, x, y, left: x * size - cx + w / 2, top: y * size - cy + h / 2, size });
  }
  return out;
}

// Draw the first frame in `box` (the map's container, MapLibre not yet in it) for a TileJSON `tj`,
// the view asked for ({center, zoom}) and the tiles' choices (as tileTemplate).
// Returns { drawn: a promise resolved once every tile is decoded and placed (false if none could
// be), remove() }. The frame follows the container's size until it is removed.
export function firstFrame(box, tj, view, choices) {
  const layer = document.createElement("div");
  layer.className = "firstframe";
  layer.setAttribute("aria-hidden", "true");
  layer.style.background = OCEAN;
  box.prepend(layer);
  const template = tileTemplate(tj, choices);
  const imgs = new Map();
  let done = false;
  const place = () => {
    const w = box.clientWidth, h = box.clientHeight;
    const want = w && h ? tilesInView(w, h, view.center ?? VIEW.center, view.zoom ?? VIEW.zoom, tj) : [];
    const keep = new Set();
    for (const t of want) {
      const key = `${t.z}/${t.x}/${t.y}`;
      keep.add(key);
      let img = imgs.get(key);
      if (!img) {
        img = new Image(TILE, TILE);
        img.alt = "";
        img.decoding = "async";
        img.fetchPriority = "high"; // the page's first picture, not a below-the-fold image
        img.dataset.tile = key;
        img.src = template.replace("{z}", t.z).replace("{x}", t.x).replace("{y}", t.y);
        imgs.set(key, img);
        layer.append(img);
      }
      Object.assign(img.style, { left: `${t.left}px`, top: `${t.top}px`, width: `${t.size}px`, height: `${t.size}px` });
    }
    for (const [key, img] of imgs) if (!keep.has(key)) (img.remove(), imgs.delete(key));
    return [...imgs.values()];
  };
  const drawn = Promise.all(place().map((img) => img.decode())).then(
    (all) => new Promise((resolve) => requestAnimationFrame(() => {
      if (!done && all.length) {
        layer.dataset.drawn = "true";
        performance.mark("firstframe-drawn");
      }
      resolve(!done && all.length > 0);
    })),
    () => false);
  const resized = new ResizeObserver(() => done || place());
  resized.observe(box);
  const remove = () => {
    done = true;
    resized.disconnect();
    layer.remove();
  };
  return { drawn, remove };
}
