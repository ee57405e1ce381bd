import type { Job } from "#src/jobs/job.ts";
import {
  type Adapters,
  type Cache,
  type Jobs,
  type Platform,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimitPolicy,
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

/** The RateLimiter Durable Object's contract in one process: same counts, watermarks, lockout. */
export function memoryRateLimiter(clock = systemClock): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const watermarks = new Map<string, number>();
  const lockouts = new Map<string, { failures: number; windowEnds: number; lockedUntil: number }>();
  const now = () => clock.now().getTime();

  function consume(bucket: string, policy: RateLimitPolicy): RateLimitDecision {
    const at = now();
    const existing = windows.get(bucket);
    const current = existing && existing.resetAt > at ? existing : { count: 0, resetAt: at + policy.windowSeconds * 1000 };
    const allowed = current.count + 1 <= policy.limit;
    if (allowed) current.count += 1;
    windows.set(bucket, current);
    return {
      allowed,
      limit: policy.limit,
      remaining: Math.max(0, policy.limit - current.count),
      resetSeconds: Math.max(1, Math.ceil((current.resetAt - at) / 1000)),
    };
  }

  function lockout(account: string, windowSeconds: number) {
    const at = now();
    const state = lockouts.get(account);
    if (!state || (state.windowEnds <= at && state.lockedUntil <= at)) {
      const fresh = { failures: 0, windowEnds: at + windowSeconds * 1000, lockedUntil: 0 };
      lockouts.set(account, fresh);
      return fresh;
    }
    return state;
  }

  return {
    async admit(subject, policy, session) {
      if (session) {
        const revokedBefore = Math.max(watermarks.get(`${subject}|*`) ?? 0, watermarks.get(`${subject}|${session.organizationId}`) ?? 0);
        if (revokedBefore && session.issuedAtMs <= revokedBefore) return { revoked: true };
      }
      return { revoked: false, decision: consume(`${subject}|${policy.name}`, policy) };
    },
    async revokeSessions(userId, organizationId) {
      watermarks.set(`user:${userId}|${organizationId ?? "*"}`, now());
    },
    async reserveLoginAttempt(account, maxFailures, windowSeconds) {
      const state = lockout(account, windowSeconds);
      const at = now();
      if (state.lockedUntil > at) return { allowed: false, retryAfterSeconds: Math.ceil((state.lockedUntil - at) / 1000) };
      if (state.failures >= maxFailures) return { allowed: false, retryAfterSeconds: Math.ceil((state.windowEnds - at) / 1000) };
      state.failures += 1;
      return { allowed: true, retryAfterSeconds: 0 };
    },
    async settleLoginAttempt(account, succeeded, maxFailures, lockSeconds) {
      const state = lockout(account, lockSeconds);
      if (succeeded) {
        lockouts.delete(account);
        return false;
      }
      if (state.failures >= maxFailures && state.lockedUntil <= now()) {
        state.lockedUntil = now() + lockSeconds * 1000;
        return true;
      }
      return false;
    },
    async ping() {
      return now();
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
    async ping() {},
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
