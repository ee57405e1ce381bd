import { sql } from "drizzle-orm";
import type { Database } from "#src/db/client.ts";
import type { Cache, Jobs, RateLimiter } from "#src/platform/ports.ts";

export interface DependencyCheck {
  status: "ok" | "fail";
  latencyMs: number;
  error?: string;
}

export interface Readiness {
  ok: boolean;
  checks: { database: DependencyCheck; kv: DependencyCheck; durableObjects: DependencyCheck; queue: DependencyCheck };
}

export interface ReadinessDeps {
  db: Database;
  cache: Cache;
  rateLimiter: RateLimiter;
  jobs: Jobs;
  /** No check may take longer than this; a silent dependency is a failed one. */
  timeoutMs: number;
}

/** Runs one probe with a deadline, reporting its latency and a short, internals-free failure. */
async function probe(run: () => Promise<unknown>, timeoutMs: number): Promise<DependencyCheck> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), timeoutMs);
  });
  try {
    await Promise.race([run(), deadline]);
    return { status: "ok", latencyMs: elapsed(started) };
  } catch (error) {
    const reason = error instanceof Error && error.message === "timed out" ? "timed out" : "unreachable";
    return { status: "fail", latencyMs: elapsed(started), error: reason };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 10) / 10;

/**
 * Checks every dependency in parallel: `select 1`, a KV read, a Durable Object round trip and each
 * queue's metrics (a producer call that sends no job).
 */
export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const [database, kv, durableObjects, queue] = await Promise.all([
    probe(() => deps.db.execute(sql`select 1`), deps.timeoutMs),
    probe(() => deps.cache.get("ready:probe"), deps.timeoutMs),
    probe(() => deps.rateLimiter.ping(), deps.timeoutMs),
    probe(() => deps.jobs.ping(), deps.timeoutMs),
  ]);
  const checks = { database, kv, durableObjects, queue };
  return { ok: Object.values(checks).every((check) => check.status === "ok"), checks };
}
