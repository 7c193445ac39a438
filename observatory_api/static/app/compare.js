// Compare: two or more regions side by side, their series on shared axes (the Strategic Plan's
// "twin regions", F1). The regions are in the URL (#/compare?ids=FRA,KEN&ind=soc_stock).
import { el, fmt, getJSON, select } from "./api.js";
import { seriesChart } from "./charts.js";
import { t } from "./i18n.js";

export async function show(box, route, ctx) {
  const p = route.params;
  const inds = [...ctx.indicators.values()].filter((i) => i.id !== "sh_class");
  const info = inds.find((i) => i.id === p.ind) || inds[0];
  const stratum = info.strata.includes(p.stratum) ? p.stratum : "all";
  const [regions, countries] = await Promise.all([getJSON("/v1/regions", { level: "region" }), getJSON("/v1/regions", { level: "country" })]);
  const all = [...regions.regions, ...countries.regions];
  const known = new Set(all.map((r) => r.region_id));
  let ids = (p.ids || "").split(",").filter((x) => known.has(x));
  if (ids.length === 0) {
    const r = await getJSON("/v1/rankings/progress_4p1000", { level: "country" });
    const ok = r.rows.filter((x) => !x.missing);
    ids = ok.length > 1 ? [ok[0].region_id, ok.at(-1).region_id] : ok.map((x) => x.region_id);
  }
  const go = (patch) => ctx.go("compare", null, { ids: ids.join(","), ind: info.id, stratum, ...patch });
  const series = await Promise.all(ids.map((id) =>
    getJSON(`/v1/regions/${encodeURIComponent(id)}/indicators/${info.id}`, { stratum })));
  const summaries = await Promise.all(ids.map((id) => getJSON(`/v1/regions/${encodeURIComponent(id)}/summary`, { stratum })));
  const search = el("input", { id: "compare-add", list: "compare-regions", autocomplete: "off", placeholder: t("region_search") });
  const options = el("datalist", { id: "compare-regions" }, all.map((r) => el("option", { value: r.region_id }, r.name)));
  box.append(el("h1", {}, t("compare_title")), el("p", { class: "intro" }, t("compare_intro")),
    el("div", { class: "controls" },
      select(t("indicator"), inds.map((i) => [i.id, i.title]), info.id, (v) => go({ ind: v }), "compare-indicator"),
      select(t("stratum"), info.strata.map((s) => [s, t(`stratum_${s}`)]), stratum, (v) => go({ stratum: v }), "compare-stratum"),
      el("form", { class: "field", onsubmit: (e) => {
        e.preventDefault();
        if (known.has(search.value) && !ids.includes(search.value)) go({ ids: [...ids, search.value].join(",") });
      } }, el("label", { for: "compare-add" }, t("add_region")), search, options, el("button", { type: "submit" }, "+"))),
    el("ul", { class: "chips" }, series.map((s) => el("li", {}, el("a", { href: ctx.href("region", s.region_id) }, s.name), " ",
      el("button", { type: "button", "aria-label": t("remove", { name: s.name }),
        onclick: () => go({ ids: ids.filter((x) => x !== s.region_id).join(",") }) }, "×")))));
  const charts = el("div", { class: "panel" });
  box.append(charts);
  seriesChart(charts, { title: info.title, unit: info.unit, lines: series.map((s) => ({ label: s.name, points: s.series })) });
  const keys = [["soc_stock", "fig_mean"], ["soc_change_rate_permille", "fig_rate"], ["soc_stock_change", "change"]];
  charts.append(el("table", { class: "compare" },
    el("thead", {}, el("tr", {}, el("td"), summaries.map((s) => el("th", { scope: "col" }, s.name)))),
    el("tbody", {}, keys.map(([k, label]) => el("tr", {}, el("th", { scope: "row" }, t(label, { baseline: ctx.baseline })),
      summaries.map((s) => el("td", { class: "num" }, fmt(s.values[k]?.value, s.values[k]?.unit))))))));
  return {};
}
