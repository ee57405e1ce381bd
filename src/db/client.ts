import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import type { Config } from "#src/env.ts";
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
}

type InitWithContext = RequestInit & { [DB_CONTEXT]?: DbContext };

async function dbFetch(input: RequestInfo | URL, init: InitWithContext = {}): Promise<Response> {
  const context = init[DB_CONTEXT];
  const { [DB_CONTEXT]: _context, ...plainInit } = init;
  const started = performance.now();
  try {
    return await fetch(context?.endpoint ?? input, {
      ...plainInit,
      signal: AbortSignal.timeout(context?.timeoutMs ?? 8000),
    });
  } finally {
    context?.timing?.recordDb(performance.now() - started);
  }
}

neonConfig.fetchFunction = dbFetch;

export interface DbOptions {
  timing?: Timing;
  timeoutMs?: number;
}

/**
 * A drizzle client over Neon's HTTP driver; built per request, never at module scope. No schema
 * is passed: queries use the query builder, and the relational metadata a schema makes would be
 * rebuilt on every request (~55 µs of CPU) for nothing.
 */
export function createDb(config: Config, options: DbOptions = {}) {
  const context: DbContext = {
    endpoint: config.DATABASE_HTTP_ENDPOINT,
    timeoutMs: options.timeoutMs ?? config.DATABASE_TIMEOUT_MS,
    timing: options.timing,
  };
  const client = neon(config.DATABASE_URL, {
    fetchOptions: { [DB_CONTEXT]: context } as RequestInit,
  });
  return drizzle({ client });
}

export type Database = ReturnType<typeof createDb>;
