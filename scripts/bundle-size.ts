// Builds the deployable Worker with `wrangler deploy --dry-run` (which runs scripts/build.ts, the
// `[build] command`) and reports the gzip size of what it would upload, failing above the 250 KiB
// budget in SPEC.md. Static assets (Swagger UI) are not in the bundle. Also lists the packages
// that weigh most, from the esbuild metafile scripts/build.ts writes.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Metafile } from "esbuild";
import { METAFILE, OUT_FILE } from "./build.ts";

export const BUDGET_KIB = 250;
const OUT = ".bundle";
const OWN_CODE = "(Tend: src/, durable-objects/)";

export function measureBundle(): { rawKiB: number; gzipKiB: number; code: Buffer } {
  rmSync(OUT, { recursive: true, force: true });
  execFileSync("wrangler", ["deploy", "--dry-run", "--outdir", OUT], { stdio: ["ignore", "ignore", "inherit"] });
  // The entry and its chunks (loaded on first use), gzipped together as wrangler reports them.
  const files = readdirSync(OUT, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".js")).sort();
  const code = Buffer.concat(files.map((file) => readFileSync(join(OUT, file))));
  return { rawKiB: code.length / 1024, gzipKiB: gzipSync(code, { level: 9 }).length / 1024, code };
}

/** npm package an esbuild input belongs to (the innermost node_modules), or Tend's own code. */
function packageOf(input: string): string | undefined {
  if (!input.includes("/") || input.includes(":")) return undefined; // plugin namespaces (the zod stubs)
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(input);
  return match?.[1] ?? OWN_CODE;
}

/** Minified bytes each package contributes to the output (before gzip), largest first. */
export function packageSizes(metafile: Metafile): { name: string; bytes: number }[] {
  const sizes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      if (name !== undefined) sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { rawKiB, gzipKiB, code } = measureBundle();
  console.log(`bundle: ${rawKiB.toFixed(1)} KiB raw, ${gzipKiB.toFixed(1)} KiB gzip (budget ${BUDGET_KIB} KiB)`);
  // The metafile describes the upload only if wrangler uploaded scripts/build.ts's output as is.
  if (existsSync(METAFILE) && existsSync(OUT_FILE) && code.includes(readFileSync(OUT_FILE))) {
    const sizes = packageSizes(JSON.parse(readFileSync(METAFILE, "utf8")) as Metafile);
    const total = sizes.reduce((sum, { bytes }) => sum + bytes, 0);
    const line = ({ name, bytes }: { name: string; bytes: number }) =>
      `  ${name.padEnd(34)} ${(bytes / 1024).toFixed(1).padStart(6)} KiB  ${((100 * bytes) / total).toFixed(0).padStart(2)}%`;
    console.log("largest packages (minified, before gzip):");
    for (const size of sizes.filter(({ name }) => name !== OWN_CODE).slice(0, 5)) console.log(line(size));
    const own = sizes.find(({ name }) => name === OWN_CODE);
    if (own) console.log(line(own));
  } else {
    console.log(`bundle: no metafile for this upload (${METAFILE}); package breakdown skipped`);
  }
  if (gzipKiB > BUDGET_KIB) {
    console.error(`bundle: over budget by ${(gzipKiB - BUDGET_KIB).toFixed(1)} KiB`);
    process.exit(1);
  }
}
