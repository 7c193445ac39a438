// Copy the pinned packages' browser files and their licences out of node_modules (make vendor).
// The dashboard's assets go to observatory_api/static/vendor/, axe-core (tests only) to
// tests/browser/vendor/. Both are committed: nothing downloads anything at test or run time.
import { cpSync, mkdirSync, rmSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const nm = join(here, "node_modules");
const STATIC = join(here, "..", "observatory_api", "static", "vendor");
const TESTS = join(here, "..", "tests", "browser", "vendor");

const PLAN = [
  [STATIC, "maplibre-gl", ["dist/maplibre-gl.mjs", "dist/maplibre-gl-shared.mjs",
    "dist/maplibre-gl-worker.mjs", "dist/maplibre-gl.css", "LICENSE.txt"]],
  [STATIC, "uplot", ["dist/uPlot.esm.js", "dist/uPlot.min.css", "LICENSE"]],
  [STATIC, "swagger-ui-dist", ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]],
  [STATIC, "redoc", ["bundles/redoc.standalone.js", "bundles/redoc.standalone.js.LICENSE.txt", "LICENSE"]],
  [TESTS, "axe-core", ["axe.min.js", "LICENSE", "LICENSE-3RD-PARTY.txt"]],
];

const versions = {};
for (const dest of new Set(PLAN.map((p) => p[0]))) rmSync(dest, { recursive: true, force: true });
for (const [dest, pkg, files] of PLAN) {
  const meta = JSON.parse(readFileSync(join(nm, pkg, "package.json"), "utf8"));
  versions[pkg] = `${meta.version} (${meta.license})`;
  for (const f of files) {
    const out = join(dest, pkg, f.split("/").pop());
    mkdirSync(dirname(out), { recursive: true });
    cpSync(join(nm, pkg, f), out);
  }
}
// Offline: ReDoc's sidebar credit loads its logo from cdn.redoc.ly; point it at the API's own icon.
const redoc = join(STATIC, "redoc", "redoc.standalone.js");
writeFileSync(redoc, readFileSync(redoc, "utf8").replaceAll(
  "https://cdn.redoc.ly/redoc/logo-mini.svg", "/static/favicon.svg"));

const lines = Object.entries(versions).map(([k, v]) => `${k} ${v}`);
for (const dest of new Set(PLAN.map((p) => p[0]))) {
  writeFileSync(join(dest, "VERSIONS.txt"),
    "Vendored by `make vendor` from web/package-lock.json; each folder holds its LICENSE.\n" +
    lines.join("\n") + "\n");
}
console.log(lines.join("\n"));
