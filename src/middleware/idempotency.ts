import { z } from "@hono/zod-openapi";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import type { Database } from "#src/db/client.ts";
import { firstRow } from "#src/db/rows.ts";
import { idempotencyKeys } from "#src/db/schema/index.ts";
import { type KeyringEntry, open, seal } from "#src/lib/envelope.ts";
import { Conflict, ProblemError, ValidationFailed } from "#src/lib/errors.ts";
import { currentPurposeKey, type DerivedKey, hmacHex, purposeKeys } from "#src/lib/keys.ts";
import type { AppEnv } from "#src/lib/types.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export const IDEMPOTENCY_TTL_HOURS = 24;
/** A claim still unfinished after this long belongs to a request that died; a retry may take it. */
const ABANDONED_AFTER_SECONDS = 60;
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;
/** The response headers a replay repeats; the rest (request id, timing, rate limit) are per request. */
const REPLAYED_HEADERS = ["content-type", "cache-control", "location", "etag"];

/** The optional request header, for a create route's OpenAPI `request.headers`. */
export const IdempotencyKeyHeader = z.object({
  "Idempotency-Key": z
    .string()
    .max(255)
    .regex(KEY_FORMAT)
    .optional()
    .openapi({
      description:
        "1–255 visible ASCII characters: generate a fresh UUID per intended create. A retry with the same key and body within 24 hours replays the first response with `Idempotent-Replayed: true`.",
    }),
});

const Found = z.object({
  claimed: z.boolean(),
  request_hash: z.string(),
  status: z.number().int().nullable(),
  response: z.string().nullable(),
});
type Found = z.infer<typeof Found>;

interface StoredResponse {
  headers: [string, string][];
  body: string;
}

/**
 * Keys are per caller: a member in one organization or an API key. Before sign-in there is no
 * caller to scope by, so the key is scoped by the request itself (its keyed hash): two
 * anonymous callers sending different requests under one key never collide, and nobody can squat
 * a key for others; only a byte-identical request (the retry) finds the first response.
 */
function scopeOf(auth: AuthContext | undefined, hashOfRequest: string): string {
  if (!auth) return `anon:${hashOfRequest}`;
  if (auth.kind === "api_key") return `apikey:${auth.apiKeyId}`;
  return `user:${auth.userId}:${auth.organizationId}`;
}

/**
 * Keyed, not a plain SHA-256: a signup body holds a password, and a plain hash of it in the
 * database would be a fast offline guess, bypassing the slow password hash. The key is the
 * idempotency key derived from the current pepper (src/lib/keys.ts), named by its id.
 */
async function requestHash(message: string, key: DerivedKey): Promise<string> {
  return `${key.id}:${await hmacHex(key.key, message)}`;
}

/** Whether a stored hash is of this request, under whichever configured pepper's key made it. */
async function isSameRequest(stored: string, current: string, message: string, peppers: readonly KeyringEntry[]): Promise<boolean> {
  if (stored === current) return true;
  const key = (await purposeKeys("idempotency", peppers)).find((entry) => stored.startsWith(`${entry.id}:`));
  return key !== undefined && (await requestHash(message, key)) === stored;
}

/**
 * Claims the key, or finds who holds it, in one statement. An expired or abandoned row is taken
 * over. Returns nothing when a concurrent claim committed after this statement's snapshot.
 */
async function claimOrFind(db: Database, scope: string, key: string, hash: string): Promise<Found | undefined> {
  const result = await db.execute(sql`
    with claimed as (
      insert into idempotency_keys as held (scope, key, request_hash, expires_at)
      values (${scope}, ${key}, ${hash}, now() + ${sql.raw(`interval '${IDEMPOTENCY_TTL_HOURS} hours'`)})
      on conflict (scope, key) do update
        set request_hash = excluded.request_hash, status = null, response = null, created_at = now(), expires_at = excluded.expires_at
        where held.expires_at <= now()
           or (held.status is null and held.created_at < now() - ${sql.raw(`interval '${ABANDONED_AFTER_SECONDS} seconds'`)})
      returning held.request_hash, held.status, held.response
    )
    select true as claimed, request_hash, status, response from claimed
    union all
    select false, request_hash, status, response from idempotency_keys
    where scope = ${scope} and key = ${key} and not exists (select 1 from claimed)`);
  return firstRow(Found, result);
}

