// `npm run build`, and wrangler's `[build] command`: bundles src/index.ts into dist/worker/index.js
// and its chunks (dist/worker/chunks/), which wrangler.toml deploys as they are (`no_bundle = true`).
// The esbuild options are the ones wrangler uses for workerd, plus what wrangler can't do: code
// splitting, and zod modules Tend never uses left out (ZOD_STUBS). Also copies the Swagger UI
// assets, and checks the breached-password set the Worker reads from its static assets is there.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
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

const STUB = "zod-stub";
const ZOD_LOCALE = /(?:^|[\\/])node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]([^\\/]+)\.js$/;
const zodFile = (path: string) => new RegExp(`[\\\\/]node_modules[\\\\/]zod[\\\\/]v4[\\\\/]${path.replaceAll("/", "[\\\\/]").replaceAll(".", "\\.")}$`);
const unbundled = (name: string) => `() => { throw new Error("${name} is not bundled (scripts/build.ts)"); }`;

/**
 * zod modules the bundle leaves out, by the relative specifier zod imports them with, each
 * resolved to a module with the same exports that holds nothing:
 * - the all-languages locale barrel (38 KiB gzip): Tend speaks English, and zod's classic entry
 *   imports locales/en.js on its own, so its messages stay English;
 * - the ahead-of-time `z.compile` and `z.fromJSONSchema` (41 KiB raw), kept only because
 *   @hono/zod-openapi hands the whole `z` namespace to zod-to-openapi. Tend calls neither
 *   (`checkZodStubs` makes sure), so they throw.
 */
const ZOD_STUBS: Record<string, { file: RegExp; contents: string }> = {
  "../locales/index.js": { file: zodFile("locales/index.js"), contents: "export {};" },
  "./compile.js": {
    file: zodFile("core/compile.js"),
    contents: [
      `const unbundled = ${unbundled("z.compile")};`,
      'export const INVALID = Symbol.for("zod.compile.invalid");',
      "export class ZodCompileAsyncError extends Error {}",
      "export class ZodCompileUnsupportedError extends Error {}",
      "export const compile = unbundled, withParser = unbundled, compileFn = unbundled;",
    ].join("\n"),
  },
  "./from-json-schema.js": { file: zodFile("classic/from-json-schema.js"), contents: `export const fromJSONSchema = ${unbundled("z.fromJSONSchema")};` },
};

/** Resolves zod's own imports of the modules in ZOD_STUBS to their stubs. */
export const zodStubs: Plugin = {
  name: STUB,
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\.?\/(locales\/index|compile|from-json-schema)\.js$/ }, (args) =>
      ZOD_STUBS[args.path]?.file.test(resolve(args.resolveDir, args.path)) ? { path: args.path, namespace: STUB } : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: STUB }, (args) => ({ contents: ZOD_STUBS[args.path]?.contents ?? "", loader: "js" }));
  },
};

/**
 * Fails the build if zod changed its layout and a stub no longer applies, if more than English
 * came in, or if Tend's code calls what a stub leaves out.
 */
export function checkZodStubs(metafile: Metafile): void {
  const inputs = Object.keys(metafile.inputs);
  const stubbed = inputs.filter((input) => input.startsWith(`${STUB}:`));
  const locales = inputs.flatMap((input) => ZOD_LOCALE.exec(input)?.[1] ?? []);
  if (stubbed.length !== Object.keys(ZOD_STUBS).length || locales.join() !== "en") {
    throw new Error(`build: expected zod's ${Object.keys(ZOD_STUBS).join(", ")} stubbed and only locales/en.js bundled; stubbed: ${stubbed.join(", ") || "none"}, locales: ${locales.join(", ") || "none"}. Did zod's layout change?`);
  }
  const calls = /\bz\.(compile|withParser|fromJSONSchema)\b|import\s*\{[^}]*\b(compile|withParser|fromJSONSchema)\b[^}]*\}\s*from\s*"zod/;
  const callers = inputs.filter((input) => /^(src|durable-objects)\//.test(input) && calls.test(readFileSync(join(root, input), "utf8")));
  if (callers.length > 0) throw new Error(`build: ${callers.join(", ")} call a zod function the build leaves out (scripts/build.ts ZOD_STUBS)`);
}

/** What wrangler 4 passes esbuild for a modules Worker on workerd (bundleWorker, `wrangler deploy`). */
export function workerBuildOptions(entry: string, outfile: string): BuildOptions {
  const nodeEnv = JSON.stringify(process.env.NODE_ENV || (process.env.WRANGLER_COMMAND === "dev" ? "development" : "production"));
  return {
    entryPoints: { [basename(outfile, ".js")]: entry },
    outdir: dirname(outfile),
    // Features (src/chunks/), the jobs and the docs are chunks imported on first use
    // (src/lib/lazy-routes.ts): the entry holds what every request needs, so startup does not grow with each feature.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
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
    plugins: [zodStubs],
  };
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
  checkZodStubs(metafile);
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
    const outputs = Object.entries(metafile.outputs).filter(([file]) => file.endsWith(".js"));
    const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
    const entry = metafile.outputs[relative(root, outfile)]?.bytes ?? 0;
    console.log(`worker: ${relative(root, outfile)} and ${outputs.length - 1} chunks (${(bytes / 1024).toFixed(1)} KiB, the entry ${(entry / 1024).toFixed(1)} KiB; zod locales: en only)`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
