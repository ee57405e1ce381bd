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

/** An access token as the revocation check sees it. */
export interface SessionToken {
  organizationId: string;
  issuedAtMs: number;
  /** The token's `sid` (its refresh-token family); absent on tokens minted before sessions had ids. */
  sessionId?: string | undefined;
}

export interface AdmissionRequest {
  bucket: string;
  limit: number;
  windowSeconds: number;
  cost?: number;
  /** Present for a user's access token: checked against the user's revocations. */
  session?: SessionToken | undefined;
}

export type Admission = { revoked: true } | { revoked: false; decision: RateLimitDecision; lastWriteMs?: number | undefined };

/**
 * Rate limits, with the revocation check of the caller's access token in the same round trip: one
 * call per subject per request. `subject` is e.g. "user:<id>", "apikey:<id>" or "ip:<addr>".
 */
export interface RateLimits {
  /** Also answers when the subject last marked a write (`lastWriteMs`), for read-your-writes caches. */
  admit(subject: string, policy: RateLimitPolicy, session?: SessionToken): Promise<Admission>;
  /**
   * Records that the subject just changed something a cache holds: its next admissions answer
   * `lastWriteMs`, and a cached value built before it is stale for that subject (remembered
   * WRITE_STAMP_MEMORY_MS, longer than any cache TTL).
   */
  markWrite(subject: string): Promise<void>;
}

/** How long a subject's last write is remembered: past every cache's TTL. */
export const WRITE_STAMP_MEMORY_MS = 10 * 60_000;

/** Ends access tokens at once; admit() refuses them from then on. */
export interface SessionRevocation {
  /**
   * Revokes the user's access tokens issued until now, in one organization or all; with
   * `exceptSessionId`, every session's but that one's.
   */
  revokeSessions(userId: string, organizationId?: string, options?: { exceptSessionId?: string | undefined }): Promise<void>;
  /** Revokes every access token of one session (logout), whenever issued. */
  revokeSession(userId: string, sessionId: string): Promise<void>;
}

export interface LoginAttempt {
  allowed: boolean;
  retryAfterSeconds: number;
  /** This attempt is the one that started the per-account backoff (the owner is told by mail). */
  accountBackoffStarted?: boolean;
}

export interface LoginLockoutPolicy {
  /** Per account and source (client address): `maxFailures` per window locks that source out. */
  source: { maxFailures: number; windowSeconds: number; lockSeconds: number };
  /** Per account, any source: past `maxFailures` per window, each attempt waits a doubling, capped delay. */
  account?: { maxFailures: number; windowSeconds: number; baseLockSeconds: number; maxLockSeconds: number };
}

/** Failed sign-in counting (passwords, second factors), one state per account. */
export interface LoginLockout {
  /** Takes an attempt before the secret is checked, so concurrent guesses cannot all slip in. */
  reserveLoginAttempt(account: string, source: string, policy: LoginLockoutPolicy): Promise<LoginAttempt>;
  /** Settles a reserved attempt. Returns true when this failure locked the source or the account. */
  settleLoginAttempt(account: string, source: string, succeeded: boolean, policy: LoginLockoutPolicy): Promise<boolean>;
  /**
   * Forgets the account's failures and locks (a completed password reset); `exempt` lets that
   * source skip the per-account backoff for a while.
   */
  clearLoginLockout(account: string, exempt?: { source: string; seconds: number }): Promise<void>;
}

/**
 * Single-use values that live outside the database (MFA tokens' jti). Password-reset, email and
 * invitation tokens are spent in SQL, in the statement that uses them, and stay there.
 */
export interface SingleUseTokens {
  /** True the first time `key` is spent in `scope` within `ttlSeconds`; false ever after. */
  spendOnce(scope: string, key: string, ttlSeconds: number): Promise<boolean>;
}

/**
 * Everything the RateLimiter Durable Object does (one object per user, API key, IP or account on
 * Workers; never one global object, never KV), split by responsibility so a service can ask for
 * only the part it uses.
 */
export interface RateLimiter extends RateLimits, SessionRevocation, LoginLockout, SingleUseTokens {
  /** A round trip to the limiter's storage, for readiness checks; answers its clock. */
  ping(): Promise<number>;
}

/** Background work (Queues on Workers). */
export interface Jobs {
  enqueue(job: Job, options?: { delaySeconds?: number }): Promise<void>;
  /**
   * Many jobs in as few calls as the queue allows (Queues' sendBatch, 100 a call): a cron tick
   * that wrote thousands of events stays far below a Worker's subrequest limit. Optional: without
   * it, `enqueueAll` sends one by one.
   */
  enqueueBatch?(jobs: readonly Job[]): Promise<void>;
  /** Reaches every queue without sending a job, for readiness checks. */
  ping(): Promise<void>;
}

/** A live event for a user's open sockets; carries ids and states, never PHI beyond what the app shows. */
export interface RealtimeEvent {
  /** e.g. "alert.created", "reminder.due", "notification.created", "appointment.updated". */
  type: string;
  organizationId: string;
  data: Record<string, unknown>;
  /** The domain event's id, when there is one: a hub stores an id once, so a redelivery is not sent twice. */
  id?: string;
}

/**
 * Live updates (one NotificationHub Durable Object per user on Workers). Each published event gets
 * the user's next sequence number; a client reconnecting with `since` first gets what it missed.
 */
export interface Realtime {
  /** Sends `event` to each user's open sockets in the event's organization, and keeps it for replay. */
  publish(userIds: readonly string[], event: RealtimeEvent): Promise<void>;
  /** Accepts the WebSocket upgrade `request` into the user's hub (the ticket is already spent). */
  connect(userId: string, organizationId: string, request: Request, since?: number): Promise<Response>;
  /** Closes the user's sockets: in one organization (removal, role change) or all (logout-all). */
  disconnect(userId: string, organizationId?: string): Promise<void>;
  /**
   * Drops what the user's hub keeps of one patient's events in the organization (they left the
   * patient's care team), bar the appointments they are the clinician of: no later replay sends
   * them. Their sockets stay open for the patients they still follow.
   */
  forget(userId: string, organizationId: string, patientId: string): Promise<void>;
}

/** Sends every job, batched where the adapter can. */
export async function enqueueAll(jobs: Jobs, list: readonly Job[]): Promise<void> {
  if (list.length === 0) return;
  if (jobs.enqueueBatch) return jobs.enqueueBatch(list);
  await Promise.all(list.map((job) => jobs.enqueue(job)));
}

export interface Clock {
  now(): Date;
}

/**
 * Files deployed beside the code instead of inside the bundle (Workers static assets, read through
 * the ASSETS binding; public/ on disk for Deno): the password policy's breached set.
 */
export interface StaticAssets {
  /** The file at `path` (e.g. "/_tend/breached-passwords.bin"), or null when there is none. */
  get(path: string): Promise<Uint8Array | null>;
}

/** No files: what a platform has when it is given none (the password policy then answers 503). */
export const noStaticAssets: StaticAssets = { get: async () => null };

/** Everything the app needs from its runtime, built per request from `env`. */
export interface Adapters {
  cache: Cache;
  rateLimiter: RateLimiter;
  jobs: Jobs;
  clock: Clock;
  realtime: Realtime;
  assets: StaticAssets;
}

export interface Platform {
  /** "cloudflare" or "memory"; reported by /ready. */
  name: string;
  adapters(env: WorkerEnv): Adapters;
}

export const systemClock: Clock = { now: () => new Date() };
