// The map: an indicator's tiles (epoch slider that can play, colour map, range) or a region
// choropleth at a level; the legend; a click shows the cell's series (/v1/point) or opens the
// region's page. Everything chosen is in the URL (#/map?ind=...&epoch=...&z=...&c=lon,lat).
// The SDG 15.3.1 maps (#20, when /v1/indicators lists `sdg15_3_1`) are in the same picker: a
// period instead of the epoch (#/map?ind=sdg_15_3_1&period=2020-2024), their classes' legend, no
// colour map or range (categorical); a click on a cell shows its SOC stock series.
// With "Projects" ticked (&projects=1) the registry's projects are drawn on top; a click on one
// shows its organisation, practices and its ex-ante and ex-post assessments.
// The map library (geo.js, MapLibre) loads after the first frame (firstframe.js: the view's tiles
// as images) is on screen: evaluating it would hold the page's main thread while the tiles come.
import { el, errorBox, fmt, getJSON, select } from "./api.js";
import { VIEW, firstFrame } from "./firstframe.js";
import { t } from "./i18n.js";
import { SAFE_CMAP, legendBox } from "./legend.js";

const CMAPS = ["viridis", "ylorbr", "rdbu", "brbg"]; // colour-blind safe; the API also has rdylgn (not)
const SHOW = ["cells", "region", "country", "subnational"];

// The indicator picker: the indicators, then the SDG 15.3.1 maps in their own group.
function indicatorPicker(maps, sdg, value, onchange) {
  const opt = (id, text) => el("option", { value: id, selected: id === value }, text);
  const s = el("select", { id: "map-indicator", onchange: (e) => onchange(e.target.value) },
    maps.map((i) => opt(i.id, i.title)),
    sdg ? el("optgroup", { label: t("sdg_group") }, sdg.maps.map((m) => opt(m.id, sdgTitle(m)))) : null);
  return el("label", { class: "field" }, el("span", {}, t("indicator")), s);
}

const sdgTitle = (m) => (t(`sdgmap_${m.id}`) !== `sdgmap_${m.id}` ? t(`sdgmap_${m.id}`) : m.title);
// The classes of an SDG map's legend (/v1/tiles/sdg/{layer}/legend) in the page's language.
const sdgLegend = (l, id) => ({ ...l, indicator: id, unit: null, stops: l.stops.map((s) => ({ ...s, label: t(`sdg_${s.label}`) })) });

