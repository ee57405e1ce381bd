import { type AuthDeps, LOGIN_LOCK_SECONDS, LOGIN_MAX_FAILURES, LOGIN_WINDOW_SECONDS } from "#src/features/auth/auth.deps.ts";
import { sha256Hex } from "#src/lib/encoding.ts";
import { TooManyRequests } from "#src/lib/errors.ts";
import type { LoginLockoutPolicy } from "#src/platform/ports.ts";

/**
 * Password guessing, limited twice. Per account and source (client address): 5 failures in 15
 * minutes lock that address out of that account for 15 minutes, and no one else. Per account,
 * from any sources: past 20 failures in an hour, every further attempt waits 1, 2, 4, 8, then 15
 * minutes (the cap), and each failure keeps the hour open, so a distributed guess gets about four
 * tries an hour. That backoff also stops the owner; a completed password reset clears both and
 * exempts the address it came from from the per-account backoff for 15 minutes (README: security
 * model).
 */
export const LOGIN_LOCKOUT: LoginLockoutPolicy = {
  source: { maxFailures: LOGIN_MAX_FAILURES, windowSeconds: LOGIN_WINDOW_SECONDS, lockSeconds: LOGIN_LOCK_SECONDS },
  account: { maxFailures: 20, windowSeconds: 60 * 60, baseLockSeconds: 60, maxLockSeconds: 15 * 60 },
};

/** How long the address that completed a password reset skips the per-account backoff. */
export const RESET_EXEMPTION_SECONDS = 15 * 60;

/** The lockout key of an email, known or not. */
export const lockoutAccount = (email: string) => sha256Hex(email.toLowerCase());

/** The source a login attempt is counted against: the caller's address. */
export const lockoutSource = (deps: Pick<AuthDeps, "origin">) => deps.origin.ip ?? "unknown";

/**
 * Reserves a password attempt for the account (429 with Retry-After when locked) and returns the
 * settle function: true when this failure locked the source or the account. The source is the
 * caller's address, unless given (a signed-in password change counts per session).
 */
export async function reservePasswordAttempt(deps: Pick<AuthDeps, "origin" | "rateLimiter">, email: string, source = lockoutSource(deps)) {
  const account = await lockoutAccount(email);
  const attempt = await deps.rateLimiter.reserveLoginAttempt(account, source, LOGIN_LOCKOUT);
  if (!attempt.allowed) throw TooManyRequests(Math.max(1, attempt.retryAfterSeconds));
  return (succeeded: boolean) => deps.rateLimiter.settleLoginAttempt(account, source, succeeded, LOGIN_LOCKOUT);
}

/** After a completed reset: the account's failures are forgotten and its resetter is let in. */
export async function clearAfterReset(deps: Pick<AuthDeps, "origin" | "rateLimiter">, email: string): Promise<void> {
  await deps.rateLimiter.clearLoginLockout(await lockoutAccount(email), { source: lockoutSource(deps), seconds: RESET_EXEMPTION_SECONDS });
}
