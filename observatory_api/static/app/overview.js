// The overview (the Strategic Plan's F3 page): global headline figures with units and bounds,
// the data's freshness, a world choropleth of one indicator by country, the best and worst
// countries, and the place of the Initiative's KPI panel.
import { el, fmt, getJSON, pct, select } from "./api.js";
import { SH_COLOURS, sharesBar } from "./charts.js";
import { t } from "./i18n.js";
import { SAFE_CMAP, legendBox } from "./legend.js";
import { worldChoropleth } from "./worldmap.js";

const CHOROPLETH = ["soc_change_rate_permille", "progress_4p1000", "soc_stock", "soc_stock_change", "soc_clay_ratio"];

function card(key, label, value, bounds, definition) {
  return el("div", { class: "card", "data-figure": key },
    el("h3", {}, label, definition ? el("span", { class: "info", tabindex: "0", role: "note", title: definition,
      "aria-label": definition }, "i") : null),
    el("p", { class: "figure" }, value),
    bounds ? el("p", { class: "bounds" }, bounds) : null);
}

export async function show(box, route, ctx) {
  const ind = CHOROPLETH.includes(route.params.ind) ? route.params.ind : CHOROPLETH[0];
  const basemap = getJSON("/v1/basemap/country.geojson");
  const legendP = getJSON(`/v1/tiles/${ind}/legend`, { colormap: SAFE_CMAP[ind] });
  const [s, progress, best, worst] = await Promise.all([
    getJSON("/v1/regions/global/summary"),
    getJSON("/v1/rankings/progress_4p1000", { level: "country" }),
    getJSON(`/v1/rankings/${ind}`, { level: "country", order: "desc" }),
    getJSON(`/v1/rankings/${ind}`, { level: "country", order: "asc" }),
  ]);
  const v = s.values;
  const def = (id) => ctx.indicators.get(id)?.definition;
  const bounds = (a, b, unit) => `${fmt(v[a]?.value, unit)} – ${fmt(v[b]?.value, unit)}`;
  const withData = progress.rows.filter((r) => !r.missing);
  const onPath = withData.filter((r) => r.value >= 1).length;
  const area = v.valid_area_km2?.value;
  const inc = s.trend.trend_sig_increase_share?.value, dec = s.trend.trend_sig_decrease_share?.value;
  box.append(el("h1", {}, t("overview_title")),
    el("p", { class: "intro" }, t("overview_intro", { epoch: s.epoch, baseline: s.baseline_epoch })));
  const cards = el("section", { class: "cards", "aria-label": t("summary") },
    card("soc_stock_total", t("fig_total"), fmt(v.soc_stock_total.value, v.soc_stock_total.unit),
      bounds("soc_stock_total_q05", "soc_stock_total_q95", v.soc_stock_total.unit), def("soc_stock_total")),
    card("soc_stock", t("fig_mean"), fmt(v.soc_stock.value, v.soc_stock.unit),
      bounds("soc_stock_q05", "soc_stock_q95", v.soc_stock.unit), def("soc_stock")),
    card("soc_stock_change", t("fig_change", { baseline: s.baseline_epoch }),
      fmt(v.soc_stock_change.value, v.soc_stock_change.unit), null, def("soc_stock_change")),
    card("soc_change_rate_permille", t("fig_rate"), fmt(v.soc_change_rate_permille.value, v.soc_change_rate_permille.unit),
      fmt(v.soc_change_rate.value, v.soc_change_rate.unit), def("soc_change_rate_permille")),
    card("progress_4p1000", t("fig_progress"), pct(s.progress_4p1000.value), null, t("progress_def")),
    card("on_path", t("fig_on_path"), t("fig_on_path_value", { n: onPath, total: withData.length }), null, t("on_path_def")),
    card("sig_increase", t("fig_increase"), fmt(inc * area, "km2"), pct(inc), t("sig_def")),
    card("sig_decrease", t("fig_decrease"), fmt(dec * area, "km2"), pct(dec), t("sig_def")),
    el("div", { class: "card wide", "data-figure": "sh_class_shares" }, el("h3", {}, t("fig_sh"),
      el("span", { class: "info", tabindex: "0", role: "note", title: def("sh_class"), "aria-label": def("sh_class") }, "i")),
    sharesBar(s.sh_class_shares, SH_COLOURS)));
  const st = ctx.status;
  const fresh = el("section", { class: "panel", "aria-labelledby": "fresh-h" },
    el("h2", { id: "fresh-h" }, t("freshness")),
    el("dl", { class: "facts" },
      el("dt", {}, t("newest_item")), el("dd", { "data-fact": "newest_source_item" }, st.newest_source_item || "–"),
      el("dt", {}, t("snapshot")), el("dd", {}, el("code", { "data-fact": "snapshot_id" }, st.snapshot_id)),
      el("dt", {}, t("committed")), el("dd", { "data-fact": "committed_at" }, st.committed_at)));
  const info = ctx.indicators.get(ind);
  const mapBox = el("div", { class: "map small", role: "region", "aria-label": t("choropleth_title", { indicator: info.title, epoch: best.epoch }) });
  const legendSlot = el("div", { class: "legend-slot" });
  const picker = select(t("indicator"), CHOROPLETH.map((i) => [i, ctx.indicators.get(i).title]), ind,
    (value) => ctx.go("overview", null, { ...route.params, ind: value }), "overview-indicator");
  const top = (rows) => el("ol", {}, rows.filter((r) => !r.missing).slice(0, 5).map((r) =>
    el("li", {}, el("a", { href: ctx.href("region", r.region_id) }, r.name), ` ${fmt(r.value, r.unit)}`)));
  const world = el("section", { class: "panel", "aria-labelledby": "world-h" },
    el("h2", { id: "world-h" }, t("choropleth_title", { indicator: info.title, epoch: best.epoch })),
    picker, mapBox, legendSlot,
    el("div", { class: "two" },
      el("div", {}, el("h3", {}, t("best"), " ", el("small", {}, t("best_worst_by", { indicator: info.title, epoch: best.epoch }))), top(best.rows)),
      el("div", {}, el("h3", {}, t("worst"), " ", el("small", {}, t("best_worst_by", { indicator: info.title, epoch: best.epoch }))), top(worst.rows))));
  const kpi = el("section", { class: "panel kpi", id: "kpi-panel", "aria-labelledby": "kpi-h" },
    el("h2", { id: "kpi-h" }, t("kpi_title")), el("p", {}, t("kpi_placeholder")),
    el("p", {}, el("a", { href: ctx.href("kpis") }, t("kpi_open"))));
  box.append(cards, el("div", { class: "two" }, fresh, kpi), world);

  const ready = (async () => {
    const [legend, geo] = await Promise.all([legendP, basemap]);
    legendSlot.append(legendBox(legend, info.title));
    worldChoropleth(mapBox, geo, best.rows, legend.stops, {
      label: t("choropleth_title", { indicator: info.title, epoch: best.epoch }),
      onPick: (id) => ctx.go("region", id, {}),
    });
    performance.mark("choropleth-drawn");
    mapBox.dataset.state = "idle";
  })();
  return { ready };
}
