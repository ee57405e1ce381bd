/**
 * The RateLimiter's counting rules as pure functions over plain state: the Durable Object keeps
 * the state in its SQLite tables, the memory adapter in Maps, and both apply exactly these rules,
 * so tests/workers/limiter-contract.test.ts holds for either.
 */
import type { LoginAttempt, LoginLockoutPolicy, RateLimitDecision, SessionToken } from "#src/platform/ports.ts";

/**
 * How long a revocation is remembered: the longest access-token life (ACCESS_TOKEN_TTL_SECONDS
 * is at most 900 s), the 60 s of clock skew verification allows, and a minute of margin.
 */
export const REVOCATION_MEMORY_MS = (900 + 60 + 60) * 1000;
/** Revokes every token of a session, whenever issued (logout). */
export const WHOLE_SESSION = Number.MAX_SAFE_INTEGER;

export interface WindowState {
  count: number;
  resetAt: number;
}

/** Counts `cost` against a fixed window unless that would pass `limit`. */
export function consumeWindow(
  existing: WindowState | undefined,
  now: number,
  limit: number,
  windowSeconds: number,
  cost = 1,
): { state: WindowState; decision: RateLimitDecision } {
  const current = existing && existing.resetAt > now ? existing : { count: 0, resetAt: now + windowSeconds * 1000 };
  const allowed = current.count + cost <= limit;
  const count = allowed ? current.count + cost : current.count;
  return {
    state: { count, resetAt: current.resetAt },
    decision: { allowed, limit, remaining: Math.max(0, limit - count), resetSeconds: Math.max(1, Math.ceil((current.resetAt - now) / 1000)) },
  };
}

/** "Every access token issued until `revokedBefore`, in one organization or all, but one session's." */
export interface Watermark {
  revokedBefore: number;
  exceptSessionId: string | null;
}

/** "This session's access tokens issued until `revokedBefore`" (WHOLE_SESSION: all of them). */
export interface SessionMark {
  revokedBefore: number;
  expiresAt: number;
}

/** Whether an access token is revoked by the user's watermarks or by its own session's mark. */
export function tokenRevoked(watermarks: Watermark[], mark: SessionMark | undefined, token: SessionToken): boolean {
  const byWatermark = watermarks.some(
    (watermark) => token.issuedAtMs <= watermark.revokedBefore && (watermark.exceptSessionId === null || watermark.exceptSessionId !== token.sessionId),
  );
  return byWatermark || (mark !== undefined && token.issuedAtMs <= mark.revokedBefore);
}

/**
 * A new watermark for a scope, replacing `previous`. When it spares a session the previous one
 * did not, that session's tokens the previous watermark revoked stay revoked through a session
 * mark (`carry`), so replacing the row forgets nothing.
 */
export function nextWatermark(
  previous: Watermark | undefined,
  now: number,
  exceptSessionId: string | null,
): { watermark: Watermark; carry?: { sessionId: string; mark: SessionMark } } {
  const watermark = { revokedBefore: Math.max(now, previous?.revokedBefore ?? 0), exceptSessionId };
  if (exceptSessionId === null || !previous || previous.exceptSessionId === exceptSessionId) return { watermark };
  return {
    watermark,
    carry: { sessionId: exceptSessionId, mark: { revokedBefore: previous.revokedBefore, expiresAt: previous.revokedBefore + REVOCATION_MEMORY_MS } },
  };
}

/** Two marks for one session, as one. */
export function mergeMarks(a: SessionMark | undefined, b: SessionMark): SessionMark {
  if (!a) return b;
  return { revokedBefore: Math.max(a.revokedBefore, b.revokedBefore), expiresAt: Math.max(a.expiresAt, b.expiresAt) };
}

/** Failures counted in a window, and a lock. */
export interface Counter {
  failures: number;
  windowEnds: number;
  lockedUntil: number;
}

/** An account's login state as one source sees it: its own counter, the account's, its exemption. */
export interface LockoutState {
  source: Counter | undefined;
  account: Counter | undefined;
  /** Until when this source skips the per-account backoff (set by a completed password reset). */
  exemptUntil: number;
}

