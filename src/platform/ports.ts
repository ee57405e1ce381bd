import type { WorkerEnv } from "#src/env.ts";
import type { Job } from "#src/jobs/job.ts";

/** Hot-list cache (KV on Workers). Values are JSON; a miss is `null`. */
export interface Cache {
  get<T>(key: string): Promise<T | null>;
  put(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface RateLimitPolicy {
  /** Names the policy in `RateLimit-Policy`, e.g. "writes". */
  name: string;
  limit: number;
  windowSeconds: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/** Exact per-key counters (one Durable Object per user, IP or account on Workers). */
export interface RateLimiter {
  consume(key: string, policy: RateLimitPolicy, cost?: number): Promise<RateLimitDecision>;
  /** A round trip to the limiter's storage, for readiness checks; answers its clock. */
  ping(): Promise<number>;
}

/** Background work (Queues on Workers). */
export interface Jobs {
  enqueue(job: Job, options?: { delaySeconds?: number }): Promise<void>;
}

export interface Clock {
  now(): Date;
}

/** Everything the app needs from its runtime, built per request from `env`. */
export interface Adapters {
  cache: Cache;
  rateLimiter: RateLimiter;
  jobs: Jobs;
  clock: Clock;
}

export interface Platform {
  /** "cloudflare" or "memory"; reported by /ready. */
  name: string;
  adapters(env: WorkerEnv): Adapters;
}

export const systemClock: Clock = { now: () => new Date() };
