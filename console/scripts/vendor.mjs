// Copy the pinned npm libraries the console ships into the Python package (no CDN).
//   node scripts/vendor.mjs          copy from node_modules into server/console/static/vendor
//   node scripts/vendor.mjs --check  fail when the shipped copy differs from node_modules
// Each library keeps its licence file next to it; VERSIONS.json records what was vendored.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "..", "node_modules");
const target = join(here, "..", "..", "server", "console", "static", "vendor");

/** library -> [source path in its package, shipped name] */
const FILES = {
  leaflet: [
    ["dist/leaflet.js", "leaflet.js"],
    ["dist/leaflet.css", "leaflet.css"],
    ["dist/images/layers.png", "images/layers.png"],
    ["dist/images/layers-2x.png", "images/layers-2x.png"],
    ["dist/images/marker-icon.png", "images/marker-icon.png"],
    ["dist/images/marker-icon-2x.png", "images/marker-icon-2x.png"],
    ["dist/images/marker-shadow.png", "images/marker-shadow.png"],
    ["LICENSE", "LICENSE"],
  ],
  uplot: [
    ["dist/uPlot.iife.min.js", "uPlot.iife.min.js"],
    ["dist/uPlot.min.css", "uPlot.min.css"],
    ["LICENSE", "LICENSE"],
  ],
  "swagger-ui-dist": [
    ["swagger-ui-bundle.js", "swagger-ui-bundle.js"],
    ["swagger-ui-standalone-preset.js", "swagger-ui-standalone-preset.js"],
    ["swagger-ui.css", "swagger-ui.css"],
    ["LICENSE", "LICENSE"],
    ["NOTICE", "NOTICE"],
  ],
};
const SHIPPED_AS = { "swagger-ui-dist": "swagger-ui" };

const sha = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");
const check = process.argv.includes("--check");
const versions = {};
let stale = 0;
for (const [lib, files] of Object.entries(FILES)) {
  const pkg = JSON.parse(readFileSync(join(modules, lib, "package.json"), "utf8"));
  versions[lib] = { version: pkg.version, license: pkg.license, files: {} };
  for (const [src, dest] of files) {
    const from = join(modules, lib, src);
    const to = join(target, SHIPPED_AS[lib] ?? lib, dest);
    versions[lib].files[dest] = sha(from);
    if (check) {
      if (!existsSync(to) || sha(to) !== sha(from)) {
        console.error(`stale: ${to}`);
        stale += 1;
      }
    } else {
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, to);
    }
  }
}
const manifest = JSON.stringify(versions, null, 2) + "\n";
const manifestPath = join(target, "VERSIONS.json");
if (check) {
  if (!existsSync(manifestPath) || readFileSync(manifestPath, "utf8") !== manifest) {
    console.error(`stale: ${manifestPath}`);
    stale += 1;
  }
  if (stale) {
    console.error("run `npm run vendor` in console/ and commit server/console/static/vendor");
    process.exit(1);
  }
  console.log("vendored files match package-lock");
} else {
  writeFileSync(manifestPath, manifest);
  console.log(`vendored into ${target}`);
}
