import { type AuthDeps, LOGIN_LOCK_SECONDS, LOGIN_MAX_FAILURES, LOGIN_WINDOW_SECONDS } from "#src/features/auth/auth.deps.ts";
import { knownDevice } from "#src/features/auth/auth.devices.ts";
import { sha256Hex } from "#src/lib/encoding.ts";
import { TooManyRequests } from "#src/lib/errors.ts";
import type { LoginLockoutPolicy } from "#src/platform/ports.ts";

/**
 * Password guessing, limited twice. Per account and source (client address): 5 failures in 15
 * minutes lock that address out of that account for 15 minutes, and no one else. Per account,
 * from any sources: past 20 failures in an hour, every further attempt waits 1, 2, 4, 8, then 15
 * minutes (the cap), and each failure keeps the hour open, so a distributed guess gets about four
 * tries an hour. The owner is told by mail when that backoff starts. It does not stop the owner on
 * a device they signed in from before (a `deviceToken`, auth.devices.ts: counted per device, with
 * the per-source limit only), and a completed password reset clears both and exempts the address
 * it came from for 15 minutes (README: security model).
 */
export const LOGIN_LOCKOUT: LoginLockoutPolicy = {
  source: { maxFailures: LOGIN_MAX_FAILURES, windowSeconds: LOGIN_WINDOW_SECONDS, lockSeconds: LOGIN_LOCK_SECONDS },
  account: { maxFailures: 20, windowSeconds: 60 * 60, baseLockSeconds: 60, maxLockSeconds: 15 * 60 },
};

/** How long the address that completed a password reset skips the per-account backoff. */
export const RESET_EXEMPTION_SECONDS = 15 * 60;

/** A known device: its own failures only, never the account's backoff. */
export const KNOWN_DEVICE_LOCKOUT: LoginLockoutPolicy = { source: LOGIN_LOCKOUT.source };

/** The lockout key of an email, known or not. */
export const lockoutAccount = (email: string) => sha256Hex(email.toLowerCase());

/** The source a login attempt is counted against: the caller's address. */
export const lockoutSource = (deps: Pick<AuthDeps, "origin">) => deps.origin.ip ?? "unknown";

export interface ReservedAttempt {
  /** Settles the attempt: true when this failure locked the source or the account. */
  settle(succeeded: boolean): Promise<boolean>;
  /** This attempt started the per-account backoff: tell the owner. */
  accountBackoffStarted: boolean;
  /** The account's lockout key, for a device token on success. */
  account: string;
}

/**
 * Reserves a password attempt for the account (429 with Retry-After when locked). The source is
 * the caller's address, or the known device its `deviceToken` names (then without the account
 * backoff), unless given (a signed-in password change counts per session).
 */
export async function reservePasswordAttempt(
  deps: Pick<AuthDeps, "origin" | "rateLimiter" | "config" | "clock">,
  email: string,
  options: { source?: string; deviceToken?: string | undefined } = {},
): Promise<ReservedAttempt> {
  const account = await lockoutAccount(email);
  const device = options.source ? null : await knownDevice(deps.config, account, options.deviceToken, deps.clock.now());
  const source = options.source ?? (device ? `device:${device}` : lockoutSource(deps));
  const policy = device ? KNOWN_DEVICE_LOCKOUT : LOGIN_LOCKOUT;
  const attempt = await deps.rateLimiter.reserveLoginAttempt(account, source, policy);
  if (!attempt.allowed) throw TooManyRequests(Math.max(1, attempt.retryAfterSeconds));
  return {
    settle: (succeeded) => deps.rateLimiter.settleLoginAttempt(account, source, succeeded, policy),
    accountBackoffStarted: attempt.accountBackoffStarted === true,
    account,
  };
}

/** After a completed reset: the account's failures are forgotten and its resetter is let in. */
export async function clearAfterReset(deps: Pick<AuthDeps, "origin" | "rateLimiter">, email: string): Promise<void> {
  await deps.rateLimiter.clearLoginLockout(await lockoutAccount(email), { source: lockoutSource(deps), seconds: RESET_EXEMPTION_SECONDS });
}
