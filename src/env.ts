import { z } from "zod";

/**
 * Every variable, secret and binding Tend reads. This is the only file that knows them all;
 * `.dev.vars.example` documents each one. Errors name the bad keys and never print a value.
 */
const csv = z
  .string()
  .default("")
  .transform((value) =>
    value
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const configSchema = z.object({
  ENVIRONMENT: z.enum(["development", "test", "production"]).default("production"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** Postgres connection string: Neon in production, the local gateway in development. */
  DATABASE_URL: z
    .url()
    .refine((url) => /^postgres(ql)?:\/\//.test(url), "must be a postgres:// URL"),
  /** SQL-over-HTTP endpoint override; set only for the local gateway (http://127.0.0.1:PORT/sql). */
  DATABASE_HTTP_ENDPOINT: z.url().optional(),
  /** How long one SQL-over-HTTP round trip may take before the request answers 503. */
  DATABASE_TIMEOUT_MS: positiveInt(8000),
  /** Comma-separated origins allowed by CORS; empty allows none. */
  CORS_ORIGINS: csv.pipe(z.array(z.url())),
  BODY_LIMIT_BYTES: positiveInt(1024 * 1024),
  /** Errors are reported to Sentry through toucan-js when set. */
  SENTRY_DSN: z.url().optional(),
  RELEASE: z.string().max(64).optional(),
});

const binding = <T>(method: string) =>
  z.custom<T>(
    (value) => typeof value === "object" && value !== null && method in value,
    `is not a bound ${method}() binding`,
  );

/** The Cloudflare bindings from wrangler.toml; the Deno entry uses memory adapters instead. */
export const bindingsSchema = z.object({
  CACHE: binding<KVNamespace>("get"),
  RATE_LIMITER: binding<DurableObjectNamespace>("idFromName"),
  JOBS: binding<Queue>("send"),
});

export type Config = z.infer<typeof configSchema>;
export type Bindings = z.infer<typeof bindingsSchema>;

/** What a Worker receives as `env`: strings for variables and secrets, objects for bindings. */
export type WorkerEnv = Record<string, unknown>;

export class ConfigError extends Error {
  readonly keys: string[];
  constructor(keys: string[]) {
    super(`invalid configuration: ${keys.join(", ")}`);
    this.name = "ConfigError";
    this.keys = keys;
  }
}

const parsed = new WeakMap<object, Config>();

/** Validates the variables once per env object; throws ConfigError naming every bad key. */
export function parseConfig(env: WorkerEnv): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const result = configSchema.safeParse(env);
  if (!result.success) throw new ConfigError(badKeys(result.error));
  parsed.set(env, result.data);
  return result.data;
}

export function parseBindings(env: WorkerEnv): Bindings {
  const result = bindingsSchema.safeParse(env);
  if (!result.success) throw new ConfigError(badKeys(result.error));
  return result.data;
}

function badKeys(error: z.ZodError): string[] {
  return [...new Set(error.issues.map((issue) => String(issue.path[0] ?? "(root)")))].sort();
}
