// The dashboard's shell: navigation, the URL as the state (#/page/arg?key=value: back, forward
// and shared links work), and the live poll of /v1/status that refreshes a page in place when
// the store has a new snapshot.
import { el, errorBox, getJSON } from "./api.js";
import { getLang, setLang, t } from "./i18n.js";

// Each page's module loads when first shown (the overview does not wait for the map library);
// the assessment page asks for the map library at once rather than after its own imports. The
// map page draws its first frame without it (mapview.js loads it then; index.html has fetched it).
const MAPLIBRE = "/static/vendor/maplibre-gl/maplibre-gl.mjs";
const withMap = (page) => Promise.all([page, import(MAPLIBRE)]).then(([m]) => m);
const PAGES = {
  overview: () => import("./overview.js"),
  map: () => import("./mapview.js"),
  region: () => import("./region.js"),
  rankings: () => import("./rankings.js"),
  assess: () => withMap(import("./assess.js")),
  compare: () => import("./compare.js"),
  exante: () => import("./exante.js"),
  kpis: () => import("./kpis.js"),
};
const NAV = [["overview", "nav_overview"], ["map", "nav_map"], ["region", "nav_region"],
  ["rankings", "nav_rankings"], ["assess", "nav_assess"], ["exante", "nav_exante"], ["compare", "nav_compare"], ["kpis", "nav_kpis"]];

export function parse() {
  const h = location.hash.startsWith("#/") ? location.hash.slice(2) : "overview";
  const [path, query = ""] = h.split("?");
  const [page, arg] = path.split("/");
  return { page: PAGES[page] ? page : "overview", arg: arg ? decodeURIComponent(arg) : null,
    params: Object.fromEntries(new URLSearchParams(query)) };
}

export function href(page, arg = null, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const lang = getLang() !== "en" ? getLang() : null;
  if (lang && !q.has("lang")) q.set("lang", lang);
  const s = q.toString();
  return `#/${page}${arg ? `/${encodeURIComponent(arg)}` : ""}${s ? `?${s}` : ""}`;
}

// A new history entry (back returns here), or the same entry updated (map moves, sliders).
export function go(page, arg, params) {
  location.hash = href(page, arg, params);
}

export function replace(page, arg, params) {
  history.replaceState(null, "", href(page, arg, params));
  document.getElementById("main").dataset.route = location.hash;
}

const ctx = { status: null, indicators: new Map(), baseline: null, epochs: [], go, replace, href };
let current = null;
let rendering = 0;

async function loadContext() {
  const [status, inds] = await Promise.all([getJSON("/v1/status"), getJSON("/v1/indicators")]);
  ctx.status = status;
  ctx.indicators = new Map(inds.indicators.map((i) => [i.id, i]));
  ctx.baseline = inds.baseline_epoch;
  ctx.epochs = inds.indicators[0]?.epochs || [];
  document.body.dataset.snapshot = status.snapshot_id;
  footer();
}

function nav(active) {
  const box = document.getElementById("nav");
  box.replaceChildren(el("ul", {}, NAV.map(([page, key]) => el("li", {},
    el("a", { href: href(page), "aria-current": page === active ? "page" : null }, t(key)))),
  el("li", {}, el("a", { href: "/docs" }, t("nav_docs")))));
}

function footer() {
  const s = ctx.status;
  document.getElementById("foot").replaceChildren(
    el("span", {}, `${t("snapshot")}: `, el("code", { "data-footer-snapshot": "" }, s ? s.snapshot_id : "–")), " · ",
    el("a", { href: "/docs" }, t("docs")), " · ", el("a", { href: "/redoc" }, t("redoc")));
}

async function render() {
  const route = parse();
  if (route.params.lang && route.params.lang !== getLang()) setLang(route.params.lang);
  document.getElementById("lang").value = getLang();
  document.getElementById("skip").textContent = t("skip");
  document.getElementById("lang-label").textContent = t("language");
  nav(route.page);
  const token = ++rendering;
  current?.dispose?.();
  current = null;
  const main = document.getElementById("main");
  main.replaceChildren(el("p", { class: "loading" }, t("loading")));
  main.dataset.page = route.page;
  main.dataset.route = location.hash;
  main.dataset.ready = "false";
  try {
    const [module] = await Promise.all([PAGES[route.page](), ctx.status ? null : loadContext()]);
    performance.mark("context");
    const box = el("div", { class: `page page-${route.page}` });
    const page = await module.show(box, route, ctx);
    if (token !== rendering) {
      page?.dispose?.();
      return;
    }
    main.replaceChildren(box);
    performance.mark("shown");
    current = page || null;
    await current?.ready;
    if (token === rendering) main.dataset.ready = "true";
  } catch (e) {
    if (token === rendering) {
      main.replaceChildren(errorBox(e));
      main.dataset.ready = "error";
    }
  }
}

// The live poll: every SOCOBS_POLL_SECONDS of the API (1-30 s). A failed poll is silent: the
// page keeps what it shows and the next poll tries again.
async function poll() {
  let status = null;
  try {
    status = await getJSON("/v1/status");
  } catch {
    status = null;
  }
  if (status && ctx.status && status.snapshot_id !== ctx.status.snapshot_id) {
    await loadContext().catch(() => null);
    const when = new Date(status.committed_at).toLocaleString(getLang() === "fr" ? "fr-FR" : "en-GB",
      { timeZone: "UTC", dateStyle: "medium", timeStyle: "short" });
    document.getElementById("live").textContent = t("new_snapshot", { id: status.snapshot_id, time: `${when} UTC` });
    if (current?.refresh) await current.refresh(ctx);
    else await render();
  }
  const every = Math.min(Math.max(ctx.status?.poll_seconds ?? 5, 1), 30);
  setTimeout(poll, every * 1000);
}

document.getElementById("skip").addEventListener("click", (e) => {
  e.preventDefault();
  document.getElementById("main").focus();
});
document.getElementById("lang").addEventListener("change", (e) => {
  setLang(e.target.value);
  const r = parse();
  go(r.page, r.arg, { ...r.params, lang: e.target.value });
});
window.addEventListener("hashchange", render);
render().then(poll);
