// The Initiative's KPIs (objective F3): the Strategic Plan's 24 objectives, grouped by goal, each
// with its baseline (2020) and targets (2030, 2050) as written, and its KPIs: latest value with
// unit, date and source, progress bars towards the numeric targets, the trend and a sparkline of
// the series (GET /v1/kpis, GET /v1/kpis/{id}).
import { el, getJSON, num, unitLabel } from "./api.js";
import { t } from "./i18n.js";

const GOALS = ["A", "B", "C", "D", "E", "F"];

function progressBar(label, share) {
  if (share === null || share === undefined) return null;
  const shown = Math.max(0, Math.min(1, share));
  return el("div", { class: "progress", "data-progress": String(share) },
    el("span", { class: "progress-label" }, `${label}: ${num(100 * share, 3)} %`),
    el("span", { class: "progress-track", role: "progressbar", "aria-label": label,
      "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(100 * shown)) },
    el("span", { class: "progress-fill", style: `width:${100 * shown}%` })));
}

// A sparkline as inline SVG: the series' values, scaled to their own range.
function sparkline(series) {
  const v = series.map((p) => p.value).filter((x) => Number.isFinite(x));
  if (v.length < 2) return null;
  const lo = Math.min(...v), hi = Math.max(...v), span = hi - lo || 1;
  const pts = v.map((x, i) => `${(100 * i) / (v.length - 1)},${28 - (24 * (x - lo)) / span}`).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 100 30");
  svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("kpi_spark", { n: v.length, lo: num(lo), hi: num(hi) }));
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", pts);
  svg.append(line);
  return svg;
}

function kpiRow(k, sparks) {
  const latest = k.latest;
  const unit = unitLabel(k.unit);
  const value = latest ? `${num(latest.value)}${unit ? ` ${unit}` : ""}` : t("kpi_no_value");
  const row = el("li", { class: "kpi-row", "data-kpi": k.id, "data-value": latest ? String(latest.value) : "" },
    el("p", { class: "kpi-name", title: k.definition }, k.name),
    el("p", { class: "kpi-value" }, el("strong", {}, value),
      latest ? el("span", { class: "muted" }, ` (${latest.date}; ${latest.source})`) : null),
    progressBar(t("kpi_progress_2030"), k.progress_2030),
    progressBar(t("kpi_progress_2050"), k.progress_2050),
    k.trend ? el("p", { class: "muted" }, t("kpi_trend", { slope: num(k.trend.slope_per_year), unit: k.trend.unit,
      dir: k.trend.direction, n: k.trend.n })) : null);
  if (k.n_points >= 2) sparks.push([k.id, row]);
  return row;
}

function objectiveCard(o, sparks) {
  return el("article", { class: "objective", "data-objective": o.code },
    el("h3", {}, `${o.code} · ${o.title}`, el("span", { class: "muted" }, ` (${o.facility})`)),
    el("p", {}, o.aim),
    el("details", {}, el("summary", {}, t("kpi_text")),
      el("dl", {}, el("dt", {}, t("kpi_baseline")), el("dd", {}, o.baseline_2020 || "–"),
        el("dt", {}, t("kpi_target_2030")), el("dd", {}, o.target_2030 || "–"),
        el("dt", {}, t("kpi_target_2050")), el("dd", {}, o.target_2050 || "–"))),
    el("ul", { class: "kpi-list" }, o.kpis.map((k) => kpiRow(k, sparks))));
}

export async function show(box) {
  const body = await getJSON("/v1/kpis");
  const sparks = [];
  box.append(el("h1", {}, t("kpi_title")),
    el("p", {}, t("kpi_intro", { n: body.n_objectives, k: body.n_kpis, snapshot: body.snapshot_id })));
  for (const g of GOALS) {
    const objs = body.objectives.filter((o) => o.goal === g);
    if (!objs.length) continue;
    box.append(el("section", { class: "goal", "aria-labelledby": `goal-${g}` },
      el("h2", { id: `goal-${g}` }, t(`goal_${g}`)),
      el("div", { class: "objectives" }, objs.map((o) => objectiveCard(o, sparks)))));
  }
  const ready = Promise.all(sparks.map(async ([id, row]) => {
    const s = await getJSON(`/v1/kpis/${encodeURIComponent(id)}`);
    const svg = sparkline(s.series || []);
    if (svg) row.querySelector(".kpi-name").after(svg);
  }));
  return { ready };
}
