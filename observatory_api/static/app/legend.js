// The legend of an indicator's colours, from /v1/tiles/{indicator}/legend (no map library: the
// overview's SVG choropleth and the MapLibre pages share it).
import { el, fmt, unitLabel } from "./api.js";
import { t } from "./i18n.js";

// Colour-blind-safe ramps for choropleths and maps (the API's defaults red-green ones are not).
export const SAFE_CMAP = { progress_4p1000: "rdbu", soc_clay_ratio: "viridis" };

// A gradient with values and unit, or classes.
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
