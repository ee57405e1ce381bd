import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { and, eq } from "drizzle-orm";
import { memberships } from "#src/db/schema/index.ts";
import { createTenant, jsonBody, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

/** Defects the schema-driven fuzzer (fuzz.test.ts) found, each pinned by its smallest case. */
describe("fuzzer regressions", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Fuzz Regressions");
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([200, 400])("answers 503 with Retry-After, not 500, when the database connection drops after %i headers", async (status) => {
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url !== env.DATABASE_HTTP_ENDPOINT) return realFetch(input, init);
      const body = new ReadableStream({
        start(controller) {
          controller.error(new TypeError("Network connection lost."));
        },
      });
      return new Response(body, { status, headers: { "Content-Type": "application/json" } });
    });
    const response = await api("/api/v1/organization", { headers: tenant.members.owner.headers });
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect((await problemOf(response)).detail).toMatch(/database/i);
  });

  it("runs the rate limiter's cleanup alarm (its next-expiry query stays within SQLite's compound-select limit)", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`fuzz-alarm-${crypto.randomUUID()}`));
    await stub.admit({ bucket: "reads", limit: 10, windowSeconds: 60 });
    await stub.spendOnce("fuzz-once", 60);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
  });

  it("answers 409, not 500, when a write refers to a membership that ended under the request (23503)", async () => {
    // Seed 2685262522 on PostgreSQL: PATCH /me/preferences by a member whose membership was removed
    // between the token's check and the upsert: the foreign key refused the row.
    const own = await createTenant("Vanished Membership");
    const { staff } = own.members;
    await testDb().delete(memberships).where(and(eq(memberships.organizationId, own.organizationId), eq(memberships.userId, staff.id)));
    const response = await api("/api/v1/me/preferences", jsonBody({ alertThreshold: "critical", dailySummaryTime: "22:00" }, staff.headers, "PATCH"));
    expect(response.status).toBe(409);
    expect((await problemOf(response)).detail).toBe("The change refers to a record that no longer exists.");
  });
});
