// Time-series charts (uPlot): one line per stratum or region, its q05-q95 band, and the
// 4 per 1000 path. Colours: Okabe-Ito (readable with every common colour-vision deficiency),
// and each line also has its own dash pattern.
import uPlot from "/static/vendor/uplot/uPlot.esm.js";
import { el, fmt, unitLabel } from "./api.js";
import { t } from "./i18n.js";

export const OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
const DASHES = [[], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [1, 2], [12, 6]];

function alpha(hex, a) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r},${g},${b},${a})`;
}

// lines: [{label, points: [{epoch, value, lower?, upper?}]}]; path: [{epoch, value}] or null.
export function seriesChart(container, { title, unit, lines, path = null, width = 520, height = 240 }) {
  const epochs = [...new Set(lines.flatMap((l) => l.points.map((p) => p.epoch)))].sort((a, b) => a - b);
  const at = (pts, key) => epochs.map((e) => {
    const p = pts.find((q) => q.epoch === e);
    return p && p[key] !== null && p[key] !== undefined ? p[key] : null;
  });
  const data = [epochs];
  const series = [{ label: t("epoch") }];
  const bands = [];
  lines.forEach((line, i) => {
    const colour = OKABE_ITO[i % OKABE_ITO.length];
    data.push(at(line.points, "value"));
    series.push({ label: line.label, stroke: colour, width: 2, dash: DASHES[i % DASHES.length],
      points: { show: true, size: 6 }, value: (u, v) => (v === null ? "–" : fmt(v, unit)) });
    const idx = data.length - 1;
    if (line.points.some((p) => p.lower !== null && p.lower !== undefined)) {
      data.push(at(line.points, "upper"), at(line.points, "lower"));
      series.push({ label: `${line.label} q95`, stroke: alpha(colour, 0.35), width: 1, value: (u, v) => (v === null ? "–" : fmt(v, unit)) },
        { label: `${line.label} q05`, stroke: alpha(colour, 0.35), width: 1, value: (u, v) => (v === null ? "–" : fmt(v, unit)) });
      bands.push({ series: [idx + 1, idx], fill: alpha(colour, 0.12) }, { series: [idx, idx + 2], fill: alpha(colour, 0.12) });
    }
  });
  if (path) {
    data.push(epochs.map((e) => path.find((p) => p.epoch === e)?.value ?? null));
    series.push({ label: t("path_4p1000"), stroke: "#000000", width: 1.5, dash: [6, 6], value: (u, v) => (v === null ? "–" : fmt(v, unit)) });
  }
  const u = unitLabel(unit);
  const fig = el("figure", { class: "chart" }, el("figcaption", {}, u ? `${title} (${u})` : title));
  container.append(fig);
  const plot = new uPlot({
    width, height, bands,
    series,
    scales: { x: { time: false } },
    axes: [
      { values: (self, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : "")) },
      { size: 64, values: (self, ticks) => ticks.map((v) => fmt(v, "1")) },
    ],
    legend: { live: true },
  }, data, fig);
  fig.setAttribute("role", "group");
  fig.dataset.lines = String(lines.length);
  return plot;
}

// The 4 per 1000 path: the baseline value raised by 4 per mille of it per year.
export function path4p1000(points, baseline) {
  const b = points.find((p) => p.epoch === baseline);
  if (!b || b.value === null) return null;
  return points.map((p) => ({ epoch: p.epoch, value: b.value * (1 + 0.004 * (p.epoch - baseline)) }));
}

// A horizontal stacked bar of shares (soil-health classes), each segment labelled in text.
export function sharesBar(shares, colours) {
  const bar = el("div", { class: "shares", role: "list" });
  Object.entries(shares).forEach(([k, v], i) => {
    const label = `${t(`sh_${k}`)}: ${v === null ? t("no_data") : `${(v * 100).toFixed(0)} %`}`;
    bar.append(el("div", { role: "listitem", class: "share", title: label,
      style: `flex:${Math.max(v || 0, 0)};background:${colours[i % colours.length]}` }));
  });
  const keys = el("ul", { class: "share-keys" }, Object.entries(shares).map(([k, v], i) =>
    el("li", {}, el("span", { class: "swatch", style: `background:${colours[i % colours.length]}` }),
      `${t(`sh_${k}`)}: ${v === null ? t("no_data") : `${(v * 100).toFixed(0)} %`}`)));
  return el("div", {}, bar, keys);
}

// Brown to blue-green (ColorBrewer BrBG 4), colour-blind safe, for degraded ... very good.
export const SH_COLOURS = ["#a6611a", "#dfc27d", "#80cdc1", "#018571"];
