// Ex-ante assessment (the Strategic Plan's E3, as FAO's EX-ACT does): a project's carbon balance
// before the fact, by IPCC 2019 Tier 1 (Eq. 2.25), from POST /v1/assess/ex-ante. Pick a practice
// from the catalogue (it sets the baseline and project states) or set the states; optionally a
// location (the zone and, with "measured", the reference stock come from the observatory's cube).
// The request is in the URL (#/exante?...): a shared link shows the same answer.
import { downloadLink, el, errorBox, fmt, getJSON, postJSON, select } from "./api.js";
import { seriesChart } from "./charts.js";
import { t } from "./i18n.js";

// The API's vocabulary (IPCC 2019 Vol. 4; a browser test checks it against the API's schema).
export const ZONES = ["tropical_montane", "tropical_wet", "tropical_moist", "tropical_dry", "warm_temperate_moist",
  "warm_temperate_dry", "cool_temperate_moist", "cool_temperate_dry", "boreal_moist", "boreal_dry", "polar_moist", "polar_dry"];
export const SOILS = ["HAC", "LAC", "sandy", "spodic", "volcanic", "wetland", "organic"]; // organic: flagged by the API
export const LAND_USES = ["cropland_annual", "cropland_paddy_rice", "cropland_perennial", "cropland_set_aside", "grassland", "forest"];
const MANAGEMENT = { grassland: ["nominally_managed", "high_intensity_grazing", "severely_degraded", "improved"] };
const INPUT = { grassland: ["medium", "high"] };
for (const lu of ["cropland_annual", "cropland_paddy_rice", "cropland_perennial"]) {
  MANAGEMENT[lu] = ["full_tillage", "reduced_tillage", "no_tillage"];
  INPUT[lu] = ["low", "medium", "high_without_manure", "high_with_manure"];
}
const label = (s) => s.replaceAll("_", " ");
const DEFAULT = { zone: "tropical_moist", soil: "HAC", area: "100", years: "20",
  b: "cropland_annual.full_tillage.medium", p: "cropland_annual.no_tillage.high_without_manure" };

// A state's three selects (land use, management, input); management and input follow the land use.
function stateFields(prefix, value) {
  const [lu0, mg0, in0] = value.split(".");
  const box = el("fieldset", { class: "state" }, el("legend", {}, t(`exante_${prefix}`)));
  const opts = (list) => [["", "–"], ...(list || []).map((v) => [v, label(v)])];
  const mg = select(t("management"), opts(MANAGEMENT[lu0]), mg0 || "", () => null, `${prefix}-management`);
  const inp = select(t("input"), opts(INPUT[lu0]), in0 || "", () => null, `${prefix}-input`);
  const lu = select(t("land_use"), LAND_USES.map((v) => [v, label(v)]), lu0, (v) => {
    for (const [field, list] of [[mg, MANAGEMENT[v]], [inp, INPUT[v]]]) {
      field.querySelector("select").replaceChildren(...opts(list).map(([k, l]) => el("option", { value: k }, l)));
    }
  }, `${prefix}-land-use`);
  box.append(lu, mg, inp);
  const get = () => ["land-use", "management", "input"].map((k) => box.querySelector(`#${prefix}-${k}`).value);
  const set = (s) => {
    box.querySelector(`#${prefix}-land-use`).value = s.land_use;
    box.querySelector(`#${prefix}-land-use`).dispatchEvent(new Event("change"));
    box.querySelector(`#${prefix}-management`).value = s.management || "";
    box.querySelector(`#${prefix}-input`).value = s.input || "";
  };
  return { box, get, set };
}

function stateOf([land_use, management, input]) {
  return { land_use, ...(management ? { management } : {}), ...(input ? { input } : {}) };
}

