import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { api, testDb } from "./helpers.ts";
import { createTenant, jsonBody, PASSWORD, uniqueIp } from "./fixtures.ts";

const login = (email: string, password: string) =>
  api("/api/v1/auth/login", jsonBody({ email, password }, { "CF-Connecting-IP": uniqueIp() }));

describe("account lockout", () => {
  it("verifies at most 5 of 20 concurrent wrong passwords, then locks out even the right one", async () => {
    const { members } = await createTenant("Lockout Practice");
    const { email, id } = members.staff;
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => login(email, `wrong password number ${i}`)));
    const statuses = responses.map((response) => response.status);
    const unauthorized = statuses.filter((status) => status === 401).length;
    expect(unauthorized).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20 - unauthorized);
    const limited = responses.find((response) => response.status === 429);
    expect(Number(limited?.headers.get("Retry-After"))).toBeGreaterThan(0);

    const right = await login(email, PASSWORD);
    expect(right.status).toBe(429);

    const audited = await testDb().execute<{ count: string }>(
      sql`select count(*)::text as count from audit_events where actor_user_id = ${id} and action = 'auth.lockout'`,
    );
    expect(audited.rows[0]?.count).toBe("1");
  });

  it("locks an unknown email the same way, so lockout reveals nothing", async () => {
    const email = `ghost-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login(email, "not a real password")).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it("a successful login resets the failure count", async () => {
    const { members } = await createTenant("Reset Practice");
    const { email } = members.clinician;
    for (let i = 0; i < 4; i++) expect((await login(email, "nope nope nope nope")).status).toBe(401);
    expect((await login(email, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await login(email, "nope nope nope nope")).status).toBe(401);
    expect((await login(email, PASSWORD)).status).toBe(200);
  });
});