export async function show(box, route, ctx) {
  const p = route.params;
  const maps = [...ctx.indicators.values()].filter((i) => i.map);
  // The SDG maps' catalogue: awaited first only when the URL asks for one of them.
  const catalogue = getJSON("/v1/indicators").then((b) => b.sdg15_3_1 || null);
  let sdg = /^sdg_/.test(p.ind || "") ? await catalogue : null;
  const sdgMap = sdg?.maps.find((m) => m.id === p.ind);
  const info = sdgMap ? { id: sdgMap.id, title: sdgTitle(sdgMap), epochs: [], strata: ["all"], sdg: true }
    : maps.find((i) => i.id === p.ind) || maps[0];
  const epochs = info.epochs;
  const classes = info.id === "sh_class" || info.sdg; // categorical: no colour map, no range
  const state = {
    ind: info.id,
    epoch: info.sdg ? "" : epochs.includes(Number(p.epoch)) ? Number(p.epoch) : epochs.at(-1),
    period: !info.sdg ? "" : sdg.periods.includes(p.period) ? p.period : sdg.periods.at(-1),
    cmap: classes ? "" : CMAPS.includes(p.cmap) ? p.cmap : SAFE_CMAP[info.id] || "",
    range: !classes && /^-?[\d.]+,-?[\d.]+$/.test(p.range || "") ? p.range : "",
    show: !info.sdg && SHOW.includes(p.show) ? p.show : "cells",
    stratum: info.strata.includes(p.stratum) ? p.stratum : "all",
    z: Number.isFinite(Number(p.z)) && p.z !== undefined ? Number(p.z) : VIEW.zoom,
    c: /^-?[\d.]+,-?[\d.]+$/.test(p.c || "") ? p.c.split(",").map(Number) : VIEW.center,
    projects: p.projects === "1",
  };
  // The tiles' path under /v1/tiles/ (the SDG maps': sdg/{layer}) and the legend of a draw.
  const tilePath = info.sdg ? `sdg/${state.ind}` : state.ind;
  const legendOf = () => (info.sdg ? getJSON(`/v1/tiles/${tilePath}/legend`).then((l) => sdgLegend(l, state.ind))
    : getJSON(`/v1/tiles/${tilePath}/legend`, { colormap: state.cmap, rescale: state.range }));
  // The first draw's legend and TileJSON, asked for before the page is built.
  const early = { legend: legendOf(),
    tj: state.show === "cells" ? getJSON(`/v1/tiles/${tilePath}/tilejson.json`, { epoch: state.epoch, period: state.period }) : null,
    projects: state.projects ? getJSON("/v1/projects") : null };
  sdg = sdg || (await catalogue);
  const params = () => ({ ind: state.ind, epoch: state.epoch, period: state.period, cmap: state.cmap, range: state.range,
    show: state.show, stratum: state.stratum, z: state.z.toFixed(2), c: state.c.map((x) => x.toFixed(2)).join(","),
    projects: state.projects ? "1" : "" });
  const change = (patch) => ctx.go("map", null, { ...params(), ...patch });
  if (info.sdg) ctx.replace("map", null, params()); // the URL names the period shown (shareable)

  const epochInput = el("input", { type: "range", id: "epoch", min: 0, max: Math.max(epochs.length - 1, 0), step: 1,
    value: Math.max(epochs.indexOf(state.epoch), 0), "aria-valuetext": String(state.epoch) });
  const epochOut = el("output", { for: "epoch" }, String(state.epoch));
  const playBtn = el("button", { type: "button", "aria-pressed": "false" }, t("play"));
  const [lo, hi] = state.range ? state.range.split(",") : ["", ""];
  const minIn = el("input", { type: "number", step: "any", id: "range-min", value: lo, size: 6 });
  const maxIn = el("input", { type: "number", step: "any", id: "range-max", value: hi, size: 6 });
  const controls = el("form", { class: "controls", onsubmit: (e) => {
    e.preventDefault();
    change({ range: minIn.value !== "" && maxIn.value !== "" ? `${minIn.value},${maxIn.value}` : "" });
  } },
  info.sdg ? null : select(t("show"), SHOW.map((s) => [s, s === "cells" ? t("cells") : t("regions_of", { level: t(`level_${s}`) })]),
    state.show, (v) => change({ show: v }), "map-show"),
  indicatorPicker(maps, sdg, state.ind, (v) => change({ ind: v, cmap: "", range: "", period: "", epoch: /^sdg_/.test(v) ? "" : state.epoch })),
  info.sdg ? select(t("sdg_period"), sdg.periods.map((x) => [x, x === sdg.baseline ? t("sdg_period_baseline", { period: x }) : x]),
    state.period, (v) => change({ period: v }), "map-period") : null,
  info.sdg ? null : el("label", { class: "field" }, el("span", {}, t("epoch")), epochInput, epochOut), info.sdg ? null : playBtn,
  classes ? null : select(t("colormap"), [["", t("cmap_default")], ...CMAPS.map((c) => [c, c])], state.cmap,
    (v) => change({ cmap: v }), "map-cmap"),
  state.show === "cells" ? null : select(t("stratum"), info.strata.map((s) => [s, t(`stratum_${s}`)]), state.stratum,
    (v) => change({ stratum: v }), "map-stratum"),
  classes ? null : el("label", { class: "field" }, el("span", {}, t("range_min")), minIn),
  classes ? null : el("label", { class: "field" }, el("span", {}, t("range_max")), maxIn),
  classes ? null : el("button", { type: "submit" }, t("apply")),
  el("label", { class: "field check" }, el("input", { type: "checkbox", id: "map-projects", checked: state.projects,
    onchange: (e) => change({ projects: e.target.checked ? "1" : "" }) }), el("span", {}, t("projects_layer"))));
  const mapBox = el("div", { class: "map", role: "region", "aria-label": `${t("map_title")}: ${info.title}` });
  const legendSlot = el("div", { class: "legend-slot" });
  const side = el("aside", { class: "side", "aria-live": "polite" }, el("p", {}, t("click_cell")));
  box.append(el("h1", {}, `${t("map_title")}: ${info.title}`), controls,
    el("div", { class: "map-wrap" }, mapBox, el("div", {}, legendSlot, side)));

  let snapshot = ctx.status.snapshot_id;
  let legend = null;
  let map = null;
  let geo = null;
  let projects = null;
  const tileParams = () => ({ epoch: state.epoch, period: state.period, colormap: state.cmap, rescale: state.range, snapshot });
  // The first frame: the tiles of the view as images as soon as the TileJSON is here.
  const frame = early.tj?.then((tj) => firstFrame(mapBox, tj, { center: state.c, zoom: state.z }, tileParams()));
  let made = null;
  const created = new Promise((resolve) => (made = resolve));
  // The map: the legend and the TileJSON are asked for at once, and the map starts with the
  // tiles in its style, so they load with the style; land and borders follow once the tiles are
  // drawn (the cells cover the land). Later draws (epoch, snapshot) swap the tile source.
  const draw = async (first = false) => {
    const legendP = first ? early.legend : legendOf();
    const shown = legendP.then((l) => {
      legend = l;
      legendSlot.replaceChildren(legendBox(l, info.title));
    });
    if (!first) {
      frame?.then((f) => f.remove(), () => null);
      await created;
    }
    let drawn = null;
    if (first) {
      // (at most 1.5 s: a hidden tab draws no frame, and a slow tile must not hold the map back)
      if (frame) await frame.then((f) => Promise.race([f.drawn, new Promise((r) => setTimeout(r, 1500))]));
      geo = await import("./geo.js");
    }
    if (state.show === "cells") {
      if (first) {
        const tj = await early.tj;
        map = geo.createMap(mapBox, { zoom: state.z, center: state.c, land: false, tiles: geo.tileSource(tj, tileParams()) });
        made();
        const f = await frame;
        map.once("movestart", f.remove);
      } else {
        await geo.setTiles(map, tilePath, { ...tileParams(), before: () => geo.whenStyled(map).then(() => geo.removeChoropleth(map)) });
      }
      drawn = geo.whenTilesDrawn(map).then(() => {
        frame?.then((f) => f.remove(), () => null);
        performance.mark("tiles-drawn");
        mapBox.dataset.tiles = `${snapshot}/${state.ind}/${info.sdg ? state.period : state.epoch}`;
        return geo.whenStyled(map).then(() => geo.addBasemap(map));
      });
      await shown;
    } else {
      if (first) {
        map = geo.createMap(mapBox, { zoom: state.z, center: state.c });
        made();
      }
      await shown;
      await geo.whenLoaded(map);
      geo.removeTiles(map);
      const r = await getJSON(`/v1/rankings/${state.ind}`, { level: state.show, epoch: state.epoch, stratum: state.stratum });
      await geo.setChoropleth(map, state.show, r.rows, legend.stops);
    }
    if (first) {
      mapBox.maplibre = map; // the MapLibre map, for the browser tests (and a reader's console)
      wire();
    }
    mapBox.dataset.state = "drawing";
    await drawn;
    if (first && early.projects) {
      projects = await early.projects;
      await geo.whenStyled(map);
      geo.setProjects(map, projects);
    }
    geo.raiseProjects(map);
    await new Promise((resolve) => (map.loaded() ? resolve() : map.once("idle", resolve)));
    if (projects) mapBox.dataset.projects = geo.drawnProjects(map).join(",");
    mapBox.dataset.state = "idle";
    mapBox.dataset.snapshot = snapshot;
  };
  const wire = () => {
    map.on("moveend", () => {
      const c = map.getCenter();
      state.z = map.getZoom();
      state.c = [c.lng, c.lat];
      ctx.replace("map", null, params());
    });
    map.on("click", async (e) => {
      const layers = geo.PROJECT_LAYERS.filter((id) => map.getLayer(id));
      const project = layers.length ? map.queryRenderedFeatures(e.point, { layers })[0] : null;
      if (project) return projectPanel(side, projects.features.find((f) => f.id === project.properties.id));
      const hit = state.show !== "cells" ? map.queryRenderedFeatures(e.point, { layers: [geo.choroplethLayer(map)] })[0] : null;
      if (hit) return ctx.go("region", hit.properties.id, { ind: state.ind === "sh_class" ? "soc_stock" : state.ind });
      if (state.show === "cells") await cell(e.lngLat);
    });
  };
  const ready = draw(true);
  const cell = async ({ lng, lat }) => {
    side.replaceChildren(el("p", {}, t("loading")));
    try {
      const pt = await getJSON("/v1/point", { lat: lat.toFixed(4), lon: Math.max(-180, Math.min(180, lng)).toFixed(4) });
      const shown = info.sdg ? "soc_stock" : state.ind; // an SDG map: the cell's SOC stock
      const m = pt.maps[shown];
      const title = info.sdg ? ctx.indicators.get(shown)?.title || shown : info.title;
      const { seriesChart } = await import("./charts.js"); // the chart library only when a cell is asked for
      side.replaceChildren(el("h2", {}, t("cell_at", { lat: pt.cell.y, lon: pt.cell.x })));
      const pts = m.epochs.map((ep, i) => ({ epoch: ep, value: m.values[i],
        lower: shown === "soc_stock" ? pt.maps.soc_stock_q05?.values[i] : null,
        upper: shown === "soc_stock" ? pt.maps.soc_stock_q95?.values[i] : null }));
      seriesChart(side, { title, unit: m.unit, lines: [{ label: title, points: pts }], width: 300, height: 180 });
      if (pt.seq_potential) {
        side.append(el("h3", {}, "RothC"), el("ul", {}, Object.entries(pt.seq_potential).map(([k, v]) =>
          el("li", {}, `${t("seq_potential", { pct: k.replace(/^\+/, "") })}: ${fmt(v, "t C/ha/yr")}`))));
      }
    } catch (err) {
      side.replaceChildren(errorBox(err));
    }
  };

  let timer = null;
  const setEpoch = async (i) => {
    state.epoch = epochs[i];
    epochInput.value = i;
    epochOut.textContent = String(state.epoch);
    epochInput.setAttribute("aria-valuetext", String(state.epoch));
    ctx.replace("map", null, params());
    await draw();
  };
  epochInput.addEventListener("change", () => setEpoch(Number(epochInput.value)).catch(() => null));
  playBtn.addEventListener("click", () => {
    if (timer) {
      clearInterval(timer);
      timer = null;
      playBtn.textContent = t("play");
      playBtn.setAttribute("aria-pressed", "false");
      return;
    }
    playBtn.textContent = t("pause");
    playBtn.setAttribute("aria-pressed", "true");
    timer = setInterval(() => setEpoch((epochs.indexOf(state.epoch) + 1) % epochs.length).catch(() => null), 1500);
  });
  return {
    ready,
    refresh: async (c) => {
      snapshot = c.status.snapshot_id;
      await draw();
    },
    dispose: () => {
      clearInterval(timer);
      map?.remove();
    },
  };
}

