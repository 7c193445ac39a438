// The overview's world choropleth, drawn without a map library: the basemap's countries
// (/v1/basemap/country.geojson) as SVG paths in the Equal Earth projection, an equal-area
// projection (so a country's share of the picture is its share of the land), each filled with
// its value's colour on the legend's ramp. No WebGL and no worker: it draws in milliseconds,
// the browser's own hit-testing opens a country's page, and each country says its name and
// value on hover (<title>).
//
// Equal Earth: B. Šavrič, T. Patterson, B. Jenny (2018), "The Equal Earth map projection",
// International Journal of Geographical Information Science 33(3), 454-465, equations 1-2:
//   sin θ = (√3/2) sin φ;  x = 2√3 λ cos θ / (3 (9 A4 θ⁸ + 7 A3 θ⁶ + 3 A2 θ² + A1));
//   y = A4 θ⁹ + A3 θ⁷ + A2 θ³ + A1 θ;  A1 = 1.340264, A2 = -0.081106, A3 = 0.000893, A4 = 0.003796.
import { colourOf, fmt } from "./api.js";

const A1 = 1.340264, A2 = -0.081106, A3 = 0.000893, A4 = 0.003796, M = Math.sqrt(3) / 2;
const RAD = Math.PI / 180;
const SVG = "http://www.w3.org/2000/svg";
export const OCEAN = "#c9d6df";
export const LAND = "#bdbdbd";
export const BORDER = "#4d4d4d";

// Longitude, latitude (degrees) -> Equal Earth x, y (unit sphere; y up).
export function equalEarth(lon, lat) {
  const theta = Math.asin(M * Math.sin(lat * RAD));
  const t2 = theta * theta, t6 = t2 * t2 * t2;
  const x = (lon * RAD * Math.cos(theta)) / (M * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)));
  const y = theta * (A1 + A2 * t2 + t6 * (A3 + A4 * t2));
  return [x, y];
}

const [XMAX] = equalEarth(180, 0);
const [, YMAX] = equalEarth(0, 90);

function ring(points, out) {
  for (let i = 0; i < points.length; i++) {
    const [x, y] = equalEarth(points[i][0], points[i][1]);
    out.push(`${i ? "L" : "M"}${x.toFixed(4)} ${(-y).toFixed(4)}`);
  }
  out.push("Z");
}

// The SVG path data of a (Multi)Polygon geometry (even-odd rings, as GeoJSON holes are).
export function pathData(geometry) {
  const out = [];
  const polys = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  for (const poly of polys) for (const r of poly) ring(r, out);
  return out.join("");
}

function node(tag, attrs) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  return n;
}

// The outline of the whole Earth (the projection's boundary: the meridians ±180°).
function sphere() {
  const pts = [];
  for (let lat = -90; lat <= 90; lat += 5) pts.push([180, lat]);
  for (let lat = 90; lat >= -90; lat -= 5) pts.push([-180, lat]);
  const out = [];
  ring(pts, out);
  return out.join("");
}

// The choropleth: `geo` the basemap FeatureCollection, `rows` a /v1/rankings answer's rows,
// `stops` the legend's. Countries without a value stay grey. `onPick(id)` on click.
export function worldChoropleth(box, geo, rows, stops, { label, onPick }) {
  const byId = new Map(rows.filter((r) => !r.missing).map((r) => [r.region_id, r]));
  const svg = node("svg", {
    viewBox: `${-XMAX - 0.02} ${-YMAX - 0.02} ${2 * XMAX + 0.04} ${2 * YMAX + 0.04}`,
    role: "img", "aria-label": label, class: "worldmap", preserveAspectRatio: "xMidYMid meet",
  });
  svg.append(node("path", { d: sphere(), fill: OCEAN, stroke: BORDER, "stroke-width": "0.004" }));
  const g = node("g", { stroke: BORDER, "stroke-width": "0.003", "stroke-linejoin": "round" });
  for (const f of geo.features) {
    const id = f.properties.id;
    const row = byId.get(id);
    const fill = row ? colourOf(stops, row.value) || LAND : LAND;
    const p = node("path", { d: pathData(f.geometry), fill, "fill-rule": "evenodd", "data-region": id });
    const title = node("title", {});
    title.textContent = row ? `${row.name}: ${fmt(row.value, row.unit)}` : f.properties.name;
    p.append(title);
    g.append(p);
  }
  svg.append(g);
  svg.addEventListener("click", (e) => {
    const id = e.target.closest?.("[data-region]")?.getAttribute("data-region");
    if (id && onPick) onPick(id);
  });
  box.replaceChildren(svg);
  return svg;
}
