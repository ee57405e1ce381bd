import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import type { Config } from "#src/env.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import type { Timing } from "#src/lib/timing.ts";

/**
 * Per-client settings the shared fetch function reads. They ride in the driver's `fetchOptions`
 * (which it spreads into every fetch) because `neonConfig` is global to the isolate, and two
 * requests must never see each other's endpoint, deadline or timing.
 */
const DB_CONTEXT = Symbol("tend.db");

interface DbContext {
  endpoint: string | undefined;
  timeoutMs: number;
  timing: Timing | undefined;
  scope: DbScope;
}

/**
 * Whose rows a client may see, enforced by row-level security (migration 0007) on every tenant
 * table. Every request the client sends is a transaction whose first statement sets the scope
 * and switches to the `tend_app` role (which does not bypass RLS), so the setting rides in the
 * same round trip as the query and dies with its transaction.
 *
 * - `organization`: only that organization's rows (the tenant features, through `scoped()`).
 * - `account`: flows keyed by a user or a secret rather than an organization, or that span the
 *   caller's organizations: login, signup, refresh, reset, invitation accept, API-key lookup,
 *   /me, switch, logout-all. RLS does not narrow these; their own WHERE does.
 * - `jobs`: background work (queue consumers, cron): no tenant rows at all, so a job that needs
 *   them must ask for `system` by name.
 * - `system`: jobs that span organizations; every round trip also writes an audit row naming
 *   the job, in the same transaction.
 */
export type DbScope =
  | { kind: "organization"; organizationId: string }
  | { kind: "account" }
  | { kind: "jobs" }
  | { kind: "system"; job: string };

/** The role every app query runs as: no BYPASSRLS, not a superuser, not the tables' owner. */
export const APP_ROLE = "tend_app";

const SCOPE_STATEMENT = `select set_config('role', '${APP_ROLE}', true), set_config('app.scope', $1, true), set_config('app.organization_id', $2, true)`;

const SYSTEM_AUDIT_STATEMENT = `insert into audit_events (id, action, target_type, target_id, metadata)
  values ($1, 'system.scope', 'job', $2, jsonb_build_object('job', $2::text))`;

interface WireStatement {
  query: string;
  params: unknown[];
}

/** The statements that open every request's transaction, for this scope. */
function scopeStatements(scope: DbScope): WireStatement[] {
  const organizationId = scope.kind === "organization" ? scope.organizationId : "";
  const statements: WireStatement[] = [{ query: SCOPE_STATEMENT, params: [scope.kind, organizationId] }];
  if (scope.kind === "system") statements.push({ query: SYSTEM_AUDIT_STATEMENT, params: [uuidv7(), scope.job] });
  return statements;
}

/**
 * Rewrites the driver's request into a transaction that starts with the scope statements, and
 * its answer back into what the driver asked for (one result, or the batch's own results).
 * Still one HTTP request: the budget of one round trip per `db.batch` holds.
 */
async function scopedFetch(url: RequestInfo | URL, init: RequestInit, scope: DbScope): Promise<Response> {
  const body = JSON.parse(String(init.body)) as WireStatement | { queries: WireStatement[] };
  const single = !("queries" in body);
  const prelude = scopeStatements(scope);
  const queries = [...prelude, ...(single ? [body] : body.queries)];
  const response = await fetch(url, { ...init, body: JSON.stringify({ queries }) });
  // Read an error's body here too, inside the deadline: a connection lost mid-body then fails as
  // the driver's connection error (503), not as a stray TypeError the driver does not wrap (500).
  if (!response.ok) return new Response(await response.arrayBuffer(), response);
  const { results } = (await response.json()) as { results: unknown[] };
  const own = results.slice(prelude.length);
  const answer = single ? own[0] : { results: own };
  return new Response(JSON.stringify(answer), { status: response.status, headers: { "Content-Type": "application/json" } });
}

type InitWithContext = RequestInit & { [DB_CONTEXT]?: DbContext };

async function dbFetch(input: RequestInfo | URL, init: InitWithContext = {}): Promise<Response> {
  const context = init[DB_CONTEXT];
  const { [DB_CONTEXT]: _context, ...plainInit } = init;
  const started = performance.now();
  try {
    const request = { ...plainInit, signal: AbortSignal.timeout(context?.timeoutMs ?? 8000) };
    const url = context?.endpoint ?? input;
    return await (context ? scopedFetch(url, request, context.scope) : fetch(url, request));
  } finally {
    context?.timing?.recordDb(performance.now() - started);
  }
}

neonConfig.fetchFunction = dbFetch;

export interface DbOptions {
  timing?: Timing;
  timeoutMs?: number;
  /** Defaults to `account`; tenant code narrows it with `scoped()` (src/db/scope.ts). */
  scope?: DbScope;
}

/**
 * A drizzle client over Neon's HTTP driver; built per request, never at module scope. No schema
 * is passed: queries use the query builder, and the relational metadata a schema makes would be
 * rebuilt on every request (~55 µs of CPU) for nothing.
 */
export function createDb(config: Config, options: DbOptions = {}) {
  return clientFor(config.DATABASE_URL, {
    endpoint: config.DATABASE_HTTP_ENDPOINT,
    timeoutMs: options.timeoutMs ?? config.DATABASE_TIMEOUT_MS,
    timing: options.timing,
    scope: options.scope ?? { kind: "account" },
  });
}

/** How each client was built, so a narrower one can be made from it. */
const origins = new WeakMap<object, { url: string; context: DbContext }>();

function clientFor(url: string, context: DbContext) {
  const client = neon(url, {
    fetchOptions: { [DB_CONTEXT]: context } as RequestInit,
  });
  const db = drizzle({ client });
  origins.set(db, { url, context });
  return db;
}

export type Database = ReturnType<typeof createDb>;

/** The same client (endpoint, deadline, timing) with another scope. */
export function withScope(db: Database, scope: DbScope): Database {
  const origin = origins.get(db);
  if (!origin) throw new Error("withScope: not a client made by createDb");
  return clientFor(origin.url, { ...origin.context, scope });
}

/** The scope a client runs in. */
export function scopeOf(db: Database): DbScope {
  const origin = origins.get(db);
  if (!origin) throw new Error("scopeOf: not a client made by createDb");
  return origin.context.scope;
}