const held = (scope: string, key: string) =>
  and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key), isNull(idempotencyKeys.status));

async function replay(status: number, sealed: string, keys: readonly KeyringEntry[]): Promise<Response> {
  const stored = JSON.parse(await open(sealed, [...keys])) as StoredResponse;
  const headers = new Headers(stored.headers);
  headers.set("Idempotent-Replayed", "true");
  return new Response(stored.body, { status, headers });
}

async function sealResponse(response: Response, keys: readonly KeyringEntry[]): Promise<string> {
  const headers = REPLAYED_HEADERS.flatMap((name): [string, string][] => {
    const value = response.headers.get(name);
    return value === null ? [] : [[name, value]];
  });
  const stored: StoredResponse = { headers, body: await response.clone().text() };
  return seal(JSON.stringify(stored), [...keys]);
}

/** Runs the handler under the claim: records what it answered, or frees the key after a failure. */
async function runClaimed(c: Context<AppEnv>, next: () => Promise<void>, scope: string, key: string): Promise<void> {
  const db = c.get("db");
  const release = () =>
    db
      .delete(idempotencyKeys)
      .where(held(scope, key))
      .catch(() => c.get("logger").log("warn", "could not release an idempotency key"));
  try {
    await next();
  } catch (error) {
    await release();
    throw error;
  }
  if (c.res.status >= 500) {
    await release();
    return;
  }
  const response = await sealResponse(c.res, c.get("config").ENCRYPTION_KEYS);
  await db
    .update(idempotencyKeys)
    .set({ status: c.res.status, response })
    .where(held(scope, key))
    .catch(() => c.get("logger").log("warn", "could not record an idempotent response"));
}

/**
 * `Idempotency-Key` support for create routes (after `requirePermission`). Without the header the
 * request passes through. With it, the first request claims the key for its caller and runs; its
 * response (below 500) is kept sealed for 24 hours and replayed, with `Idempotent-Replayed: true`,
 * to a retry with the same method, path and body. A retry while the first still runs gets 409, a
 * different request under the same key 422. A 5xx or a thrown error frees the key for a retry.
 */
export interface IdempotencyOptions {
  /** Sees a replay before it is answered (a patient-data create audits it, and may refuse it). */
  onReplay?: (c: Context<AppEnv>, replayed: Response) => Promise<Response>;
}

export function idempotent(options: IdempotencyOptions = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header("Idempotency-Key");
    if (key === undefined) return next();
    if (!KEY_FORMAT.test(key)) {
      throw ValidationFailed([{ path: "header.Idempotency-Key", message: "must be 1 to 255 visible ASCII characters" }]);
    }
    const config = c.get("config");
    const message = `${c.req.method} ${c.req.path}\n${await c.req.raw.clone().text()}`;
    const hash = await requestHash(message, await currentPurposeKey("idempotency", config.PASSWORD_PEPPERS));
    const scope = scopeOf(c.get("auth"), hash);

    const found = await claimOrFind(c.get("db"), scope, key, hash);
    if (found?.claimed) return runClaimed(c, next, scope, key);
    if (found && !(await isSameRequest(found.request_hash, hash, message, config.PASSWORD_PEPPERS))) {
      throw new ProblemError({
        status: 422,
        slug: "idempotency-key-reused",
        title: "Idempotency-Key reused",
        detail: "Idempotency-Key was used with a different request.",
        errors: [{ path: "header.Idempotency-Key", message: "was used with a different request" }],
      });
    }
    const { status, response } = found ?? { status: null, response: null };
    if (status === null || response === null) {
      throw Conflict("A request with this Idempotency-Key is still in progress; retry shortly.", { headers: { "Retry-After": "1" } });
    }
    const replayed = await replay(status, response, config.ENCRYPTION_KEYS);
    return options.onReplay ? options.onReplay(c, replayed) : replayed;
  };
}
