// The npm registry this project installs from carries only the Linux builds of
// platform-specific packages (deno, oxlint, workerd…). `npm install` then leaves
// those optional dependencies out of package-lock.json, and `npm ci` rejects the
// lock as out of sync. This drops the optional dependencies that have no entry in
// the lock from their parents' lists, so the lock describes exactly what installs.
// Run it after any `npm install` that changes the lock: `node scripts/lock-prune-platforms.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
let pruned = 0;

/** The lock entry Node's resolution would pick for `name` required from `location`. */
function resolvesTo(location, name) {
  let dir = location;
  for (;;) {
    const candidate = lock.packages[`${dir ? `${dir}/` : ""}node_modules/${name}`];
    if (candidate) return candidate;
    if (!dir) return undefined;
    const cut = dir.lastIndexOf("/node_modules/");
    dir = cut === -1 ? "" : dir.slice(0, cut);
  }
}
for (const [location, entry] of Object.entries(lock.packages)) {
  const optional = entry.optionalDependencies;
  if (!optional) continue;
  for (const [name, range] of Object.entries(optional)) {
    if (resolvesTo(location, name)?.version === range) continue;
    delete optional[name];
    pruned++;
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock: pruned ${pruned} optional platform dependencies the registry does not carry`);
