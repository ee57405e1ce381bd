// Writes the OpenAPI document the app serves to a file (default dist/openapi.json), for Spectral
// and client generators: `node scripts/openapi-dump.ts [path]`. Built with the in-memory platform
// and throwaway secrets; no database or network is touched.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { createApp } from "#src/app.ts";
import { memoryPlatform } from "#src/platform/memory/adapters.ts";
import { generateSecrets } from "./dev-secrets.ts";

export async function openapiDocument(origin = "https://api.tend.care"): Promise<Record<string, unknown>> {
  const app = createApp(memoryPlatform(async () => {}));
  const env = { ENVIRONMENT: "test", DATABASE_URL: "postgres://tend@127.0.0.1:9/tend", ...generateSecrets("openapi-dump") };
  const response = await app.request(`${origin}/api/v1/openapi.json`, {}, env);
  if (response.status !== 200) throw new Error(`the document answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2] ?? "dist/openapi.json";
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(await openapiDocument(), null, 2)}\n`);
  console.log(`wrote ${path}`);
}
