// A region's page, for any level of the hierarchy: breadcrumb, summary cards, series of stock,
// change and rate per land-cover stratum with q05-q95 bands and the 4 per 1000 path, soil-health
// class shares, its children ranked (sortable, CSV), and provenance.
import { el, fmt, getJSON, pct, select, url } from "./api.js";
import { SH_COLOURS, path4p1000, seriesChart, sharesBar } from "./charts.js";
import { t } from "./i18n.js";
import { rankTable } from "./rankings.js";
import { sdgPanel } from "./sdg.js";

const SERIES = ["soc_stock", "soc_stock_change", "soc_change_rate"];

async function ancestors(family) {
  const chain = [];
  let parent = family.parent;
  while (parent && chain.length < 6) {
    chain.unshift(parent);
    parent = parent.parent_id ? (await getJSON(`/v1/regions/${encodeURIComponent(parent.parent_id)}`)) : null;
    if (parent) parent = { region_id: parent.region_id, name: parent.name, parent_id: parent.parent_id };
  }
  return chain;
}

export async function show(box, route, ctx) {
  const id = route.arg || "global";
  const p = route.params;
  const tableInds = [...ctx.indicators.values()].filter((i) => i.id !== "sh_class");
  const ind = tableInds.some((i) => i.id === p.ind) ? p.ind : "soc_stock";
  const strata = ctx.indicators.get("soc_stock").strata;
  const stratum = strata.includes(p.stratum) ? p.stratum : "all";
  const enc = encodeURIComponent(id);
  const [family, summary] = await Promise.all([
    getJSON(`/v1/regions/${enc}`), getJSON(`/v1/regions/${enc}/summary`, { stratum })]);
  const series = await Promise.all(SERIES.map((s) => Promise.all(strata.map((st) =>
    getJSON(`/v1/regions/${enc}/indicators/${s}`, { stratum: st })))));
  const chain = await ancestors(family);
  const childLevel = family.children[0]?.level;
  const ranking = childLevel ? await getJSON(`/v1/rankings/${ind}`, { level: childLevel, parent: id, stratum }) : null;

  const crumbs = el("nav", { class: "breadcrumb", "aria-label": t("breadcrumb") }, el("ol", {},
    ...chain.map((a) => el("li", {}, el("a", { href: ctx.href("region", a.region_id, { ind, stratum }) }, a.name))),
    el("li", {}, el("span", { "aria-current": "page" }, family.name))));
  box.append(crumbs, el("h1", {}, t("region_title", { name: family.name }), " ",
    el("small", {}, t(`one_${family.level}`))));

  const v = summary.values;
  const fig = (key, label, value, extra, def) => el("div", { class: "card", "data-figure": key },
    el("h3", {}, label, def ? el("span", { class: "info", tabindex: "0", role: "note", title: def, "aria-label": def }, "i") : null),
    el("p", { class: "figure" }, value), extra ? el("p", { class: "bounds" }, extra) : null);
  const def = (i) => ctx.indicators.get(i)?.definition;
  box.append(
    el("div", { class: "controls" },
      select(t("stratum"), strata.map((s) => [s, t(`stratum_${s}`)]), stratum, (s) => ctx.go("region", id, { ind, stratum: s }), "region-stratum")),
    el("section", { class: "cards", "aria-label": t("summary") },
      fig("soc_stock", t("fig_mean"), fmt(v.soc_stock?.value, v.soc_stock?.unit),
        `${fmt(v.soc_stock_q05?.value, v.soc_stock?.unit)} – ${fmt(v.soc_stock_q95?.value, v.soc_stock?.unit)}`, def("soc_stock")),
      fig("soc_stock_total", t("fig_total"), fmt(v.soc_stock_total?.value, v.soc_stock_total?.unit), null, def("soc_stock_total")),
      fig("soc_stock_change", t("fig_change", { baseline: summary.baseline_epoch }), fmt(v.soc_stock_change?.value, v.soc_stock_change?.unit), null, def("soc_stock_change")),
      fig("soc_change_rate_permille", t("fig_rate"), fmt(v.soc_change_rate_permille?.value, v.soc_change_rate_permille?.unit),
        fmt(v.soc_change_rate?.value, v.soc_change_rate?.unit), def("soc_change_rate_permille")),
      fig("progress_4p1000", t("fig_progress"), pct(summary.progress_4p1000?.value), null, t("progress_def")),
      el("div", { class: "card wide", "data-figure": "sh_class_shares" }, el("h3", {}, t("fig_sh")),
        sharesBar(summary.sh_class_shares, SH_COLOURS))));

  const sdg = await sdgPanel(id, p.sdg, (x) => ctx.go("region", id, { ind, stratum, sdg: x }));
  if (sdg) box.append(sdg);

  const charts = el("section", { class: "panel charts", "aria-labelledby": "series-h" }, el("h2", { id: "series-h" }, t("series")));
  box.append(charts);
  SERIES.forEach((s, i) => {
    const info = ctx.indicators.get(s);
    const lines = series[i].map((r) => ({ label: t(`stratum_${r.stratum}`), points: r.series }))
      .filter((l) => l.points.some((q) => q.value !== null));
    const path = s === "soc_stock" ? path4p1000(series[i][0].series, ctx.baseline) : null;
    seriesChart(charts, { title: info.title, unit: info.unit, lines, path });
  });
  charts.append(el("p", {}, el("a", { class: "button", id: "series-csv", download: `${id}_${ind === "sh_class" ? "soc_stock" : ind}_${stratum}.csv`,
    href: url(`/v1/regions/${enc}/indicators/${ind}`, { stratum, format: "csv" }) },
  t("series_csv", { indicator: ctx.indicators.get(ind).title, stratum: t(`stratum_${stratum}`) }))));

  if (ranking) {
    const sec = el("section", { class: "panel", "aria-labelledby": "children-h" },
      el("h2", { id: "children-h" }, t("children", { level: t(`level_${childLevel}`), indicator: ctx.indicators.get(ind).title })),
      select(t("indicator"), tableInds.map((i) => [i.id, i.title]), ind, (x) => ctx.go("region", id, { ind: x, stratum }), "children-indicator"));
    sec.append(rankTable(ranking, ctx, `${id}_children_${ind}_${stratum}.csv`));
    box.append(sec);
  }
  const stock = series[0][0].series;
  box.append(el("section", { class: "panel", "aria-labelledby": "prov-h" },
    el("h2", { id: "prov-h" }, t("provenance")),
    el("dl", { class: "facts" },
      el("dt", {}, t("snapshot")), el("dd", {}, el("code", { "data-fact": "snapshot_id" }, summary.snapshot_id)),
      el("dt", {}, t("committed")), el("dd", {}, summary.freshness.committed_at),
      el("dt", {}, t("input_snapshot")), el("dd", {}, el("code", {}, summary.freshness.input_snapshot || "–")),
      el("dt", {}, t("source_dates")), el("dd", {}, el("ul", {}, stock.map((q) => el("li", {}, `${q.epoch}: ${q.source_latest || "–"}`))))),
    el("p", {}, t("rothc_note"), " ", el("a", { href: ctx.href("map") }, t("nav_map")))));
  return {};
}