const live = (counter: Counter | undefined, now: number, windowSeconds: number): Counter =>
  counter && (counter.windowEnds > now || counter.lockedUntil > now) ? counter : { failures: 0, windowEnds: now + windowSeconds * 1000, lockedUntil: 0 };

const refused = (until: number, now: number): LoginAttempt => ({ allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)) });

/** The per-account lock after `failures`: base·2^(failures − max), capped. */
export function accountLockMs(policy: NonNullable<LoginLockoutPolicy["account"]>, failures: number): number {
  const exponent = Math.min(30, failures - policy.maxFailures);
  return Math.min(policy.maxLockSeconds, policy.baseLockSeconds * 2 ** exponent) * 1000;
}

/**
 * Takes an attempt before the password is checked, counting it as a failure until it is settled,
 * so a concurrent burst cannot slip past either limit. The source gets `source.maxFailures` per
 * window. Past `account.maxFailures` (from any sources) every further attempt also locks the
 * account for a doubling, capped delay, set here at once so concurrent guesses wait for it too;
 * each counted failure then keeps the account's window open. An exempt source is neither stopped
 * nor counted by the account backoff.
 */
export function reserveAttempt(state: LockoutState, now: number, policy: LoginLockoutPolicy): { state: LockoutState; attempt: LoginAttempt } {
  const source = live(state.source, now, policy.source.windowSeconds);
  if (source.lockedUntil > now) return { state, attempt: refused(source.lockedUntil, now) };
  if (source.failures >= policy.source.maxFailures) return { state, attempt: refused(source.windowEnds, now) };
  const exempt = state.exemptUntil > now;
  let account = state.account;
  if (policy.account && !exempt) {
    const current = live(account, now, policy.account.windowSeconds);
    if (current.lockedUntil > now) return { state, attempt: refused(current.lockedUntil, now) };
    const failures = current.failures + 1;
    const backoff = failures >= policy.account.maxFailures;
    account = {
      failures,
      windowEnds: backoff ? Math.max(current.windowEnds, now + policy.account.windowSeconds * 1000) : current.windowEnds,
      lockedUntil: backoff ? now + accountLockMs(policy.account, failures) : 0,
    };
  }
  const started = policy.account !== undefined && !exempt && account !== undefined && account.failures === policy.account.maxFailures;
  return {
    state: { ...state, source: { ...source, failures: source.failures + 1 }, account },
    attempt: started ? { allowed: true, retryAfterSeconds: 0, accountBackoffStarted: true } : { allowed: true, retryAfterSeconds: 0 },
  };
}

/**
 * Settles a reserved attempt. A success forgets the source's failures and takes back its own
 * count (and the lock it set) from the account; a failure that used up the source's attempts
 * locks the source. `locked` is true when this failure locked the source or the account.
 */
export function settleAttempt(
  state: LockoutState,
  now: number,
  succeeded: boolean,
  policy: LoginLockoutPolicy,
): { state: LockoutState; locked: boolean } {
  const exempt = state.exemptUntil > now;
  const countsForAccount = policy.account !== undefined && !exempt && state.account !== undefined;
  if (succeeded) {
    const account = countsForAccount && state.account ? { ...state.account, failures: Math.max(0, state.account.failures - 1), lockedUntil: 0 } : state.account;
    return { state: { ...state, source: undefined, account }, locked: false };
  }
  const source = live(state.source, now, policy.source.lockSeconds);
  const lockSource = source.failures >= policy.source.maxFailures && source.lockedUntil <= now;
  const next = lockSource ? { ...source, lockedUntil: now + policy.source.lockSeconds * 1000 } : source;
  const accountLocked = countsForAccount && policy.account !== undefined && (state.account?.failures ?? 0) >= policy.account.maxFailures;
  return { state: { ...state, source: next }, locked: lockSource || accountLocked };
}

/** When a lockout row can be forgotten. */
export function counterExpiresAt(counter: Counter): number {
  return Math.max(counter.windowEnds, counter.lockedUntil);
}
