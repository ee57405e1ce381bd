import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import { entityKind } from "drizzle-orm/entity";
import { NeonHttpSession } from "drizzle-orm/neon-http/session";
import type { NeonHttpClient, NeonHttpQueryResultHKT } from "drizzle-orm/neon-http/session";
import { PgDatabase } from "drizzle-orm/pg-core/db";
import { PgDialect } from "drizzle-orm/pg-core/dialect";
import type { TablesRelationalConfig } from "drizzle-orm/relations";
import { createHttpClient, type WireStatement } from "#src/db/neon-http.ts";
import type { Config } from "#src/env.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import type { Timing } from "#src/lib/timing.ts";

/** Where a client sends its queries, its deadline, its timing and its scope. */
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

/** The statements that open every request's transaction, for this scope. */
function scopeStatements(scope: DbScope): WireStatement[] {
  const organizationId = scope.kind === "organization" ? scope.organizationId : "";
  const statements: WireStatement[] = [{ query: SCOPE_STATEMENT, params: [scope.kind, organizationId] }];
  if (scope.kind === "system") statements.push({ query: SYSTEM_AUDIT_STATEMENT, params: [uuidv7(), scope.job] });
  return statements;
}

/**
 * drizzle-orm/neon-http's database, rebuilt from its parts: importing the package's entry would
 * load `@neondatabase/serverless` (it builds a `neon()` client and sets its type parsers), which
 * is what src/db/neon-http.ts replaces. `batch` is NeonHttpDatabase's own: one transaction.
 */
class HttpDatabase extends PgDatabase<NeonHttpQueryResultHKT> {
  static override readonly [entityKind]: string = "NeonHttpDatabase";

  declare readonly session: NeonHttpSession<Record<string, never>, TablesRelationalConfig>;

  batch<U extends BatchItem<"pg">, T extends Readonly<[U, ...U[]]>>(batch: T): Promise<BatchResponse<T>> {
    return this.session.batch(batch);
  }
}

export interface DbOptions {
  timing?: Timing;
  timeoutMs?: number;
  /** Defaults to `account`; tenant code narrows it with `scoped()` (src/db/scope.ts). */
  scope?: DbScope;
}

/**
 * A drizzle client over Neon's SQL-over-HTTP protocol (src/db/neon-http.ts); built per request, never at module scope. No schema
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

/**
 * One dialect for every client: it holds no per-request state, only a cache of the (module-level)
 * tables' column names, which a per-request dialect would rebuild on every request.
 */
const dialect = new PgDialect();

function clientFor(url: string, context: DbContext): HttpDatabase {
  const client = createHttpClient({
    connectionString: url,
    endpoint: context.endpoint,
    timeoutMs: context.timeoutMs,
    onRoundTrip: context.timing ? (ms) => context.timing?.recordDb(ms) : undefined,
    prelude: () => scopeStatements(context.scope),
  });
  // The one cast: drizzle types its client as the driver's NeonQueryFunction; ours has the part
  // the session calls (`query(sql, params, {arrayMode, fullResults})` and `transaction(queries,
  // opts)`), and tests/workers/neon-http.test.ts holds it to the driver's answers.
  const session = new NeonHttpSession(client as unknown as NeonHttpClient, dialect, undefined);
  const db = new HttpDatabase(dialect, session, undefined);
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
