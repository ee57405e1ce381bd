import { DurableObject } from "cloudflare:workers";
import { type Admission, type AdmissionRequest, type LoginAttempt, type LoginLockoutPolicy, WRITE_STAMP_MEMORY_MS } from "../src/platform/ports.ts";
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
} from "../src/platform/limiter-rules.ts";

import { mirrored, remember } from "./mirror.ts";

const ACCOUNT = "";

/**
 * Exact counters for one subject: a user, an API key, an IP before sign-in, or an account's login
 * attempts. One object per subject, never a global one. A Durable Object runs one call at a time
 * and its SQL API is synchronous, so a concurrent burst is counted exactly. The rules themselves
 * are src/platform/limiter-rules.ts, shared with the memory adapter; this class only stores state.
 *
 * A user's object also holds that user's revocations (watermarks for logout-all, password change,
 * MFA enabled, removal from an organization; session marks for logout): every authenticated
 * request already makes one call here for its rate limit, so the same call tells whether its
 * access token has been revoked, with no database read. An account's login object holds one
 * counter per source and one for the account. Everything expires, and one alarm forgets it.
 */
export class RateLimiter extends DurableObject<Record<string, unknown>> {
  /** The pending cleanup alarm, mirrored in memory so a call never has to ask storage. */
  private alarmAt: number | null = null;

