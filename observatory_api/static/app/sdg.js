// The "SDG 15.3.1" panel of a region page (#20): the share of land degraded in a period (for a
// reporting period, its status against the baseline), the areas and shares of each class for the
// indicator and its three sub-indicators (land cover, land productivity, SOC), the land area
// (without inland water), the period's years and the method, all as GET
// /v1/regions/{id}/sdg15_3_1 answers them. Shown only when the store holds SDG 15.3.1
// (/v1/indicators lists it).
import { el, fmt, getJSON, pct, select } from "./api.js";
import { t } from "./i18n.js";

// Trends.Earth's colours (observatory_api/render.py "sdg"), grey for no data.
export const SDG_COLOURS = { degraded: "#9b2779", stable: "#ffffe0", improved: "#006500", no_data: "#bbbbbb" };
const CLASSES = ["degraded", "stable", "improved", "no_data"];

function bar(classes) {
  const b = el("div", { class: "shares", role: "list", "data-sdg-bar": "" });
  CLASSES.forEach((c) => {
    const v = classes[c].share;
    const label = `${t(`sdg_${c}`)}: ${pct(v)}`;
    b.append(el("div", { role: "listitem", class: "share", title: label,
      style: `flex:${Math.max(v || 0, 0)};background:${SDG_COLOURS[c]}` }));
  });
  return b;
}

function row(key, label, classes) {
  return el("tr", { "data-sdg-layer": key }, el("th", { scope: "row" }, label),
    ...CLASSES.map((c) => el("td", { "data-class": c, "data-value": classes[c].share ?? "", "data-area": classes[c].area_km2 ?? "" },
      pct(classes[c].share), el("br"), el("small", {}, fmt(classes[c].area_km2, "km2")))));
}

export async function sdgPanel(id, period, onPeriod) {
  const inds = await getJSON("/v1/indicators");
  if (!inds.sdg15_3_1) return null;
  const s = await getJSON(`/v1/regions/${encodeURIComponent(id)}/sdg15_3_1`, period ? { period } : {});
  const kind = s.kind === "baseline" ? t("sdg_baseline") : t("sdg_reporting", { baseline: s.baseline });
  const table = el("table", { class: "rank sdg-table" },
    el("caption", {}, t("sdg_table_caption")),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("sdg_layer")),
      ...CLASSES.map((c) => el("th", { scope: "col" }, el("span", { class: "swatch", style: `background:${SDG_COLOURS[c]}` }), t(`sdg_${c}`))))),
    el("tbody", {},
      row("result", t("sdg_result"), s.result),
      row("land_cover", t("sdg_land_cover"), s.sub_indicators.land_cover.classes),
      row("productivity", t("sdg_productivity"), s.sub_indicators.productivity.classes),
      row("soc", t("sdg_soc"), s.sub_indicators.soc.classes)));
  return el("section", { class: "panel", id: "sdg-panel", "aria-labelledby": "sdg-h", "data-period": s.period },
    el("h2", { id: "sdg-h" }, t("sdg_title")),
    select(t("sdg_period"), s.periods.map((p) => [p, p]), s.period, onPeriod, "sdg-period"),
    el("p", {}, t("sdg_intro", { kind, first: s.years[0], last: s.years[1] })),
    el("div", { class: "cards" },
      el("div", { class: "card", "data-figure": "sdg_degraded", "data-value": s.degraded_share ?? "" },
        el("h3", {}, t("sdg_degraded_share")), el("p", { class: "figure" }, pct(s.degraded_share))),
      el("div", { class: "card", "data-figure": "sdg_land", "data-value": s.land_area_km2 ?? "" },
        el("h3", {}, t("sdg_land_area")), el("p", { class: "figure" }, fmt(s.land_area_km2, "km2")))),
    bar(s.result), table,
    s.productivity_note ? el("p", { class: "note", "data-sdg-note": "" }, t("sdg_no_productivity", { note: s.productivity_note })) : null,
    el("p", {}, el("small", {}, t("sdg_method", { lc: s.land_cover_and_soc_epochs.join("–"), ndvi: s.productivity_years.join("–") }), " ", s.method)));
}
