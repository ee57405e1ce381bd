import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { createDb } from "#src/db/client.ts";
import { parseConfig } from "#src/env.ts";
import worker from "#src/index.ts";
import { createApp } from "#src/app.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import type { Platform } from "#src/platform/ports.ts";

export const BASE = "http://tend.test";

/** A request through the Worker exactly as deployed (SELF runs src/index.ts). */
export function api(path: string, init?: RequestInit): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, init);
}

/** The Worker's fetch with some variables replaced: bad configuration, a dead database… */
export async function apiWithEnv(overrides: Record<string, unknown>, path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`, init), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** A database client for assertions, on the same gateway the Worker uses. */
export function testDb() {
  return createDb(parseConfig(env));
}

export async function problemOf(response: Response): Promise<Record<string, unknown>> {
  if (!response.headers.get("Content-Type")?.startsWith("application/problem+json")) {
    throw new Error(`expected problem+json, got ${response.headers.get("Content-Type")} (${response.status})`);
  }
  return (await response.json()) as Record<string, unknown>;
}

/** The SQL round trips a response's Server-Timing names (`db;…;desc="N round trips"`), NaN without one. */
export const roundTrips = (response: Response): number =>
  Number(/desc="(\d+) round trips"/.exec(response.headers.get("Server-Timing") ?? "")?.[1] ?? Number.NaN);

/**
 * The real app on a clock the test moves (`now()` is read at every use), called like `api`:
 * `const call = appOnClock(() => now)`, then `now = …` between calls.
 */
export function appOnClock(now: () => Date): (path: string, init?: RequestInit) => Promise<Response> {
  const platform: Platform = {
    ...cloudflarePlatform,
    name: "test-fixed-clock",
    adapters: (workerEnv) => ({ ...cloudflarePlatform.adapters(workerEnv), clock: { now } }),
  };
  const app = createApp(platform);
  return async (path, init) => {
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request(`${BASE}${path}`, init), env, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}
