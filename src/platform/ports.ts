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

export type WindowDecision = RateLimitDecision;

export interface AdmissionRequest {
  bucket: string;
  limit: number;
  windowSeconds: number;
  cost?: number;
  /** Present for a user's access token: checked against the user's revocation watermarks. */
  session?: { organizationId: string; issuedAtMs: number };
}

export type Admission = { revoked: true } | { revoked: false; decision: RateLimitDecision };

export interface LoginAttempt {
  allowed: boolean;
  retryAfterSeconds: number;
}

/**
 * Exact per-subject counters and session watermarks (one Durable Object per user, API key, IP
 * or account on Workers; never one global object, never KV).
 */
export interface RateLimiter {
  /** Session check and rate limit in one round trip. `subject` is e.g. "user:<id>" or "ip:<addr>". */
  admit(subject: string, policy: RateLimitPolicy, session?: AdmissionRequest["session"]): Promise<Admission>;
  /** Revokes the user's access tokens issued until now, in one organization or all. */
  revokeSessions(userId: string, organizationId?: string): Promise<void>;
  reserveLoginAttempt(account: string, maxFailures: number, windowSeconds: number): Promise<LoginAttempt>;
  /** Returns true when this failure locked the account. */
  settleLoginAttempt(account: string, succeeded: boolean, maxFailures: number, lockSeconds: number): Promise<boolean>;
  /** A round trip to the limiter's storage, for readiness checks; answers its clock. */
  ping(): Promise<number>;
}

/** Background work (Queues on Workers). */
export interface Jobs {
  enqueue(job: Job, options?: { delaySeconds?: number }): Promise<void>;
  /** Reaches every queue without sending a job, for readiness checks. */
  ping(): Promise<void>;
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
