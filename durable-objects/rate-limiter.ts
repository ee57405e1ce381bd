import { DurableObject } from "cloudflare:workers";

export interface WindowDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/**
 * Exact request counters for one subject: a user, an IP before sign-in, or an account's login
 * attempts. One object per subject (never a global one), fixed windows per named bucket in
 * SQLite storage. A Durable Object runs one call at a time and the SQL API is synchronous, so a
 * concurrent burst is counted exactly.
 */
export class RateLimiter extends DurableObject<Record<string, unknown>> {
  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(
        "CREATE TABLE IF NOT EXISTS windows (bucket TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at INTEGER NOT NULL)",
      );
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
}
