// Builds the deployable Worker with `wrangler deploy --dry-run` and reports its gzip size,
// failing above the 250 KiB budget in SPEC.md. Static assets (Swagger UI) are not in the bundle.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const BUDGET_KIB = 250;
const OUT = ".bundle";

export function measureBundle(): { rawKiB: number; gzipKiB: number } {
  rmSync(OUT, { recursive: true, force: true });
  execFileSync("wrangler", ["deploy", "--dry-run", "--outdir", OUT], { stdio: ["ignore", "ignore", "inherit"] });
  const files = readdirSync(OUT).filter((file) => file.endsWith(".js"));
  const code = Buffer.concat(files.map((file) => readFileSync(join(OUT, file))));
  return { rawKiB: code.length / 1024, gzipKiB: gzipSync(code, { level: 9 }).length / 1024 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { rawKiB, gzipKiB } = measureBundle();
  console.log(`bundle: ${rawKiB.toFixed(1)} KiB raw, ${gzipKiB.toFixed(1)} KiB gzip (budget ${BUDGET_KIB} KiB)`);
  if (gzipKiB > BUDGET_KIB) {
    console.error(`bundle: over budget by ${(gzipKiB - BUDGET_KIB).toFixed(1)} KiB`);
    process.exit(1);
  }
}