// The request the form's state (the URL's parameters) stands for.
export function requestOf(q) {
  const body = { area_ha: Number(q.area), years: Number(q.years), soil_type: q.soil,
    baseline: stateOf(q.b.split(".")), project: stateOf(q.p.split(".")) };
  if (q.lat !== undefined && q.lat !== "" && q.lon !== undefined && q.lon !== "") {
    body.location = { lat: Number(q.lat), lon: Number(q.lon) };
    if (q.ref === "measured") body.reference = "measured";
    if (q.zone) body.climate_zone = q.zone;
  } else {
    body.climate_zone = q.zone;
  }
  return body;
}

function card(key, title, value, sub = null) {
  return el("div", { class: "card", "data-figure": key }, el("h3", {}, title), el("p", { class: "figure" }, value),
    sub ? el("p", { class: "bounds" }, sub) : null);
}

function result(r) {
  const u = r.uncertainty?.balance_t_co2e;
  const v = r.verdict;
  const box = el("section", { id: "exante-result", "aria-labelledby": "exante-h" },
    el("h2", { id: "exante-h" }, t("exante_result")));
  box.append(el("div", { class: "cards" },
    card("soc_ref_t_c_ha", t("exante_ref"), fmt(r.soc_ref_t_c_ha, "t C/ha")),
    card("soc_baseline_t_c_ha", t("exante_baseline_stock"), fmt(r.soc_baseline_t_c_ha, "t C/ha")),
    card("soc_project_t_c_ha", t("exante_project_stock"), fmt(r.soc_project_t_c_ha, "t C/ha")),
    card("delta_soc_t_c_ha_yr", t("exante_delta"), fmt(r.delta_soc_t_c_ha_yr, "t C/ha/yr")),
    card("balance_t_co2e", t("exante_balance"), fmt(r.balance_t_co2e, "t CO2e"),
      u ? t("exante_interval", { lo: fmt(u.p2_5, "t CO2e"), hi: fmt(u.p97_5, "t CO2e") }) : null),
    card("balance_t_co2e_per_ha_yr", t("exante_balance_ha_yr"), fmt(r.balance_t_co2e_per_ha_yr, "t CO2e/ha/yr"))));
  box.append(el("section", { class: `panel verdict verdict-${v.level}`, "data-verdict": v.level },
    el("h3", {}, `${t("exante_verdict")} — ${t(`verdict_${v.level}`)}`),
    el("ul", {}, v.reasons.map((x) => el("li", {}, x)))));
  const chart = el("div", { class: "chart-slot" });
  box.append(el("section", { class: "panel" }, chart));
  seriesChart(chart, { title: t("exante_series"), unit: "t C/ha", lines: [
    { label: t("exante_without"), points: r.series.map((s) => ({ epoch: s.year, value: s.soc_without_project_t_c_ha })) },
    { label: t("exante_with"), points: r.series.map((s) => ({ epoch: s.year, value: s.soc_with_project_t_c_ha })) },
  ] });
  if (r.tier2?.available) {
    const keys = Object.keys(r.tier2).filter((k) => typeof r.tier2[k] === "number" && typeof r[k] === "number");
    box.append(el("section", { class: "panel", "data-tier2": "" }, el("h3", {}, t("exante_tier2")),
      el("table", {}, el("thead", {}, el("tr", {}, el("td"), el("th", { scope: "col" }, "Tier 1"), el("th", { scope: "col" }, "Tier 2 (RothC)"))),
        el("tbody", {}, keys.map((k) => el("tr", {}, el("th", { scope: "row" }, label(k)),
          el("td", { class: "num" }, fmt(r[k])), el("td", { class: "num" }, fmt(r.tier2[k])))))),
      r.tier2.method ? el("p", { class: "note" }, typeof r.tier2.method === "string" ? r.tier2.method : JSON.stringify(r.tier2.method)) : null));
  }
  box.append(el("section", { class: "panel" }, el("h3", {}, t("exante_factors")),
    el("table", {}, el("thead", {}, el("tr", {}, ...["state", "factor", "level", "value", "reference"].map((k) =>
      el("th", { scope: "col" }, t(`exante_col_${k}`))))),
    el("tbody", {}, r.factors.map((f) => el("tr", {}, el("td", {}, f.state), el("td", {}, f.factor), el("td", {}, label(String(f.level))),
      el("td", { class: "num" }, fmt(f.value)), el("td", {}, f.reference)))))),
  el("p", { class: "note" }, r.reference), ...(r.notes || []).map((n) => el("p", { class: "note" }, n)),
  el("p", {}, downloadLink(JSON.stringify(r, null, 2), "ex-ante.json", t("exante_download"))));
  return box;
}

