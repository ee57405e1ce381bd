import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const tables = ["windows", "watermarks", "session_marks", "login_counters", "login_exemptions", "spent"] as const;

describe("RateLimiter cleanup alarm", () => {
  it("forgets what has expired in every table, keeps what has not, and waits for the next expiry", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`alarm-${crypto.randomUUID()}`));
    await stub.admit({ bucket: "live", limit: 10, windowSeconds: 60 });
    await stub.revokeSession("live-session");
    await stub.spendOnce("live-key", 600);
    await stub.clearLoginLockout({ source: "192.0.2.1", seconds: 900 });
    await stub.reserveLoginAttempt("192.0.2.2", { source: { maxFailures: 5, windowSeconds: 900, lockSeconds: 900 } });
    await stub.revokeSessions();
    const long = Date.now() - 86_400_000;
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("INSERT INTO windows VALUES ('old', 1, ?)", long);
      sql.exec("INSERT INTO watermarks VALUES ('old-org', ?, NULL)", long);
      sql.exec("INSERT INTO session_marks VALUES ('old-session', ?, ?)", long, long);
      sql.exec("INSERT INTO login_counters VALUES ('source:old', 5, ?, ?)", long, long);
      sql.exec("INSERT INTO login_exemptions VALUES ('old', ?)", long);
      sql.exec("INSERT INTO spent VALUES ('old', ?)", long);
    });

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const counts = await runInDurableObject(stub, (_instance, state) =>
      Object.fromEntries(tables.map((table) => [table, state.storage.sql.exec(`SELECT count(*) AS n FROM ${table}`).one().n])),
    );
    expect(counts).toEqual({ windows: 1, watermarks: 1, session_marks: 1, login_counters: 1, login_exemptions: 1, spent: 1 });
    // The earliest expiry left is the live window's end.
    const [next, windowEnds] = await runInDurableObject(stub, async (_instance, state) => [
      await state.storage.getAlarm(),
      state.storage.sql.exec("SELECT reset_at FROM windows").one().reset_at,
    ]);
    expect(next).toBe(windowEnds);
  });
});
