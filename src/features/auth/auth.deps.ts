import type { Deps } from "#src/lib/deps.ts";

/** What the auth services use; they never touch Hono's context. */
export type AuthDeps = Pick<Deps, "db" | "config" | "clock" | "rateLimiter" | "mailer" | "origin" | "defer" | "assets">;

export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_SECONDS = 15 * 60;
export const LOGIN_LOCK_SECONDS = 15 * 60;
export const RESET_TOKEN_TTL_MS = 30 * 60_000;
export const SIGNUP_TOKEN_TTL_MS = 24 * 3_600_000;
/** Sign-up or reset mails one address receives an hour at most… */
export const MAILS_PER_ADDRESS_PER_HOUR = 10;
/** …and at most this many of them at the request of any one client address. */
export const MAILS_PER_ADDRESS_AND_SOURCE_PER_HOUR = 3;