export async function show(box, route, ctx) {
  const q = { ...DEFAULT, ...route.params };
  const zone = select(t("climate_zone"), [["", t("exante_zone_from_location")], ...ZONES.map((z) => [z, label(z)])], q.zone || "",
    () => loadPractices(), "exante-zone");
  const soil = select(t("soil_type"), SOILS.map((s) => [s, s]), q.soil, () => loadPractices(), "exante-soil");
  const num = (id, value, attrs) => el("input", { id, type: "number", step: "any", value: value ?? "", ...attrs });
  const area = num("exante-area", q.area, { min: 0, required: true });
  const years = num("exante-years", q.years, { min: 1, max: 100, step: 1, required: true });
  const lat = num("exante-lat", q.lat, { min: -90, max: 90 });
  const lon = num("exante-lon", q.lon, { min: -180, max: 180 });
  const ref = el("input", { id: "exante-ref", type: "checkbox", ...(q.ref === "measured" ? { checked: "" } : {}) });
  const baseline = stateFields("baseline", q.b);
  const project = stateFields("project", q.p);
  const practice = select(t("practice"), [["", "–"]], "", (id) => {
    const p = practices.find((x) => x.id === id);
    if (!p?.from || !p?.to) return;
    baseline.set(p.from);
    project.set(p.to);
  }, "exante-practice");
  let practices = [];
  async function loadPractices() {
    const z = zone.querySelector("select").value;
    if (!z) return;
    try {
      practices = (await getJSON("/v1/practices", { climate_zone: z, soil_type: soil.querySelector("select").value })).practices;
    } catch {
      practices = [];
    }
    // Practices Tier 1 cannot express as two states (e.g. biochar) are listed, not selectable.
    practice.querySelector("select").replaceChildren(el("option", { value: "" }, "–"), ...practices.map((p) =>
      el("option", { value: p.id, disabled: !(p.from && p.to) }, p.from && p.to
        ? `${p.name} (ΔSOC ${fmt(p.tier1?.delta_soc_t_c_ha_yr, "t C/ha/yr")})` : `${p.name} (${t("exante_other_method")})`)));
  }
  const field = (text, input) => el("label", { class: "field", for: input.id }, el("span", {}, text), input);
  const out = el("div", { "aria-live": "polite" });
  const form = el("form", { class: "stack exante", onsubmit: (e) => {
    e.preventDefault();
    ctx.go("exante", null, { zone: zone.querySelector("select").value, soil: soil.querySelector("select").value,
      area: area.value, years: years.value, lat: lat.value, lon: lon.value, ref: ref.checked ? "measured" : "",
      b: baseline.get().join("."), p: project.get().join("."), run: "1" });
  } },
  el("div", { class: "controls" }, zone, soil, practice, field(t("exante_area"), area), field(t("exante_years"), years)),
  el("div", { class: "two" }, baseline.box, project.box),
  el("fieldset", { class: "state" }, el("legend", {}, t("exante_location")),
    field(t("lat"), lat), field(t("lon"), lon), el("label", { class: "field", for: "exante-ref" }, ref, el("span", {}, t("exante_measured")))),
  el("button", { type: "submit" }, t("exante_run")));
  box.append(el("h1", {}, t("exante_title")), el("p", { class: "intro" }, t("exante_intro")), form, out);
  const ready = (async () => {
    await loadPractices();
    if (route.params.run !== "1") return;
    out.replaceChildren(el("p", {}, t("loading")));
    try {
      out.replaceChildren(result(await postJSON("/v1/assess/ex-ante", requestOf(q))));
    } catch (e) {
      out.replaceChildren(errorBox(e));
    }
  })();
  return { ready };
}
