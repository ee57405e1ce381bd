import { DurableObject } from "cloudflare:workers";
import type {
  Admission,
  AdmissionRequest,
  LoginAttempt,
  WindowDecision,
} from "../src/platform/ports.ts";

/**
 * Exact counters for one subject: a user, an API key, an IP before sign-in, or an account's login
 * attempts. One object per subject, never a global one. A Durable Object runs one call at a time
 * and its SQL API is synchronous, so a concurrent burst is counted exactly.
 *
 * A user's object also holds that user's session watermarks (logout-all, password change, removal
 * from an organization): every authenticated request already makes one call here for its rate
 * limit, so the same call tells whether its access token has been revoked, with no database read.
 */
export class RateLimiter extends DurableObject<Record<string, unknown>> {
  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`
        CREATE TABLE IF NOT EXISTS windows (bucket TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS watermarks (scope TEXT PRIMARY KEY, revoked_before INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS lockout (id INTEGER PRIMARY KEY CHECK (id = 1), failures INTEGER NOT NULL, window_ends INTEGER NOT NULL, locked_until INTEGER NOT NULL);
      `);
    });
  }

  /** Counts `cost` against `bucket` unless that would pass `limit` in the current window. */
  async consume(bucket: string, limit: number, windowSeconds: number, cost = 1): Promise<WindowDecision> {
    const now = Date.now();
    const row = this.ctx.storage.sql
      .exec<{ count: number; reset_at: number }>("SELECT count, reset_at FROM windows WHERE bucket = ?", bucket)
      .toArray()[0];
    const current = row && row.reset_at > now ? row : { count: 0, reset_at: now + windowSeconds * 1000 };
    const allowed = current.count + cost <= limit;
    const count = allowed ? current.count + cost : current.count;
    this.ctx.storage.sql.exec(
      "INSERT INTO windows (bucket, count, reset_at) VALUES (?, ?, ?) ON CONFLICT (bucket) DO UPDATE SET count = excluded.count, reset_at = excluded.reset_at",
      bucket,
      count,
      current.reset_at,
    );
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(current.reset_at);
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - count),
      resetSeconds: Math.max(1, Math.ceil((current.reset_at - now) / 1000)),
    };
  }

  /** One call per request: the session check (when a token is presented), then the rate limit. */
  async admit(request: AdmissionRequest): Promise<Admission> {
    if (request.session) {
      const revokedBefore = this.ctx.storage.sql
        .exec<{ revoked_before: number }>(
          "SELECT max(revoked_before) AS revoked_before FROM watermarks WHERE scope IN ('*', ?)",
          request.session.organizationId,
        )
        .toArray()[0]?.revoked_before;
      if (revokedBefore && request.session.issuedAtMs <= revokedBefore) return { revoked: true };
    }
    const decision = await this.consume(request.bucket, request.limit, request.windowSeconds, request.cost ?? 1);
    return { revoked: false, decision };
  }

  /** Invalidates every access token issued until now: for all organizations, or one. */
  async revokeSessions(organizationId?: string): Promise<void> {
    this.ctx.storage.sql.exec(
      "INSERT INTO watermarks (scope, revoked_before) VALUES (?, ?) ON CONFLICT (scope) DO UPDATE SET revoked_before = excluded.revoked_before",
      organizationId ?? "*",
      Date.now(),
    );
  }

  /**
   * Takes one of an account's login attempts before the password is checked, so concurrent
   * guesses cannot all slip in before the lock: at most `maxFailures` are ever verified per window.
   */
  async reserveLoginAttempt(maxFailures: number, windowSeconds: number): Promise<LoginAttempt> {
    const now = Date.now();
    const state = this.lockoutState(now, windowSeconds);
    if (state.locked_until > now) return { allowed: false, retryAfterSeconds: Math.ceil((state.locked_until - now) / 1000) };
    if (state.failures >= maxFailures) return { allowed: false, retryAfterSeconds: Math.ceil((state.window_ends - now) / 1000) };
    this.saveLockout(state.failures + 1, state.window_ends, state.locked_until);
    return { allowed: true, retryAfterSeconds: 0 };
  }

  /** Settles a reserved attempt. Returns true when this failure locked the account. */
  async settleLoginAttempt(succeeded: boolean, maxFailures: number, lockSeconds: number): Promise<boolean> {
    const now = Date.now();
    if (succeeded) {
      this.saveLockout(0, now, 0);
      return false;
    }
    const state = this.lockoutState(now, lockSeconds);
    if (state.failures >= maxFailures && state.locked_until <= now) {
      this.saveLockout(state.failures, state.window_ends, now + lockSeconds * 1000);
      return true;
    }
    return false;
  }

  /** A storage round trip for readiness checks; answers the object's clock. */
  async ping(): Promise<number> {
    this.ctx.storage.sql.exec("SELECT 1");
    return Date.now();
  }

  /** Forgets expired windows so idle subjects cost nothing. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.sql.exec("DELETE FROM windows WHERE reset_at <= ?", now);
    const next = this.ctx.storage.sql
      .exec<{ next: number | null }>("SELECT min(reset_at) AS next FROM windows")
      .toArray()[0]?.next;
    if (next) await this.ctx.storage.setAlarm(next);
  }

  private lockoutState(now: number, windowSeconds: number) {
    const row = this.ctx.storage.sql
      .exec<{ failures: number; window_ends: number; locked_until: number }>("SELECT failures, window_ends, locked_until FROM lockout")
      .toArray()[0];
    if (!row || (row.window_ends <= now && row.locked_until <= now)) {
      return { failures: 0, window_ends: now + windowSeconds * 1000, locked_until: 0 };
    }
    return row;
  }

  private saveLockout(failures: number, windowEnds: number, lockedUntil: number): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO lockout (id, failures, window_ends, locked_until) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET failures = excluded.failures, window_ends = excluded.window_ends, locked_until = excluded.locked_until",
      failures,
      windowEnds,
      lockedUntil,
    );
  }
}
