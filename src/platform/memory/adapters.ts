import type { Job } from "#src/jobs/job.ts";
import {
  type Counter,
  consumeWindow,
  counterExpiresAt,
  type LockoutState,
  mergeMarks,
  nextWatermark,
  REVOCATION_MEMORY_MS,
  reserveAttempt,
  type SessionMark,
  settleAttempt,
  tokenRevoked,
  type Watermark,
  WHOLE_SESSION,
  type WindowState,
} from "#src/platform/limiter-rules.ts";
import { memoryRealtime } from "#src/platform/memory/realtime.ts";
import {
  type Adapters,
  type Cache,
  type Jobs,
  noStaticAssets,
  type Platform,
  type RateLimiter,
  type StaticAssets,
  systemClock,
  WRITE_STAMP_MEMORY_MS,
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

const accountKey = (account: string) => `${account}|`;
const sourceKey = (account: string, source: string) => `${account}|source:${source}`;

/**
 * The RateLimiter Durable Object's contract in one process, by the same rules
 * (src/platform/limiter-rules.ts): same counts, revocations, lockout and single-use keys.
 * Expired entries are ignored when read and swept every thousand admissions.
 */
export function memoryRateLimiter(clock = systemClock): RateLimiter & { stored(): number } {
  const windows = new Map<string, WindowState>();
  const watermarks = new Map<string, Watermark>();
  const marks = new Map<string, SessionMark>();
  const counters = new Map<string, Counter>();
  const exemptions = new Map<string, number>();
  const spent = new Map<string, number>();
  /** Each subject's last marked write (ms). */
  const writes = new Map<string, number>();
  const now = () => clock.now().getTime();
  let admissions = 0;

  /** Forgets what has expired, now and then, so a long-running process does not grow. */
  function sweep(at: number): void {
    for (const [key, state] of windows) if (state.resetAt <= at) windows.delete(key);
    for (const [key, watermark] of watermarks) if (watermark.revokedBefore + REVOCATION_MEMORY_MS <= at) watermarks.delete(key);
    for (const [key, mark] of marks) if (mark.expiresAt <= at) marks.delete(key);
    for (const [key, counter] of counters) if (counterExpiresAt(counter) <= at) counters.delete(key);
    for (const map of [exemptions, spent]) for (const [key, until] of map) if (until <= at) map.delete(key);
    for (const [key, written] of writes) if (written + WRITE_STAMP_MEMORY_MS <= at) writes.delete(key);
  }

  function lockoutState(account: string, source: string): LockoutState {
    return {
      source: counters.get(sourceKey(account, source)),
      account: counters.get(accountKey(account)),
      exemptUntil: exemptions.get(sourceKey(account, source)) ?? 0,
    };
  }

  function saveLockout(account: string, source: string, state: LockoutState): void {
    for (const [key, counter] of [
      [sourceKey(account, source), state.source],
      [accountKey(account), state.account],
    ] as const) {
      if (counter) counters.set(key, counter);
      else counters.delete(key);
    }
  }

  function markSession(key: string, mark: SessionMark): void {
    const existing = marks.get(key);
    marks.set(key, mergeMarks(existing && existing.expiresAt > now() ? existing : undefined, mark));
  }

  return {
    async admit(subject, policy, session) {
      admissions += 1;
      if (admissions % 1000 === 0) sweep(now());
      if (session) {
        const at = now();
        const scopes = [`${subject}|*`, `${subject}|${session.organizationId}`];
        const live = scopes.flatMap((scope) => {
          const watermark = watermarks.get(scope);
          return watermark && watermark.revokedBefore + REVOCATION_MEMORY_MS > at ? [watermark] : [];
        });
        const mark = session.sessionId === undefined ? undefined : marks.get(`${subject}|${session.sessionId}`);
        if (tokenRevoked(live, mark && mark.expiresAt > at ? mark : undefined, session)) return { revoked: true };
      }
      const bucket = `${subject}|${policy.name}`;
      const { state, decision } = consumeWindow(windows.get(bucket), now(), policy.limit, policy.windowSeconds);
      windows.set(bucket, state);
      const lastWriteMs = writes.get(subject);
      return lastWriteMs !== undefined && lastWriteMs + WRITE_STAMP_MEMORY_MS > now() ? { revoked: false, decision, lastWriteMs } : { revoked: false, decision };
    },
    async markWrite(subject) {
      writes.set(subject, now());
    },
    async revokeSessions(userId, organizationId, options = {}) {
      const scope = `user:${userId}|${organizationId ?? "*"}`;
      const previous = watermarks.get(scope);
      const { watermark, carry } = nextWatermark(previous, now(), options.exceptSessionId ?? null);
      watermarks.set(scope, watermark);
      if (carry) markSession(`user:${userId}|${carry.sessionId}`, carry.mark);
    },
    async revokeSession(userId, sessionId) {
      markSession(`user:${userId}|${sessionId}`, { revokedBefore: WHOLE_SESSION, expiresAt: now() + REVOCATION_MEMORY_MS });
    },
    async reserveLoginAttempt(account, source, policy) {
      const { state, attempt } = reserveAttempt(lockoutState(account, source), now(), policy);
      if (attempt.allowed) saveLockout(account, source, state);
      return attempt;
    },
    async settleLoginAttempt(account, source, succeeded, policy) {
      const { state, locked } = settleAttempt(lockoutState(account, source), now(), succeeded, policy);
      saveLockout(account, source, state);
      return locked;
    },
    async clearLoginLockout(account, exempt) {
      for (const map of [counters, exemptions]) {
        for (const key of map.keys()) if (key.startsWith(accountKey(account))) map.delete(key);
      }
      if (exempt) exemptions.set(sourceKey(account, exempt.source), now() + exempt.seconds * 1000);
    },
    async spendOnce(scope, key, ttlSeconds) {
      const id = `${scope}|${key}`;
      if ((spent.get(id) ?? 0) > now()) return false;
      spent.set(id, now() + ttlSeconds * 1000);
      return true;
    },
    async ping() {
      return now();
    },
    /** How many entries are held, expired or not (tests, metrics). */
    stored() {
      return [windows, watermarks, marks, counters, exemptions, spent, writes].reduce((total, map) => total + map.size, 0);
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
    async enqueueBatch(jobs) {
      for (const job of jobs) await this.enqueue(job);
    },
    async ping() {},
  };
}

/** The memory adapters; `runJob` gets them too, so a job's dependencies are the requests' ones. */
export function memoryPlatform(runJob: (job: Job, adapters: Adapters) => Promise<void>, assets: StaticAssets = noStaticAssets): Platform {
  const adapters: Adapters = {
    cache: memoryCache(),
    rateLimiter: memoryRateLimiter(),
    jobs: memoryJobs((job) => runJob(job, adapters)),
    clock: systemClock,
    assets,
    realtime: memoryRealtime(),
  };
  return { name: "memory", adapters: () => adapters };
}
