import type { Database } from "#src/db/client.ts";
import type { Config } from "#src/env.ts";
import { type AuditOrigin, auditOrigin } from "#src/lib/audit.ts";
import type { RequestContext } from "#src/lib/route.ts";
import type { Mailer } from "#src/platform/mailer.ts";
import type { RateLimiter } from "#src/platform/ports.ts";

/** What the auth services need from the request, so they never touch Hono's context. */
export interface AuthDeps {
  db: Database;
  config: Config;
  rateLimiter: RateLimiter;
  mailer: Mailer;
  origin: AuditOrigin;
  /** Runs work after the response (mail), so its latency reveals nothing. */
  defer(work: Promise<unknown>): void;
}

export function authDeps(c: RequestContext): AuthDeps {
  return {
    db: c.get("db"),
    config: c.get("config"),
    rateLimiter: c.get("adapters").rateLimiter,
    mailer: c.get("mailer"),
    origin: auditOrigin(c),
    defer: (work) => {
      try {
        c.executionCtx.waitUntil(work);
      } catch {
        void work;
      }
    },
  };
}

export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_SECONDS = 15 * 60;
export const LOGIN_LOCK_SECONDS = 15 * 60;
export const RESET_TOKEN_TTL_MS = 30 * 60_000;
export const VERIFY_TOKEN_TTL_MS = 7 * 86_400_000;
export const SIGNUP_TOKEN_TTL_MS = 24 * 3_600_000;
/** Sign-up mails (a confirmation link, or "someone tried") one address receives per hour at most. */
export const SIGNUP_MAILS_PER_HOUR = 3;
