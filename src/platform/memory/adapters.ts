import type { Job } from "#src/jobs/job.ts";
import {
  type Adapters,
  type Cache,
  type Jobs,
  type Platform,
  type RateLimitDecision,
  type RateLimiter,
  systemClock,
} from "#src/platform/ports.ts";

/** In-process adapters for Deno and single-process runs: same contracts, no Cloudflare. */
export function memoryCache(clock = systemClock): Cache {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  return {
    async get<T>(key: string) {
      const entry = entries.get(key);
      if (!entry || entry.expiresAt <= clock.now().getTime()) return null;
      return JSON.parse(entry.value) as T;
    },
    async put(key, value, ttlSeconds) {
      entries.set(key, { value: JSON.stringify(value), expiresAt: clock.now().getTime() + ttlSeconds * 1000 });
    },
    async delete(key) {
      entries.delete(key);
    },
  };
}

export function memoryRateLimiter(clock = systemClock): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  return {
    async consume(key, policy, cost = 1): Promise<RateLimitDecision> {
      const now = clock.now().getTime();
      const bucket = `${key}|${policy.name}`;
      const existing = windows.get(bucket);
      const current = existing && existing.resetAt > now ? existing : { count: 0, resetAt: now + policy.windowSeconds * 1000 };
      const allowed = current.count + cost <= policy.limit;
      if (allowed) current.count += cost;
      windows.set(bucket, current);
      return {
        allowed,
        limit: policy.limit,
        remaining: Math.max(0, policy.limit - current.count),
        resetSeconds: Math.max(1, Math.ceil((current.resetAt - now) / 1000)),
      };
    },
    async ping() {
      return clock.now().getTime();
    },
  };
}

/** Runs each job soon after it is enqueued, in this process, with retries left to the runner. */
export function memoryJobs(run: (job: Job) => Promise<void>): Jobs {
  return {
    async enqueue(job, options = {}) {
      setTimeout(() => {
        run(job).catch((error: unknown) => {
          console.error(JSON.stringify({ level: "error", message: "job failed", kind: job.kind, error: error instanceof Error ? error.name : "unknown" }));
        });
      }, (options.delaySeconds ?? 0) * 1000);
    },
  };
}

export function memoryPlatform(runJob: (job: Job) => Promise<void>): Platform {
  const adapters: Adapters = {
    cache: memoryCache(),
    rateLimiter: memoryRateLimiter(),
    jobs: memoryJobs(runJob),
    clock: systemClock,
  };
  return { name: "memory", adapters: () => adapters };
}
