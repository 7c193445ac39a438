// Every string the dashboard shows, per language (English, French). To add a language, add a
// block with the same keys; a missing key falls back to English. {name} is replaced by t()'s vars.
const STRINGS = {
  en: {
    nav_kpis: "KPIs",
    kpi_intro: "The \"4 per 1000\" Strategic Plan (2022): {n} objectives and {k} key performance indicators, with baselines (2020) and targets (2030, 2050) as written. Computed KPIs come from store snapshot {snapshot}.",
    kpi_no_value: "no value recorded yet", kpi_progress_2030: "Progress towards the 2030 target",
    kpi_progress_2050: "Progress towards the 2050 target", kpi_trend: "Trend: {slope} {unit} ({dir}, {n} points)",
    kpi_text: "Baseline and targets as written", kpi_baseline: "Baseline (2020)", kpi_target_2030: "Target 2030",
    kpi_target_2050: "Target 2050", kpi_spark: "Series of {n} values from {lo} to {hi}",
    kpi_open: "Open the KPI page",
    goal_A: "Goal A · Inception & conceptualization", goal_B: "Goal B · Implementation", goal_C: "Goal C · Promotion",
    goal_D: "Goal D · Collaboration", goal_E: "Goal E · Follow-up (monitoring, reporting, verification)",
    goal_F: "Goal F · Crosscutting actions",
    skip: "Skip to content", language: "Language", loading: "Loading…",
    nav_overview: "Overview", nav_map: "Map", nav_region: "Regions", nav_rankings: "Rankings",
    nav_assess: "Area assessment", nav_compare: "Compare", nav_docs: "API docs",
    overview_title: "Soil organic carbon: the world at a glance",
    overview_intro: "Headline figures for the latest epoch ({epoch}), change since the baseline ({baseline}). Bounds are the 5th–95th percentiles.",
    fig_total: "Total SOC stock (0–30 cm)", fig_mean: "Mean SOC stock (0–30 cm)",
    fig_change: "Change since {baseline}", fig_rate: "Relative change rate",
    fig_progress: "Progress towards 4 per 1000", fig_on_path: "Countries on the 4 per 1000 path",
    fig_on_path_value: "{n} of {total}", fig_increase: "Area with a significant increase",
    fig_decrease: "Area with a significant decrease", fig_sh: "Soil-health classes (share of area)",
    progress_def: "Relative change rate divided by 4 ‰/yr: 100 % means on the 4 per 1000 path.",
    on_path_def: "Countries whose progress towards 4 per 1000 is at least 100 % in the latest epoch.",
    sig_def: "Share of the valid area whose Mann-Kendall trend is significant (p < 0.05).",
    freshness: "Data freshness", newest_item: "Newest source item", snapshot: "Store snapshot",
    committed: "Committed", input_snapshot: "Input snapshot",
    choropleth_title: "{indicator} by country, {epoch}", best: "Best countries", worst: "Worst countries",
    best_worst_by: "by {indicator}, {epoch}", kpi_title: "The Initiative's KPIs",
    kpi_placeholder: "The Strategic Plan's 24 objectives, their baselines, targets and KPIs, with progress towards 2030 and 2050.",
    map_title: "Map", indicator: "Indicator", epoch: "Epoch", play: "Play", pause: "Pause",
    colormap: "Colour map", cmap_default: "default", range_min: "Range min", range_max: "Range max",
    apply: "Apply", show: "Show", cells: "Grid cells", regions_of: "Regions: {level}",
    stratum: "Land-cover stratum", legend: "Legend", no_data: "no data",
    click_cell: "Click the map for a cell's time series, or a region for its page.",
    cell_at: "Cell centred at {lat}° N, {lon}° E", seq_potential: "RothC sequestration potential (SOC input +{pct})",
    region_title: "{name}", breadcrumb: "Breadcrumb", summary: "Summary", series: "Time series",
    path_4p1000: "4 per 1000 path", band: "q05–q95", children: "{level} ranked by {indicator}",
    download_csv: "Download CSV", series_csv: "Series as CSV ({indicator}, {stratum})",
    provenance: "Provenance", source_dates: "Source items used per epoch", rothc_note:
      "RothC sequestration potentials are per grid cell: click a cell on the Map page.",
    rank: "Rank", region: "Region", value: "Value", parent: "Parent", missing: "missing",
    rankings_title: "Rankings", level: "Level", order: "Order", desc: "highest first", asc: "lowest first",
    assess_title: "Area assessment", assess_intro:
      "Draw a polygon on the map (click its corners, then Finish) or paste or upload GeoJSON; the answer compares it with a same-land-cover control ring.",
    draw: "Draw", finish: "Finish", clear: "Clear", upload: "Upload GeoJSON", geojson: "GeoJSON polygon",
    assess: "Assess", project: "Project area", control: "Control ring", rate_difference: "Rate difference (project − control)",
    on_path: "On the 4 per 1000 path", yes: "yes", no: "no", area: "Area", stock_start: "Stock at start",
    stock_end: "Stock at end", change: "Change", rate: "Rate",
    compare_title: "Compare regions", compare_intro: "Two or more regions on shared axes (twin regions).",
    add_region: "Add a region", remove: "Remove {name}", region_search: "Region name or id",
    new_snapshot: "New data: snapshot {id} (committed {time}) is shown.",
    error: "The API could not answer: {detail}", epochs_of: "{from}–{to}", all: "all",
    stratum_all: "all land", stratum_cropland: "cropland", stratum_grassland: "grassland", stratum_tree_cover: "tree cover",
    level_region: "regions", level_country: "countries", level_subnational: "sub-national units", level_global: "world",
    one_global: "world", one_region: "region", one_country: "country", one_subnational: "sub-national unit", one_custom: "custom area",
    sh_degraded: "degraded", sh_moderate: "moderate", sh_good: "good", sh_very_good: "very good",
    docs: "API docs (Swagger UI)", redoc: "API reference (ReDoc)", footer: "Data: {attribution}. Snapshot {id}.",
  },
  fr: {
    nav_kpis: "Indicateurs clés",
    kpi_intro: "Le plan stratégique de l'Initiative « 4 pour 1000 » (2022) : {n} objectifs et {k} indicateurs clés, avec leurs références (2020) et cibles (2030, 2050) telles qu'écrites. Les indicateurs calculés viennent de l'instantané {snapshot}.",
    kpi_no_value: "aucune valeur enregistrée", kpi_progress_2030: "Progrès vers la cible 2030",
    kpi_progress_2050: "Progrès vers la cible 2050", kpi_trend: "Tendance : {slope} {unit} ({dir}, {n} points)",
    kpi_text: "Référence et cibles telles qu'écrites", kpi_baseline: "Référence (2020)", kpi_target_2030: "Cible 2030",
    kpi_target_2050: "Cible 2050", kpi_spark: "Série de {n} valeurs de {lo} à {hi}",
    kpi_open: "Ouvrir la page des indicateurs clés",
    goal_A: "But A · Conception", goal_B: "But B · Mise en œuvre", goal_C: "But C · Promotion",
    goal_D: "But D · Collaboration", goal_E: "But E · Suivi (surveillance, rapportage, vérification)",
    goal_F: "But F · Actions transversales",
    skip: "Aller au contenu", language: "Langue", loading: "Chargement…",
    nav_overview: "Vue d'ensemble", nav_map: "Carte", nav_region: "Régions", nav_rankings: "Classements",
    nav_assess: "Évaluation de zone", nav_compare: "Comparer", nav_docs: "Documentation de l'API",
    overview_title: "Carbone organique du sol : le monde en un coup d'œil",
    overview_intro: "Chiffres clés de la dernière époque ({epoch}), évolution depuis la référence ({baseline}). Les bornes sont les 5e et 95e centiles.",
    fig_total: "Stock total de COS (0–30 cm)", fig_mean: "Stock moyen de COS (0–30 cm)",
    fig_change: "Évolution depuis {baseline}", fig_rate: "Taux relatif d'évolution",
    fig_progress: "Progrès vers 4 pour 1000", fig_on_path: "Pays sur la trajectoire 4 pour 1000",
    fig_on_path_value: "{n} sur {total}", fig_increase: "Surface en hausse significative",
    fig_decrease: "Surface en baisse significative", fig_sh: "Classes de santé des sols (part de la surface)",
    freshness: "Fraîcheur des données", newest_item: "Donnée source la plus récente", snapshot: "Instantané du stock",
    committed: "Enregistré", best: "Meilleurs pays", worst: "Pays les moins bien placés",
    kpi_title: "Indicateurs clés de l'Initiative", map_title: "Carte", indicator: "Indicateur", epoch: "Époque",
    play: "Lecture", pause: "Pause", colormap: "Palette", legend: "Légende", stratum: "Strate d'occupation du sol",
    summary: "Résumé", series: "Séries temporelles", path_4p1000: "Trajectoire 4 pour 1000",
    download_csv: "Télécharger en CSV", provenance: "Provenance", rankings_title: "Classements", level: "Niveau",
    assess_title: "Évaluation de zone", compare_title: "Comparer des régions", region: "Région", value: "Valeur",
    rank: "Rang", new_snapshot: "Nouvelles données : l'instantané {id} (enregistré {time}) est affiché.",
    error: "L'API n'a pas pu répondre : {detail}", yes: "oui", no: "non",
    stratum_all: "toutes terres", stratum_cropland: "cultures", stratum_grassland: "prairies", stratum_tree_cover: "forêts",
    level_region: "régions", level_country: "pays", level_subnational: "unités infranationales", level_global: "monde",
    one_global: "monde", one_region: "région", one_country: "pays", one_subnational: "unité infranationale", one_custom: "zone",
    sh_degraded: "dégradé", sh_moderate: "moyen", sh_good: "bon", sh_very_good: "très bon",
  },
};

export const LANGS = Object.keys(STRINGS);
let lang = "en";

export function setLang(code) {
  lang = LANGS.includes(code) ? code : "en";
  document.documentElement.lang = lang;
}

export function getLang() {
  return lang;
}

export function t(key, vars = {}) {
  const s = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}