  /**
   * Write-through mirrors of the rows every admission reads (its window, the user's watermarks
   * and the session's mark; `null` = known absent). The object is the only writer of its storage
   * and runs one call at a time, so a mirror is never stale; storage stays the truth, and an
   * evicted object rebuilds them on demand. Admission then costs one SQLite write instead of
   * three reads and a write. Each is bounded: past MIRROR_LIMIT entries it starts over.
   */
  private readonly windowMirror = new Map<string, WindowState | null>();
  private readonly watermarkMirror = new Map<string, Watermark | null>();
  private readonly markMirror = new Map<string, SessionMark | null>();
  /** The subject's last marked write (ms), mirrored; undefined = not read yet, null = none. */
  private lastWriteMirror: number | null | undefined = undefined;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`
        CREATE TABLE IF NOT EXISTS windows (bucket TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS watermarks (scope TEXT PRIMARY KEY, revoked_before INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS session_marks (session_id TEXT PRIMARY KEY, revoked_before INTEGER NOT NULL, expires_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS login_counters (source TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_ends INTEGER NOT NULL, locked_until INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS login_exemptions (source TEXT PRIMARY KEY, until INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS spent (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS last_write (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);
        DROP TABLE IF EXISTS lockout;
      `);
      const columns = ctx.storage.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('watermarks')").toArray();
      if (!columns.some((column) => column.name === "except_session_id")) {
        ctx.storage.sql.exec("ALTER TABLE watermarks ADD COLUMN except_session_id TEXT");
      }
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** One call per request: the session check (when a token is presented), then the rate limit. */
  async admit(request: AdmissionRequest): Promise<Admission> {
    if (request.session && this.revoked(request.session)) return { revoked: true };
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const window = mirrored(this.windowMirror, request.bucket, () => {
      const row = sql
        .exec<{ count: number; reset_at: number }>("SELECT count, reset_at FROM windows WHERE bucket = ?", request.bucket)
        .toArray()[0];
      return row ? { count: row.count, resetAt: row.reset_at } : null;
    });
    const { state, decision } = consumeWindow(window ?? undefined, now, request.limit, request.windowSeconds, request.cost ?? 1);
    sql.exec(
      "INSERT INTO windows (bucket, count, reset_at) VALUES (?, ?, ?) ON CONFLICT (bucket) DO UPDATE SET count = excluded.count, reset_at = excluded.reset_at",
      request.bucket,
      state.count,
      state.resetAt,
    );
    remember(this.windowMirror, request.bucket, { count: state.count, resetAt: state.resetAt });
    await this.cleanUpAt(state.resetAt);
    const lastWriteMs = this.lastWrite(now);
    return lastWriteMs === null ? { revoked: false, decision } : { revoked: false, decision, lastWriteMs };
  }

  /** Records the subject's write now: admissions answer it for WRITE_STAMP_MEMORY_MS. */
  async markWrite(): Promise<void> {
    const at = Date.now();
    this.ctx.storage.sql.exec("INSERT INTO last_write (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at", at);
    this.lastWriteMirror = at;
    await this.cleanUpAt(at + WRITE_STAMP_MEMORY_MS);
  }

  private lastWrite(now: number): number | null {
    if (this.lastWriteMirror === undefined) {
      this.lastWriteMirror = this.ctx.storage.sql.exec<{ at: number }>("SELECT at FROM last_write WHERE id = 1").toArray()[0]?.at ?? null;
    }
    const at = this.lastWriteMirror;
    return at !== null && at + WRITE_STAMP_MEMORY_MS > now ? at : null;
  }

  /** Invalidates every access token issued until now, for all organizations or one, but `exceptSessionId`'s. */
  async revokeSessions(organizationId?: string, exceptSessionId?: string): Promise<void> {
    const sql = this.ctx.storage.sql;
    const scope = organizationId ?? "*";
    const previous = this.watermarks([scope])[0];
    const { watermark, carry } = nextWatermark(previous, Date.now(), exceptSessionId ?? null);
    sql.exec(
      "INSERT INTO watermarks (scope, revoked_before, except_session_id) VALUES (?, ?, ?) ON CONFLICT (scope) DO UPDATE SET revoked_before = excluded.revoked_before, except_session_id = excluded.except_session_id",
      scope,
      watermark.revokedBefore,
      watermark.exceptSessionId,
    );
    remember(this.watermarkMirror, scope, watermark);
    if (carry) this.markSession(carry.sessionId, carry.mark);
    await this.cleanUpAt(watermark.revokedBefore + REVOCATION_MEMORY_MS);
  }

  /** Invalidates every access token of one session. */
  async revokeSession(sessionId: string): Promise<void> {
    const mark = { revokedBefore: WHOLE_SESSION, expiresAt: Date.now() + REVOCATION_MEMORY_MS };
    this.markSession(sessionId, mark);
    await this.cleanUpAt(mark.expiresAt);
  }

  /** Takes one login attempt of `source` before the secret is checked (see reserveAttempt). */
  async reserveLoginAttempt(source: string, policy: LoginLockoutPolicy): Promise<LoginAttempt> {
    const before = this.lockoutState(source);
    const { state, attempt } = reserveAttempt(before, Date.now(), policy);
    if (attempt.allowed) await this.saveLockout(source, state);
    return attempt;
  }

  /** Settles a reserved attempt. Returns true when this failure locked the source or the account. */
  async settleLoginAttempt(source: string, succeeded: boolean, policy: LoginLockoutPolicy): Promise<boolean> {
    const { state, locked } = settleAttempt(this.lockoutState(source), Date.now(), succeeded, policy);
    await this.saveLockout(source, state);
    return locked;
  }

  /** Forgets every counter and lock of the account; `exempt` spares one source the account backoff. */
  async clearLoginLockout(exempt?: { source: string; seconds: number }): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM login_counters");
    sql.exec("DELETE FROM login_exemptions");
    if (exempt) {
      const until = Date.now() + exempt.seconds * 1000;
      sql.exec("INSERT INTO login_exemptions (source, until) VALUES (?, ?)", exempt.source, until);
      await this.cleanUpAt(until);
    }
  }

  /** True the first time `key` is spent here within `ttlSeconds`. */
  async spendOnce(key: string, ttlSeconds: number): Promise<boolean> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const found = sql.exec<{ expires_at: number }>("SELECT expires_at FROM spent WHERE key = ?", key).toArray()[0];
    if (found && found.expires_at > now) return false;
    const expiresAt = now + ttlSeconds * 1000;
    sql.exec("INSERT INTO spent (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at", key, expiresAt);
    await this.cleanUpAt(expiresAt);
    return true;
  }

  /** A storage round trip for readiness checks; answers the object's clock. */
  async ping(): Promise<number> {
    this.ctx.storage.sql.exec("SELECT 1");
    return Date.now();
  }

  /** Forgets whatever has expired, so idle subjects cost nothing, and waits for the next expiry. */
  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    this.alarmAt = null;
    this.windowMirror.clear();
    this.watermarkMirror.clear();
    this.markMirror.clear();
    this.lastWriteMirror = undefined;
    sql.exec("DELETE FROM last_write WHERE at + ? <= ?", WRITE_STAMP_MEMORY_MS, now);
    sql.exec("DELETE FROM windows WHERE reset_at <= ?", now);
    sql.exec("DELETE FROM watermarks WHERE revoked_before + ? <= ?", REVOCATION_MEMORY_MS, now);
    sql.exec("DELETE FROM session_marks WHERE expires_at <= ?", now);
    sql.exec("DELETE FROM login_counters WHERE max(window_ends, locked_until) <= ?", now);
    sql.exec("DELETE FROM login_exemptions WHERE until <= ?", now);
    sql.exec("DELETE FROM spent WHERE expires_at <= ?", now);
    const next = sql
      .exec<{ next: number | null }>(`
        SELECT min(at) AS next FROM (
          SELECT min(reset_at) AS at FROM windows
          UNION ALL SELECT min(revoked_before) + ${REVOCATION_MEMORY_MS} FROM watermarks
          UNION ALL SELECT min(expires_at) FROM session_marks
          UNION ALL SELECT min(max(window_ends, locked_until)) FROM login_counters
          -- Workers' SQLite allows 5 terms per compound SELECT: the last three are nested.
          UNION ALL SELECT min(at) FROM (
            SELECT min(until) AS at FROM login_exemptions UNION ALL SELECT min(expires_at) FROM spent
            UNION ALL SELECT min(at) + ${WRITE_STAMP_MEMORY_MS} FROM last_write)
        )`)
      .toArray()[0]?.next;
    if (next) await this.cleanUpAt(next);
  }

  /** Moves the cleanup alarm only when `at` comes before the pending one; never reads it from storage. */
  private async cleanUpAt(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  private revoked(session: NonNullable<AdmissionRequest["session"]>): boolean {
    const mark = session.sessionId === undefined ? undefined : this.sessionMark(session.sessionId);
    return tokenRevoked(this.watermarks(["*", session.organizationId]), mark, session);
  }

  private watermarks(scopes: string[]): Watermark[] {
    return scopes.flatMap((scope) => {
      const watermark = mirrored(this.watermarkMirror, scope, () => {
        const row = this.ctx.storage.sql
          .exec<{ revoked_before: number; except_session_id: string | null }>("SELECT revoked_before, except_session_id FROM watermarks WHERE scope = ?", scope)
          .toArray()[0];
        return row ? { revokedBefore: row.revoked_before, exceptSessionId: row.except_session_id } : null;
      });
      return watermark ? [watermark] : [];
    });
  }

  private sessionMark(sessionId: string): SessionMark | undefined {
    const mark = mirrored(this.markMirror, sessionId, () => {
      const row = this.ctx.storage.sql
        .exec<{ revoked_before: number; expires_at: number }>("SELECT revoked_before, expires_at FROM session_marks WHERE session_id = ?", sessionId)
        .toArray()[0];
      return row ? { revokedBefore: row.revoked_before, expiresAt: row.expires_at } : null;
    });
    return mark ?? undefined;
  }

  private markSession(sessionId: string, mark: SessionMark): void {
    const merged = mergeMarks(this.sessionMark(sessionId), mark);
    this.ctx.storage.sql.exec(
      "INSERT INTO session_marks (session_id, revoked_before, expires_at) VALUES (?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET revoked_before = excluded.revoked_before, expires_at = excluded.expires_at",
      sessionId,
      merged.revokedBefore,
      merged.expiresAt,
    );
    remember(this.markMirror, sessionId, merged);
  }

  private counter(source: string): Counter | undefined {
    const row = this.ctx.storage.sql
      .exec<{ failures: number; window_ends: number; locked_until: number }>(
        "SELECT failures, window_ends, locked_until FROM login_counters WHERE source = ?",
        source,
      )
      .toArray()[0];
    return row && { failures: row.failures, windowEnds: row.window_ends, lockedUntil: row.locked_until };
  }

  private lockoutState(source: string): LockoutState {
    const exemption = this.ctx.storage.sql.exec<{ until: number }>("SELECT until FROM login_exemptions WHERE source = ?", source).toArray()[0];
    return { source: this.counter(`source:${source}`), account: this.counter(ACCOUNT), exemptUntil: exemption?.until ?? 0 };
  }

  private async saveLockout(source: string, state: LockoutState): Promise<void> {
    const sql = this.ctx.storage.sql;
    const save = (key: string, counter: Counter | undefined) => {
      if (!counter) {
        sql.exec("DELETE FROM login_counters WHERE source = ?", key);
        return;
      }
      sql.exec(
        "INSERT INTO login_counters (source, failures, window_ends, locked_until) VALUES (?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET failures = excluded.failures, window_ends = excluded.window_ends, locked_until = excluded.locked_until",
        key,
        counter.failures,
        counter.windowEnds,
        counter.lockedUntil,
      );
    };
    save(`source:${source}`, state.source);
    save(ACCOUNT, state.account);
    const expiries = [state.source, state.account].flatMap((counter) => (counter ? [counterExpiresAt(counter)] : []));
    if (expiries.length > 0) await this.cleanUpAt(Math.min(...expiries));
  }
}
