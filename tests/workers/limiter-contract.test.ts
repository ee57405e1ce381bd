import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { durableRateLimiter } from "#src/platform/cloudflare/adapters.ts";
import { memoryRateLimiter } from "#src/platform/memory/adapters.ts";
import type { LoginLockoutPolicy, RateLimiter, SessionToken } from "#src/platform/ports.ts";

/**
 * One contract, two adapters: the RateLimiter Durable Object through its binding, and the memory
 * adapter the Deno entry uses. Same cases, same answers. Every case names its own subjects.
 */
const adapters: [string, () => RateLimiter][] = [
  ["Durable Object", () => durableRateLimiter(env.RATE_LIMITER)],
  ["memory", () => memoryRateLimiter()],
];

const LOCKOUT: LoginLockoutPolicy = {
  source: { maxFailures: 5, windowSeconds: 900, lockSeconds: 900 },
  account: { maxFailures: 20, windowSeconds: 3600, baseLockSeconds: 60, maxLockSeconds: 900 },
};
const policy = (name: string, limit: number) => ({ name, limit, windowSeconds: 60 });
const id = () => crypto.randomUUID();
const token = (organizationId: string, offsetMs: number, sessionId?: string): SessionToken => ({
  organizationId,
  issuedAtMs: Date.now() + offsetMs,
  sessionId,
});
const EARLIER = -5_000;
const LATER = 60_000;

