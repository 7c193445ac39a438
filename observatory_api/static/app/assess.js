// Area assessment: draw a polygon on the map (click its corners, Finish) or paste/upload GeoJSON;
// /v1/aoi/assess compares it with a same-land-cover control ring.
import { el, errorBox, fmt, pct, postJSON } from "./api.js";
import { createMap, fitBox, whenLoaded } from "./geo.js";
import { t } from "./i18n.js";

function polygonOf(text) {
  const g = JSON.parse(text);
  if (g.type === "FeatureCollection") return g.features[0]?.geometry ?? g;
  return g.type === "Feature" ? g.geometry : g;
}

function result(a) {
  const u = a.units;
  const row = (label, key, unit, f = fmt) => el("tr", {}, el("th", { scope: "row" }, label),
    el("td", { class: "num" }, f(a.project[key], unit)), el("td", { class: "num" }, f(a.control[key], unit)));
  return el("section", { class: "panel", id: "assess-result", "aria-labelledby": "assess-h" },
    el("h2", { id: "assess-h" }, `${a.start_epoch}–${a.end_epoch}`),
    el("table", {}, el("thead", {}, el("tr", {}, el("td"), el("th", { scope: "col" }, t("project")), el("th", { scope: "col" }, t("control")))),
      el("tbody", {},
        row(t("area"), "area_km2", u.area), row(t("stock_start"), "stock_start", u.stock),
        row(t("stock_end"), "stock_end", u.stock), row(t("change"), "change", u.change),
        row(t("rate"), "rate", u.rate), row(t("fig_rate"), "rate_permille", u.rate_permille),
        row(t("fig_progress"), "progress_4p1000", u.progress_4p1000, (v) => pct(v)))),
    el("p", {}, `${t("rate_difference")}: `, el("strong", {}, fmt(a.rate_difference, u.rate))),
    el("p", {}, `${t("on_path")}: `, el("strong", {}, a.on_4p1000_path ? t("yes") : t("no"))));
}

export async function show(box, route, ctx) {
  const area = el("textarea", { id: "aoi-geojson", rows: 6, cols: 50, spellcheck: "false" });
  const file = el("input", { type: "file", id: "aoi-file", accept: ".geojson,.json,application/geo+json" });
  const out = el("div", { "aria-live": "polite" });
  const mapBox = el("div", { class: "map small", role: "region", "aria-label": t("assess_title") });
  let drawing = false;
  let ring = [];
  const drawBtn = el("button", { type: "button" }, t("draw"));
  const finishBtn = el("button", { type: "button" }, t("finish"));
  const clearBtn = el("button", { type: "button" }, t("clear"));
  const run = async () => {
    out.replaceChildren(el("p", {}, t("loading")));
    try {
      out.replaceChildren(result(await postJSON("/v1/aoi/assess", { geometry: polygonOf(area.value) })));
    } catch (e) {
      out.replaceChildren(errorBox(e instanceof SyntaxError ? new Error(`${t("geojson")}: ${e.message}`) : e));
    }
  };
  box.append(el("h1", {}, t("assess_title")), el("p", { class: "intro" }, t("assess_intro")),
    el("div", { class: "two" },
      el("div", {}, mapBox, el("div", { class: "controls" }, drawBtn, finishBtn, clearBtn)),
      el("form", { class: "stack", onsubmit: (e) => { e.preventDefault(); run(); } },
        el("label", { class: "field" }, el("span", {}, t("geojson")), area),
        el("label", { class: "field" }, el("span", {}, t("upload")), file),
        el("button", { type: "submit" }, t("assess")))), out);
  const map = createMap(mapBox, { zoom: 0.4 });
  const show = () => {
    const coords = ring.length > 2 ? [...ring, ring[0]] : ring;
    const data = { type: "FeatureCollection", features: ring.length ? [{ type: "Feature", properties: {},
      geometry: ring.length > 2 ? { type: "Polygon", coordinates: [coords] } : { type: "MultiPoint", coordinates: coords } }] : [] };
    map.getSource("aoi")?.setData(data);
  };
  const ready = whenLoaded(map).then(() => {
    map.addSource("aoi", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "aoi-fill", type: "fill", source: "aoi", paint: { "fill-color": "#0072B2", "fill-opacity": 0.3 } });
    map.addLayer({ id: "aoi-line", type: "line", source: "aoi", paint: { "line-color": "#0072B2", "line-width": 2 } });
    map.addLayer({ id: "aoi-pts", type: "circle", source: "aoi", paint: { "circle-color": "#0072B2", "circle-radius": 4 } });
    return new Promise((resolve) => map.once("idle", resolve));
  }).then(() => { mapBox.dataset.state = "idle"; });
  map.on("click", (e) => {
    if (!drawing) return;
    ring.push([Number(e.lngLat.lng.toFixed(4)), Number(e.lngLat.lat.toFixed(4))]);
    show();
  });
  drawBtn.addEventListener("click", () => { drawing = true; ring = []; show(); });
  finishBtn.addEventListener("click", () => {
    drawing = false;
    if (ring.length > 2) {
      area.value = JSON.stringify({ type: "Polygon", coordinates: [[...ring, ring[0]]] });
      run();
    }
  });
  clearBtn.addEventListener("click", () => { drawing = false; ring = []; area.value = ""; show(); out.replaceChildren(); });
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    area.value = await f.text();
    try {
      const g = polygonOf(area.value);
      const pts = (g.type === "Polygon" ? g.coordinates : g.coordinates.flat()).flat();
      const xs = pts.map((q) => q[0]), ys = pts.map((q) => q[1]);
      fitBox(map, [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]);
    } catch {
      /* the API's answer will say what is wrong */
    }
    run();
  });
  return { ready, dispose: () => map.remove() };
}
