// Copies Swagger UI's files from swagger-ui-dist into public/ so /docs works offline: they are
// served by this deployment (Workers static assets, or the Deno entry), never from a CDN.
// wrangler runs this as its build step; the test setup runs it too.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const target = join(root, "public", "docs", "vendor", "swagger-ui-dist");
const FILES = ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"];

export function copyDocsAssets(): string {
  mkdirSync(target, { recursive: true });
  for (const file of FILES) copyFileSync(join(dist, file), join(target, file));
  return target;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`docs assets: ${copyDocsAssets()}`);
}