describe.each(adapters)("RateLimiter contract: %s", (_name, make) => {
  it("counts a window exactly and refuses past the limit", async () => {
    const limiter = make();
    const subject = `ip:${id()}`;
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.admit(subject, policy("writes", 3)));
    expect(decisions.map((admission) => !admission.revoked && admission.decision.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((admission) => !admission.revoked && admission.decision.remaining)).toEqual([2, 1, 0, 0]);
    const last = decisions[3];
    expect(!last?.revoked && last?.decision.resetSeconds).toBeGreaterThan(0);
    // Another policy, another subject: their own windows.
    const reads = await limiter.admit(subject, policy("reads", 3));
    expect(!reads.revoked && reads.decision.remaining).toBe(2);
    const other = await limiter.admit(`ip:${id()}`, policy("writes", 3));
    expect(!other.revoked && other.decision.allowed).toBe(true);
  });

  it("answers the subject's last marked write from then on, and only the subject's", async () => {
    const limiter = make();
    const subject = `user:${id()}`;
    const lastWrite = async (who: string) => {
      const admission = await limiter.admit(who, policy("reads", 100));
      return admission.revoked ? "revoked" : admission.lastWriteMs;
    };
    expect(await lastWrite(subject)).toBeUndefined();
    const before = Date.now();
    await limiter.markWrite(subject);
    const marked = await lastWrite(subject);
    expect(marked).toBeGreaterThanOrEqual(before);
    expect(marked).toBeLessThanOrEqual(Date.now());
    expect(await lastWrite(subject)).toBe(marked);
    expect(await lastWrite(`user:${id()}`)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await limiter.markWrite(subject);
    expect(await lastWrite(subject)).toBeGreaterThan(marked as number);
  });

  it("counts a concurrent burst exactly", async () => {
    const limiter = make();
    const subject = `ip:${id()}`;
    const burst = await Promise.all(Array.from({ length: 12 }, () => limiter.admit(subject, policy("burst", 5))));
    expect(burst.filter((admission) => !admission.revoked && admission.decision.allowed)).toHaveLength(5);
  });

  it("a watermark revokes the tokens issued until then, in its organization or all", async () => {
    const limiter = make();
    const userId = id();
    const [orgA, orgB] = [id(), id()];
    await limiter.revokeSessions(userId, orgA);
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(orgA, EARLIER))).revoked).toBe(true);
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(orgA, LATER))).revoked).toBe(false);
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(orgB, EARLIER))).revoked).toBe(false);
    await limiter.revokeSessions(userId);
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(orgB, EARLIER))).revoked).toBe(true);
    // Another user's tokens are untouched.
    expect((await limiter.admit(`user:${id()}`, policy("reads", 100), token(orgB, EARLIER))).revoked).toBe(false);
  });

  it("revoking one session ends all of its tokens, whenever issued, and no other session's", async () => {
    const limiter = make();
    const userId = id();
    const org = id();
    const [ended, other] = [id(), id()];
    await limiter.revokeSession(userId, ended);
    for (const offset of [EARLIER, LATER]) {
      expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(org, offset, ended))).revoked).toBe(true);
    }
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(org, EARLIER, other))).revoked).toBe(false);
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(org, EARLIER))).revoked).toBe(false);
  });

  it("a watermark can spare one session, and sparing another later forgets nothing", async () => {
    const limiter = make();
    const userId = id();
    const org = id();
    const [first, second] = [id(), id()];
    await limiter.revokeSessions(userId, undefined, { exceptSessionId: first });
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(org, EARLIER, first))).revoked).toBe(false);
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(org, EARLIER, second))).revoked).toBe(true);
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(org, EARLIER))).revoked).toBe(true);

    await limiter.revokeSessions(userId, undefined, { exceptSessionId: second });
    // `second`'s token from before the first watermark stays revoked; its new ones work.
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(org, EARLIER, second))).revoked).toBe(true);
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(org, LATER, second))).revoked).toBe(false);
    expect((await limiter.admit(`user:${userId}`, policy("reads", 100), token(org, EARLIER, first))).revoked).toBe(true);
  });

  it("locks one source of an account after 5 failures, and only that source", async () => {
    const limiter = make();
    const account = id();
    for (let i = 0; i < 5; i++) {
      expect((await limiter.reserveLoginAttempt(account, "10.0.0.1", LOCKOUT)).allowed).toBe(true);
      expect(await limiter.settleLoginAttempt(account, "10.0.0.1", false, LOCKOUT)).toBe(i === 4);
    }
    const locked = await limiter.reserveLoginAttempt(account, "10.0.0.1", LOCKOUT);
    expect(locked.allowed).toBe(false);
    expect(locked.retryAfterSeconds).toBeGreaterThan(800);
    expect((await limiter.reserveLoginAttempt(account, "10.0.0.2", LOCKOUT)).allowed).toBe(true);
    expect((await limiter.reserveLoginAttempt(id(), "10.0.0.1", LOCKOUT)).allowed).toBe(true);
  });

  it("reserves before the check: a concurrent burst from one source gets 5 attempts", async () => {
    const limiter = make();
    const account = id();
    const burst = await Promise.all(Array.from({ length: 12 }, () => limiter.reserveLoginAttempt(account, "10.0.0.9", LOCKOUT)));
    expect(burst.filter((attempt) => attempt.allowed)).toHaveLength(5);
  });

  it("a success forgets the source's failures", async () => {
    const limiter = make();
    const account = id();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) {
        await limiter.reserveLoginAttempt(account, "10.0.1.1", LOCKOUT);
        await limiter.settleLoginAttempt(account, "10.0.1.1", false, LOCKOUT);
      }
      expect((await limiter.reserveLoginAttempt(account, "10.0.1.1", LOCKOUT)).allowed).toBe(true);
      expect(await limiter.settleLoginAttempt(account, "10.0.1.1", true, LOCKOUT)).toBe(false);
    }
  });

  it("past 20 failures from any sources the account backs off, for every source", async () => {
    const limiter = make();
    const account = id();
    const fail = async (source: string) => {
      expect((await limiter.reserveLoginAttempt(account, source, LOCKOUT)).allowed).toBe(true);
      return limiter.settleLoginAttempt(account, source, false, LOCKOUT);
    };
    for (let i = 0; i < 19; i++) expect(await fail(`10.1.0.${i}`)).toBe(false);
    expect(await fail("10.1.0.19")).toBe(true);
    const waiting = await limiter.reserveLoginAttempt(account, "10.1.0.200", LOCKOUT);
    expect(waiting.allowed).toBe(false);
    expect(waiting.retryAfterSeconds).toBeGreaterThanOrEqual(55);
    expect(waiting.retryAfterSeconds).toBeLessThanOrEqual(60);
    // Another account is not held back.
    expect((await limiter.reserveLoginAttempt(id(), "10.1.0.200", LOCKOUT)).allowed).toBe(true);
  });

  it("successes are not counted toward the account backoff", async () => {
    const limiter = make();
    const account = id();
    for (let i = 0; i < 30; i++) {
      expect((await limiter.reserveLoginAttempt(account, `10.2.0.${i}`, LOCKOUT)).allowed).toBe(true);
      await limiter.settleLoginAttempt(account, `10.2.0.${i}`, true, LOCKOUT);
    }
  });

  it("clearing the lockout forgets every failure and exempts the resetting source from the backoff", async () => {
    const limiter = make();
    const account = id();
    const failFrom = async (prefix: string, count: number) => {
      for (let i = 0; i < count; i++) {
        if (!(await limiter.reserveLoginAttempt(account, `${prefix}.${i}`, LOCKOUT)).allowed) return;
        await limiter.settleLoginAttempt(account, `${prefix}.${i}`, false, LOCKOUT);
      }
    };
    await failFrom("10.3.0", 20);
    for (let i = 0; i < 5; i++) {
      await limiter.reserveLoginAttempt(account, "10.3.9.9", { source: LOCKOUT.source });
      await limiter.settleLoginAttempt(account, "10.3.9.9", false, { source: LOCKOUT.source });
    }
    expect((await limiter.reserveLoginAttempt(account, "192.0.2.1", LOCKOUT)).allowed).toBe(false);

    await limiter.clearLoginLockout(account, { source: "192.0.2.1", seconds: 900 });
    // The source locked on its own is free again too.
    expect((await limiter.reserveLoginAttempt(account, "10.3.9.9", LOCKOUT)).allowed).toBe(true);
    await limiter.settleLoginAttempt(account, "10.3.9.9", false, LOCKOUT);
    await failFrom("10.4.0", 20);
    expect((await limiter.reserveLoginAttempt(account, "198.51.100.7", LOCKOUT)).allowed).toBe(false);
    const owner = await limiter.reserveLoginAttempt(account, "192.0.2.1", LOCKOUT);
    expect(owner.allowed).toBe(true);
    expect(await limiter.settleLoginAttempt(account, "192.0.2.1", true, LOCKOUT)).toBe(false);
  });

  it("spends a single-use key once per scope", async () => {
    const limiter = make();
    const scope = `user:${id()}`;
    const key = `mfa-token:${id()}`;
    expect(await limiter.spendOnce(scope, key, 600)).toBe(true);
    expect(await limiter.spendOnce(scope, key, 600)).toBe(false);
    expect(await limiter.spendOnce(`user:${id()}`, key, 600)).toBe(true);
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => limiter.spendOnce(scope, `other:${key}`, 600)));
    expect(concurrent.filter(Boolean)).toHaveLength(1);
  });

  it("answers a ping with its clock", async () => {
    expect(await make().ping()).toBeGreaterThan(0);
  });
});
