// Rankings: any indicator, level, epoch, stratum and order; a sortable table, a bar chart and
// the table as CSV. rankTable() is shared with the region page (its children ranked).
import { csvText, downloadLink, el, fmt, getJSON, select, unitLabel } from "./api.js";
import { t } from "./i18n.js";

const LEVELS = ["region", "country", "subnational"];

export function rankingCsv(r) {
  return csvText(["rank", "region_id", "name", "parent_id", "value", "unit", "epoch", "stratum", "snapshot_id"],
    r.rows.map((x) => [x.missing ? "" : x.rank, x.region_id, x.name, x.parent_id ?? "", x.missing ? "" : x.value,
      r.unit, r.epoch, r.stratum, r.snapshot_id]));
}

// A table whose column headers sort it (keyboard: they are buttons; aria-sort says the order).
export function rankTable(r, ctx, filename) {
  const rows = [...r.rows];
  const cols = [["rank", t("rank")], ["name", t("region")], ["value", `${t("value")}${unitLabel(r.unit) ? ` (${unitLabel(r.unit)})` : ""}`]];
  const table = el("table", { class: "ranking", "data-rows": String(rows.length) });
  const body = el("tbody");
  let sort = { key: "rank", dir: 1 };
  const heads = cols.map(([key, label]) => {
    const th = el("th", { scope: "col", "aria-sort": key === "rank" ? "ascending" : "none" });
    th.append(el("button", { type: "button", onclick: () => {
      sort = { key, dir: sort.key === key ? -sort.dir : 1 };
      heads.forEach((h, i) => h.setAttribute("aria-sort", cols[i][0] === key ? (sort.dir > 0 ? "ascending" : "descending") : "none"));
      fill();
    } }, label));
    return th;
  });
  const fill = () => {
    const k = sort.key;
    rows.sort((a, b) => {
      if (a.missing !== b.missing) return a.missing ? 1 : -1; // missing data last, in any order
      const x = a[k], y = b[k];
      return (typeof x === "string" ? x.localeCompare(y) : x - y) * sort.dir;
    });
    body.replaceChildren(...rows.map((x) => el("tr", { "data-region": x.region_id },
      el("td", {}, x.missing ? "–" : String(x.rank)),
      el("td", {}, el("a", { href: ctx.href("region", x.region_id) }, x.name)),
      el("td", { class: "num" }, x.missing ? t("missing") : fmt(x.value, "1")))));
  };
  fill();
  table.append(el("thead", {}, el("tr", {}, heads)), body);
  return el("div", { class: "table-wrap" },
    el("p", {}, downloadLink(rankingCsv(r), filename, t("download_csv"))), table);
}

function bars(r, stops) {
  const rows = r.rows.filter((x) => !x.missing).slice(0, 30);
  const max = Math.max(...rows.map((x) => Math.abs(x.value)), 1e-12);
  return el("figure", { class: "bars" }, el("figcaption", {}, `${r.indicator} (${unitLabel(r.unit) || "–"})`),
    el("ul", {}, rows.map((x) => el("li", {},
      el("span", { class: "bar-label" }, x.name),
      el("span", { class: "bar", style: `width:${(100 * Math.abs(x.value)) / max}%;background:${x.value < 0 ? stops[0] : stops[1]}` }),
      el("span", { class: "bar-value" }, fmt(x.value, r.unit))))));
}

export async function show(box, route, ctx) {
  const p = route.params;
  const inds = [...ctx.indicators.values()].filter((i) => i.id !== "sh_class");
  const info = inds.find((i) => i.id === p.ind) || inds[0];
  const level = LEVELS.includes(p.level) ? p.level : "country";
  const epoch = info.epochs.includes(Number(p.epoch)) ? Number(p.epoch) : info.epochs.at(-1);
  const stratum = info.strata.includes(p.stratum) ? p.stratum : "all";
  const order = p.order === "asc" ? "asc" : "desc";
  const r = await getJSON(`/v1/rankings/${info.id}`, { level, epoch, stratum, order });
  const params = { ind: info.id, level, epoch, stratum, order };
  const change = (patch) => ctx.go("rankings", null, { ...params, ...patch });
  box.append(el("h1", {}, `${t("rankings_title")}: ${info.title}`),
    el("p", { class: "intro" }, info.definition),
    el("div", { class: "controls" },
      select(t("indicator"), inds.map((i) => [i.id, i.title]), info.id, (v) => change({ ind: v }), "rank-indicator"),
      select(t("level"), LEVELS.map((l) => [l, t(`level_${l}`)]), level, (v) => change({ level: v }), "rank-level"),
      select(t("epoch"), info.epochs.map((e) => [e, e]), epoch, (v) => change({ epoch: v }), "rank-epoch"),
      select(t("stratum"), info.strata.map((s) => [s, t(`stratum_${s}`)]), stratum, (v) => change({ stratum: v }), "rank-stratum"),
      select(t("order"), [["desc", t("desc")], ["asc", t("asc")]], order, (v) => change({ order: v }), "rank-order")),
    el("div", { class: "two" }, rankTable(r, ctx, `rankings_${info.id}_${level}_${epoch}_${stratum}.csv`),
      bars(r, ["#D55E00", "#0072B2"])));
  return {};
}
