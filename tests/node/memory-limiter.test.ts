import { describe, expect, it } from "vitest";
import { memoryRateLimiter } from "../../src/platform/memory/adapters.ts";

describe("memory rate limiter", () => {
  it("sweeps expired entries now and then, so a long-running Deno process does not grow", async () => {
    let at = Date.UTC(2026, 0, 1);
    const limiter = memoryRateLimiter({ now: () => new Date(at) });
    const policy = { name: "reads", limit: 10, windowSeconds: 60 };
    for (let i = 0; i < 500; i++) await limiter.admit(`ip:10.0.${i >> 8}.${i & 255}`, policy);
    await limiter.spendOnce("user:a", "mfa-token:1", 600);
    expect(limiter.stored()).toBe(501);

    at += 3_600_000;
    for (let i = 0; i < 500; i++) await limiter.admit("ip:192.0.2.1", policy);
    expect(limiter.stored()).toBe(1);
  });
});
