// `npm run build`, and wrangler's `[build] command`: bundles src/index.ts into dist/worker/index.js,
// which wrangler.toml deploys as is (`no_bundle = true`). The esbuild options are the ones wrangler
// uses for workerd, plus one thing wrangler can't do: zod's `export * as locales` (≈40 languages,
// 38 KiB gzip) resolves to an empty module. Tend speaks English only, and zod's classic entry
// imports locales/en.js directly, so its messages stay English. Also copies the Swagger UI assets,
// and checks the breached-password set the Worker reads from its static assets is there.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, type Metafile, type Plugin, build } from "esbuild";
import { copyDocsAssets } from "./docs-assets.ts";
import { unpackGolombSet } from "../src/lib/golomb-set.ts";
import { BREACHED_SET_PATH } from "../src/lib/password-policy.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ENTRY = join(root, "src", "index.ts");
export const OUT_FILE = join(root, "dist", "worker", "index.js");
/** Outside dist/worker on purpose: with `no_bundle`, wrangler uploads what rules match in there. */
export const METAFILE = join(root, "dist", "worker.meta.json");

const STUB = "zod-locales-stub";
/** zod's all-languages barrel; `zod/v4/locales/en.js`, imported on its own, is not matched. */
const ZOD_LOCALES_INDEX = /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/;
const ZOD_LOCALE = /(?:^|[\\/])node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]([^\\/]+)\.js$/;

/** Resolves zod's own relative `../locales/index.js` imports to a module that exports nothing. */
export const zodLocalesStub: Plugin = {
  name: STUB,
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      ZOD_LOCALES_INDEX.test(resolve(args.resolveDir, args.path)) ? { path: STUB, namespace: STUB } : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: STUB }, () => ({ contents: "export {};", loader: "js" }));
  },
};

/** What wrangler 4 passes esbuild for a modules Worker on workerd (bundleWorker, `wrangler deploy`). */
export function workerBuildOptions(entry: string, outfile: string): BuildOptions {
  const nodeEnv = JSON.stringify(process.env.NODE_ENV || (process.env.WRANGLER_COMMAND === "dev" ? "development" : "production"));
  return {
    entryPoints: [entry],
    outfile,
    absWorkingDir: root,
    bundle: true,
    format: "esm",
    conditions: ["workerd", "worker", "browser"],
    target: "es2024",
    supported: { "import-source": true, using: true },
    loader: { ".js": "jsx", ".mjs": "jsx", ".cjs": "jsx" },
    external: ["cloudflare:*", "__STATIC_CONTENT_MANIFEST"],
    define: {
      "process.env.NODE_ENV": nodeEnv,
      "global.process.env.NODE_ENV": nodeEnv,
      "globalThis.process.env.NODE_ENV": nodeEnv,
    },
    minify: true,
    // wrangler keeps function and class names (`__name(…)` around each); Tend reads none at run
    // time (error names are set explicitly, Durable Objects bind by export name, stack traces map
    // back through the uploaded source map), and dropping them saves 18 KiB gzip.
    keepNames: false,
    sourcemap: true,
    metafile: true,
    logLevel: "warning",
    plugins: [zodLocalesStub],
  };
}

/** Fails the build if zod changed its layout and the stub no longer applies (or dropped English). */
export function checkLocales(metafile: Metafile): void {
  const locales = Object.keys(metafile.inputs).flatMap((input) => ZOD_LOCALE.exec(input)?.[1] ?? []);
  const stubbed = Object.keys(metafile.inputs).some((input) => input.startsWith(`${STUB}:`));
  const extra = locales.filter((name) => name !== "en");
  if (!stubbed || extra.length > 0 || !locales.includes("en")) {
    throw new Error(
      `build: expected zod's locale barrel stubbed and only locales/en.js bundled; stub used: ${stubbed}, locales: ${locales.join(", ") || "none"}. Did zod's layout change?`,
    );
  }
}

/**
 * With `no_bundle`, wrangler no longer checks that the Durable Object classes named in
 * wrangler.toml are exported by the entry, so this does.
 */
export function checkExports(metafile: Metafile, outfile: string): void {
  const exported = metafile.outputs[relative(root, outfile)]?.exports ?? [];
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const classes = [...toml.matchAll(/^\s*class_name\s*=\s*"([^"]+)"/gm)].map((match) => match[1] ?? "");
  const missing = ["default", ...classes].filter((name) => !exported.includes(name));
  if (missing.length > 0) throw new Error(`build: ${relative(root, outfile)} does not export ${missing.join(", ")}`);
}

/**
 * The breached set is a static asset (public/_tend/, committed; made by
 * scripts/generate-breached-passwords.ts), not in the bundle. Without it every password would be
 * refused with a 503, so a build without a readable set fails.
 */
export function checkBreachedSet(): { file: string; size: number } {
  const file = join(root, "public", BREACHED_SET_PATH);
  try {
    return { file, size: unpackGolombSet(readFileSync(file)).size };
  } catch (error) {
    throw new Error(`build: ${relative(root, file)} is missing or corrupt (${error instanceof Error ? error.message : error}); run node scripts/generate-breached-passwords.ts`, { cause: error });
  }
}

export async function buildWorker(): Promise<{ outfile: string; metafile: Metafile }> {
  rmSync(dirname(OUT_FILE), { recursive: true, force: true });
  mkdirSync(dirname(OUT_FILE), { recursive: true });
  const { metafile } = await build(workerBuildOptions(ENTRY, OUT_FILE));
  if (!metafile) throw new Error("build: esbuild returned no metafile");
  checkLocales(metafile);
  checkExports(metafile, OUT_FILE);
  writeFileSync(METAFILE, JSON.stringify(metafile));
  return { outfile: OUT_FILE, metafile };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log(`docs assets: ${relative(root, copyDocsAssets())}`);
    const breached = checkBreachedSet();
    console.log(`breached set: ${relative(root, breached.file)} (${breached.size} entries, a static asset)`);
    const { outfile, metafile } = await buildWorker();
    const bytes = metafile.outputs[relative(root, outfile)]?.bytes ?? 0;
    console.log(`worker: ${relative(root, outfile)} (${(bytes / 1024).toFixed(1)} KiB, zod locales: en only)`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
