// Every package in package-lock.json must accept the Node versions that build the UI: Debian
// bookworm's 18.20 in the image and the host's 20. Run: node tools/check-engines.mjs
import { readFileSync } from "node:fs";
import semver from "semver";

const targets = process.argv.slice(2).length ? process.argv.slice(2) : ["18.20.4", "20.19.0"];
const lock = JSON.parse(readFileSync(new URL("../package-lock.json", import.meta.url), "utf8"));
const refused = [];
for (const [path, meta] of Object.entries(lock.packages)) {
  const range = meta.engines?.node;
  if (!path || !range || meta.optional) continue;
  for (const version of targets) {
    if (!semver.satisfies(version, range))
      refused.push(`${path} (${meta.version}) needs node ${range}, not ${version}`);
  }
}
if (refused.length) {
  console.error(refused.join("\n"));
  process.exit(1);
}
console.log(`engines: every locked package accepts node ${targets.join(" and ")}`);
