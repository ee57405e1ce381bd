// Reads .dev.vars (KEY=value lines, # comments, optional quotes) and builds the development
// configuration: defaults that make a fresh clone run, overridden by the developer's .dev.vars.
import { existsSync, readFileSync } from "node:fs";
import { configSchema } from "../src/env.ts";
import { persistentDevSecrets } from "./dev-secrets.ts";

export function parseDotenv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const value = line.slice(eq + 1).trim();
    vars[line.slice(0, eq).trim()] = value.replace(/^(['"])(.*)\1$/, "$2");
  }
  return vars;
}

/** KEY='value' lines that parseDotenv (and wrangler's dotenv) read back unchanged. */
export function toDotenv(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([key, value]) => {
      if (/[\n\r]/.test(value) || value.includes("'")) throw new Error(`dev: ${key} holds a quote or a line break`);
      return `${key}='${value}'`;
    })
    .join("\n");
}

export function readDevVars(path = ".dev.vars"): Record<string, string> {
  return existsSync(path) ? parseDotenv(readFileSync(path, "utf8")) : {};
}

/**
 * The development defaults. APP_URL is where the API itself listens (there is no front-end in
 * this repository), so mailed links carry the real port, and the dev log's curl commands work.
 * Auth calls get 120 a minute, enough for the README walk-through; production keeps 10.
 */
export function devDefaults(gatewayPort: number, port = 8787): Record<string, string> {
  return {
    ENVIRONMENT: "development",
    LOG_LEVEL: "info",
    DATABASE_URL: `postgres://tend:tend@127.0.0.1:${gatewayPort}/tend`,
    DATABASE_HTTP_ENDPOINT: `http://127.0.0.1:${gatewayPort}/sql`,
    CORS_ORIGINS: "http://localhost:3000,http://localhost:5173",
    APP_URL: `http://localhost:${port}`,
    RATE_LIMIT_AUTH_PER_MINUTE: "120",
    ...persistentDevSecrets(),
  };
}

/** The keys that fail validation, or an empty list. Never returns or prints a value. */
export function invalidKeys(vars: Record<string, string>): string[] {
  const result = configSchema.safeParse(vars);
  if (result.success) return [];
  return [...new Set(result.error.issues.map((issue) => String(issue.path[0] ?? "(root)")))].sort();
}

/** Configuration keys set in the process environment win over .dev.vars (e.g. `LOG_LEVEL=debug npm run dev`). */
export function environmentOverrides(environment: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const keys = Object.keys(configSchema.shape);
  return Object.fromEntries(
    keys.flatMap((key) => (environment[key] === undefined ? [] : [[key, String(environment[key])]])),
  );
}
