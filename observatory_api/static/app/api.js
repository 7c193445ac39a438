// The API client (same origin), number formatting with units, and small DOM helpers.
import { getLang, t } from "./i18n.js";

export class ApiError extends Error {}

export async function getJSON(path, params = {}) {
  return request(path, params, { headers: { Accept: "application/json" } });
}

export async function postJSON(path, body) {
  return request(path, {}, {
    method: "POST", headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

export function url(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function request(path, params, init) {
  let r;
  try {
    r = await fetch(url(path, params), init);
  } catch (e) {
    throw new ApiError(t("error", { detail: String(e.message || e) }));
  }
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(t("error", { detail: body?.detail || `${r.status} ${r.statusText}` }));
  return body;
}

// Units as a reader expects them; "1" (dimensionless) shows no unit.
const UNITS = { "permille/yr": "‰/yr", km2: "km²", "1": "", class: "" };

export function unitLabel(unit) {
  return unit in UNITS ? UNITS[unit] : unit;
}

// Three significant digits (the data's uncertainty is far larger), grouped per the language.
export function num(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const nf = new Intl.NumberFormat(getLang() === "fr" ? "fr-FR" : "en-US", { maximumSignificantDigits: digits });
  return nf.format(v);
}

export function fmt(v, unit, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return t("no_data");
  const u = unitLabel(unit);
  return u ? `${num(v, digits)} ${u}` : num(v, digits);
}

export function pct(share, digits = 3) {
  if (share === null || share === undefined || Number.isNaN(share)) return t("no_data");
  return `${num(share * 100, digits)} %`;
}

// el("div", {class: "x", onclick: f}, child, "text", ...)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function select(label, options, value, onchange, id) {
  const s = el("select", { id, onchange: (e) => onchange(e.target.value) },
    options.map(([v, text]) => el("option", { value: v, selected: String(v) === String(value) }, text)));
  return el("label", { class: "field" }, el("span", {}, label), s);
}

export function errorBox(e) {
  return el("p", { class: "error", role: "alert" }, e instanceof ApiError ? e.message : t("error", { detail: String(e) }));
}

export function csvText(header, rows) {
  const q = (v) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(q).join(",")).join("\n") + "\n";
}

export function downloadLink(text, filename, label) {
  const href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  return el("a", { class: "button", href, download: filename }, label);
}

// A colour for v from a legend's stops (linear between stops), for choropleths and bars.
export function colourOf(stops, v) {
  if (v === null || v === undefined || Number.isNaN(v)) return null;
  if (v <= stops[0].value) return stops[0].color;
  for (let i = 1; i < stops.length; i++) {
    if (v <= stops[i].value) {
      const a = stops[i - 1], b = stops[i];
      const f = (v - a.value) / (b.value - a.value);
      const ca = hex(a.color), cb = hex(b.color);
      return `rgb(${ca.map((x, j) => Math.round(x + f * (cb[j] - x))).join(",")})`;
    }
  }
  return stops[stops.length - 1].color;
}

function hex(c) {
  return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
}
