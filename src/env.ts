import { z } from "zod";
import { parseCidr } from "#src/lib/client-address.ts";

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

/** `id:secret,id2:secret2` → ordered entries; the first is the current one. */
function keyring(minSecretLength: number) {
  return z
    .string()
    .transform((text) =>
      text.split(",").map((pair) => {
        const colon = pair.indexOf(":");
        return { id: pair.slice(0, colon).trim(), secret: pair.slice(colon + 1).trim() };
      }),
    )
    .pipe(
      z
        .array(z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/), secret: z.string().min(minSecretLength) }))
        .min(1),
    );
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** Keys that configure one provider together. */
const PROVIDER_GROUPS = [
  ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"],
  ["FCM_PROJECT_ID", "FCM_SERVICE_ACCOUNT_JSON"],
] as const;

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

  /** Public base URL of the app that links in emails point to. */
  APP_URL: z.url().default("http://localhost:8787"),
  /** SECRET. JSON array of private EC P-256 JWKs, each with a `kid`; the first signs, all verify. */
  JWT_PRIVATE_KEYS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON array of JWKs" });
        return z.NEVER;
      }
    })
    .pipe(z.array(z.object({ kid: z.string().min(1), kty: z.literal("EC"), crv: z.literal("P-256"), d: z.string() }).loose()).min(1)),
  JWT_ISSUER: z.string().min(1).default("https://api.tend.care"),
  JWT_AUDIENCE: z.string().min(1).default("tend-api"),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(900).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(90).default(30),
  /** SECRET. `id:secret` pairs, comma-separated; the first peppers new hashes, all verify. */
  PASSWORD_PEPPERS: keyring(32),
  /** SECRET. `id:base64-32-byte-key` pairs for AES-256-GCM at rest (TOTP secrets, OAuth tokens). */
  ENCRYPTION_KEYS: keyring(44),
  API_KEY_GRACE_HOURS: z.coerce.number().int().min(0).max(24 * 30).default(24),
  RATE_LIMIT_READS_PER_MINUTE: positiveInt(600),
  RATE_LIMIT_WRITES_PER_MINUTE: positiveInt(120),
  /** Per address on auth routes; unset: 10, or 120 in development (see authCallsPerMinute). */
  RATE_LIMIT_AUTH_PER_MINUTE: z.coerce.number().int().positive().optional(),
  /**
   * Deno only: comma-separated CIDRs of reverse proxies in front of the server (e.g. nginx). From
   * a trusted peer the caller's address is X-Forwarded-For's rightmost untrusted hop; empty: the
   * socket's peer. Workers ignore it (Cloudflare's edge sets CF-Connecting-IP).
   */
  TRUSTED_PROXIES: csv.pipe(z.array(z.string().refine((cidr) => parseCidr(cidr) !== null, "must be CIDRs, e.g. 10.0.0.0/8,::1/128"))),
  /** SECRET, optional. Resend API key for transactional email; unset logs the links instead. */
  RESEND_API_KEY: z.string().min(10).optional(),
  MAIL_FROM: z.string().min(3).default("Tend <no-reply@tend.care>"),
  /** SECRET, optional. Twilio account (SMS through the Messages API, voice calls through Calls); unset logs instead. */
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be an account SID (AC and 32 hex digits)").optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
  /** The Twilio number (E.164) SMS and calls come from. */
  TWILIO_FROM_NUMBER: z.string().regex(E164, "must be an E.164 number, e.g. +15005550006").optional(),
  /** Firebase project whose FCM HTTP v1 API sends push notifications. */
  FCM_PROJECT_ID: z.string().regex(/^[a-z0-9-]{4,40}$/, "must be a Firebase project id").optional(),
  /** SECRET, optional. The service account's JSON key (client_email, private_key): signs the OAuth JWT. */
  FCM_SERVICE_ACCOUNT_JSON: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be the service account's JSON key" });
        return z.NEVER;
      }
    })
    .pipe(z.object({ client_email: z.email(), private_key: z.string().includes("PRIVATE KEY"), private_key_id: z.string().optional() }).loose())
    .optional(),
  /** Check new passwords against Pwned Passwords (k-anonymity range API); unset: on in production only. */
  PWNED_PASSWORDS_CHECK: z.enum(["on", "off"]).optional(),
}).superRefine((config, ctx) => {
  if (config.ENVIRONMENT === "production" && !config.RESEND_API_KEY) {
    ctx.addIssue({ code: "custom", path: ["RESEND_API_KEY"], message: "is required in production (mail would only be logged)" });
  }
  // A provider is configured whole or not at all; in production, configured.
  for (const group of PROVIDER_GROUPS) {
    const set = group.filter((key) => config[key] !== undefined);
    if (set.length === group.length || (set.length === 0 && config.ENVIRONMENT !== "production")) continue;
    for (const missing of group.filter((key) => config[key] === undefined)) {
      ctx.addIssue({ code: "custom", path: [missing], message: set.length === 0 ? "is required in production (messages would only be logged)" : `is required with ${set.join(", ")}` });
    }
  }
});

const binding = <T>(method: string) =>
  z.custom<T>(
    (value) => typeof value === "object" && value !== null && method in value,
    `is not a bound ${method}() binding`,
  );

/**
 * A binding's type as `wrangler types` generated it from wrangler.toml (worker-configuration.d.ts,
 * kept fresh by `npm run types`). Deno checks this file without it, where it is never.
 */
type Generated<K extends string> = Cloudflare.Env extends Record<K, infer T> ? T : never;

/** The Cloudflare bindings from wrangler.toml; the Deno entry uses memory adapters instead. */
export const bindingsSchema = z.object({
  CACHE: binding<Generated<"CACHE">>("get"),
  RATE_LIMITER: binding<Generated<"RATE_LIMITER">>("idFromName"),
  NOTIFICATION_HUB: binding<Generated<"NOTIFICATION_HUB">>("idFromName"),
  JOBS: binding<Generated<"JOBS">>("send"),
  /** The dead-letter queue's producer: a malformed job message is sent here at once. */
  DEAD_LETTERS: binding<Generated<"DEAD_LETTERS">>("send"),
  /** The `[assets]` directory: the password policy's breached set (src/lib/password-policy.ts). */
  ASSETS: binding<Generated<"ASSETS">>("fetch"),
  /** The dead-letter queue's name: batches from it are parked, not run. */
  DEAD_LETTER_QUEUE: z.string().min(1),
});

export type Config = z.infer<typeof configSchema>;
export type Bindings = z.infer<typeof bindingsSchema>;

/** Auth calls a minute per address: as configured, else 120 in development (the README walk-through) and 10 elsewhere. */
export function authCallsPerMinute(config: Pick<Config, "ENVIRONMENT" | "RATE_LIMIT_AUTH_PER_MINUTE">): number {
  return config.RATE_LIMIT_AUTH_PER_MINUTE ?? (config.ENVIRONMENT === "development" ? 120 : 10);
}

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