// The side panel of a project: who, where, what, and its assessments (the newest of each kind).
function projectPanel(side, f) {
  if (!f) return;
  const p = f.properties;
  const row = (k, v) => [el("dt", {}, k), el("dd", {}, v)];
  const ante = p.ex_ante;
  const post = p.ex_post;
  const assessed = (a, done) => (!a ? t("project_not_assessed") : a.status === "done" ? done(a) : `${t("project_failed")}: ${a.error || ""}`);
  side.replaceChildren(
    el("h2", {}, p.name),
    el("dl", { class: "project" },
      ...row(t("project_organisation"), p.organisation_name || String(p.organisation_id)),
      ...row(t("project_country"), p.country),
      ...row(t("project_practices"), p.practices.join(", ")),
      ...row(t("project_area"), fmt(p.area_ha, "ha")),
      ...row(t("project_period"), `${p.start_date} – ${p.end_date} (${p.status})`),
      ...row(t("project_ex_ante"), assessed(ante, (a) => `${fmt(a.removals_t_co2e_per_yr, "t CO2e/yr")} · ${a.verdict ?? ""}`)),
      ...row(t("project_ex_post"), assessed(post, (a) => t("project_ex_post_value", {
        rate: fmt(a.rate_t_c_ha_yr, "t C/ha/yr"), control: fmt(a.control_rate_t_c_ha_yr, "t C/ha/yr"),
        diff: fmt(a.rate_difference_t_c_ha_yr, "t C/ha/yr"), from: a.start_epoch, to: a.end_epoch })))),
    el("p", {}, el("a", { href: `/v1/projects/${p.id}/assessment` }, t("project_assessment_json"))));
  side.dataset.project = String(p.id);
}
