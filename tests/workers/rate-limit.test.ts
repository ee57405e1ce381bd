import { describe, expect, it } from "vitest";
import { createTenant, jsonBody, uniqueIp } from "./fixtures.ts";
import { apiWithEnv, problemOf } from "./helpers.ts";

describe("rate limits", () => {
  it("admits exactly the limit of a concurrent burst from one user", async () => {
    const { members } = await createTenant("Burst Practice");
    const headers = { ...members.clinician.headers, "CF-Connecting-IP": uniqueIp() };
    const responses = await Promise.all(
      Array.from({ length: 25 }, () => apiWithEnv({ RATE_LIMIT_READS_PER_MINUTE: "10" }, "/api/v1/organization", { headers })),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(15);
    for (const response of responses) {
      expect(response.headers.get("RateLimit-Policy")).toBe('"reads";q=10;w=60');
      expect(response.headers.get("RateLimit")).toMatch(/^"reads";r=\d+;t=\d+$/);
    }
    const limited = responses.find((response) => response.status === 429);
    expect(Number(limited?.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await problemOf(limited as Response)).status).toBe(429);
  });

  it("limits invitation acceptance per IP before sign-in", async () => {
    const ip = uniqueIp();
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        apiWithEnv({ RATE_LIMIT_AUTH_PER_MINUTE: "5" }, "/api/v1/invitations/accept", jsonBody({ token: `bogus-${index}` }, { "CF-Connecting-IP": ip })),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status !== 429)).toHaveLength(5);
    expect(statuses.filter((status) => status === 404)).toHaveLength(5);
    expect(responses.find((response) => response.status === 429)?.headers.get("RateLimit-Policy")).toBe('"auth";q=5;w=60');
  });

  it("keeps the per-IP auth limit on auth routes even when a valid token is sent", async () => {
    const { members } = await createTenant("Token Sprayers");
    const ip = uniqueIp();
    const attempt = (withToken: boolean) =>
      apiWithEnv(
        { RATE_LIMIT_AUTH_PER_MINUTE: "4" },
        "/api/v1/auth/password/forgot",
        jsonBody({ email: "someone@example.test" }, { "CF-Connecting-IP": ip, ...(withToken ? members.owner.headers : {}) }),
      );
    const responses = await Promise.all(Array.from({ length: 10 }, (_, index) => attempt(index % 2 === 0)));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(4);
    expect(statuses.filter((status) => status === 429)).toHaveLength(6);
  });

  it("still refuses a revoked token on an auth route", async () => {
    const { members } = await createTenant("Revoked Switchers");
    const headers = { ...members.admin.headers, "CF-Connecting-IP": uniqueIp() };
    const logout = await apiWithEnv({}, "/api/v1/auth/logout-all", { method: "POST", headers });
    expect(logout.status).toBe(204);
    const again = await apiWithEnv({}, "/api/v1/auth/logout-all", { method: "POST", headers });
    expect(again.status).toBe(401);
  });
});
