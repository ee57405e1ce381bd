import { env } from "cloudflare:test";
import { and, eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createDb } from "#src/db/client.ts";
import { apiKeys, auditEvents, invitations, memberships, membershipPreferences, organizations } from "#src/db/schema/index.ts";
import { scoped, systemScope } from "#src/db/scope.ts";
import { parseConfig } from "#src/env.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { Timing } from "#src/lib/timing.ts";
import { createTenant, type Tenant } from "./fixtures.ts";
import { testDb } from "./helpers.ts";

/** One batch straight to the gateway, without the client's scope statement in front of it. */
async function rawBatch(queries: string[]): Promise<{ rows: Record<string, string>[] }[]> {
  const response = await fetch(String(env.DATABASE_HTTP_ENDPOINT), {
    method: "POST",
    headers: { "Content-Type": "application/json", "Neon-Connection-String": String(env.DATABASE_URL) },
    body: JSON.stringify({ queries: queries.map((query) => ({ query, params: [] })) }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { results: { rows: Record<string, string>[] }[] }).results;
}

const inviteOf = (tenant: Tenant) => ({
  id: uuidv7(),
  organizationId: tenant.organizationId,
  email: `invitee-${tenant.organizationId}@example.test`,
  role: "staff" as const,
  tokenHash: `rls-${uuidv7()}`,
  expiresAt: new Date(Date.now() + 86_400_000),
});
const keyOf = (tenant: Tenant) => ({
  id: uuidv7(),
  organizationId: tenant.organizationId,
  name: "rls",
  prefix: "tend_rls",
  keyHash: `rls-${uuidv7()}`,
  scopes: ["organization:read"],
});

describe(`row-level security (${inject("databaseBackend")})`, () => {
  let a: Tenant;
  let b: Tenant;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTenant("RLS Practice A"), createTenant("RLS Practice B")]);
    const db = testDb();
    await db.batch([
      db.insert(invitations).values([inviteOf(a), inviteOf(b)]),
      db.insert(apiKeys).values([keyOf(a), keyOf(b)]),
      db.insert(membershipPreferences).values([
        { organizationId: a.organizationId, userId: a.members.caregiver.id, preferences: { alertThreshold: "high" } },
        { organizationId: b.organizationId, userId: b.members.caregiver.id, preferences: { alertThreshold: "low" } },
      ]),
    ]);
  });

  it("runs app queries as tend_app, which is no superuser and does not bypass RLS", async () => {
    const result = await testDb().execute<{ who: string; superuser: boolean; bypass: boolean }>(sql`
      select current_user as who, rolsuper as superuser, rolbypassrls as bypass from pg_roles where rolname = current_user`);
    expect(result.rows).toEqual([{ who: "tend_app", superuser: false, bypass: false }]);
  });

  it("shows a query that forgot its organization filter only the caller's rows", async () => {
    const { db } = scoped(testDb(), a.organizationId);
    // No WHERE on organization_id anywhere: row-level security is what narrows these.
    const [members, invites, keys, orgs, prefs] = await db.batch([
      db.select({ organizationId: memberships.organizationId }).from(memberships),
      db.select({ organizationId: invitations.organizationId }).from(invitations),
      db.select({ organizationId: apiKeys.organizationId }).from(apiKeys),
      db.select({ id: organizations.id }).from(organizations),
      db.select({ organizationId: membershipPreferences.organizationId }).from(membershipPreferences),
    ]);
    expect(members).toHaveLength(6);
    for (const rows of [members, invites, keys, prefs]) {
      expect(rows.length).toBeGreaterThan(0);
      expect(new Set(rows.map((row) => row.organizationId))).toEqual(new Set([a.organizationId]));
    }
    expect(orgs).toEqual([{ id: a.organizationId }]);
    const audit = await db.execute<{ n: string }>(sql`select count(*) as n from audit_events where organization_id <> ${a.organizationId}`);
    expect(audit.rows).toEqual([{ n: "0" }]);
  });

  it("cannot reach another organization's row even by its key", async () => {
    const { db } = scoped(testDb(), a.organizationId);
    const bMember = b.members.staff.id;
    const read = await db.select().from(memberships).where(and(eq(memberships.organizationId, b.organizationId), eq(memberships.userId, bMember)));
    expect(read).toEqual([]);
    const changed = await db.update(memberships).set({ role: "patient" }).where(eq(memberships.userId, bMember)).returning();
    expect(changed).toEqual([]);
    const removed = await db.delete(memberships).where(eq(memberships.userId, bMember)).returning();
    expect(removed).toEqual([]);
    const [still] = await testDb().select({ role: memberships.role }).from(memberships).where(eq(memberships.userId, bMember));
    expect(still?.role).toBe("staff");
  });

  it("refuses to write a row into another organization (WITH CHECK)", async () => {
    const { db } = scoped(testDb(), a.organizationId);
    const insert = db.insert(auditEvents).values({ id: uuidv7(), organizationId: b.organizationId, action: "organization.updated" });
    await expect(insert).rejects.toMatchObject({ cause: expect.objectContaining({ code: "42501" }) });
    const move = db.update(apiKeys).set({ organizationId: b.organizationId }).returning();
    await expect(move).rejects.toMatchObject({ cause: expect.objectContaining({ code: "42501" }) });
  });

  it("the scope's helpers add organization_id = $org themselves", async () => {
    const scope = scoped(testDb(), b.organizationId);
    const keys = await scope.select(apiKeys);
    expect(keys.map((key) => key.organizationId)).toEqual([b.organizationId]);
    const hidden = await scope.update(apiKeys, { name: "renamed" }, eq(apiKeys.organizationId, a.organizationId)).returning();
    expect(hidden).toEqual([]);
  });

  it("sets the scope in the same round trip as the query, and only for that transaction", async () => {
    const timing = new Timing();
    const db = createDb(parseConfig(env), { timing, scope: { kind: "organization", organizationId: a.organizationId } });
    const [first, second] = await db.batch([
      db.execute<{ org: string }>(sql`select current_setting('app.organization_id', true) as org`),
      db.select({ id: organizations.id }).from(organizations),
    ]);
    expect(first.rows).toEqual([{ org: a.organizationId }]);
    expect(second).toEqual([{ id: a.organizationId }]);
    await db.select().from(organizations);
    expect(timing.dbCalls).toBe(2);
    const after = await rawBatch(["select current_setting('app.organization_id', true) as org, current_user as who"]);
    expect(after[0]?.rows[0]?.org ?? "").toBe("");
    expect(after[0]?.rows[0]?.who).not.toBe("tend_app");
  });

  it("shows nothing to tend_app when no scope was set", async () => {
    const [, counted] = await rawBatch(["select set_config('role', 'tend_app', true)", "select count(*) as n from memberships"]);
    expect(counted?.rows).toEqual([{ n: "0" }]);
  });

  it("gives background jobs no tenant rows unless they ask for the system scope", async () => {
    const db = createDb(parseConfig(env), { scope: { kind: "jobs" } });
    const [members, runs] = await db.batch([
      db.select({ userId: memberships.userId }).from(memberships),
      db.execute<{ n: string }>(sql`select count(*) >= 0 as n from job_runs`),
    ]);
    expect(members).toEqual([]);
    expect(runs.rows).toHaveLength(1);
  });

  it("lets an audited system scope span organizations, writing the job's name in the same transaction", async () => {
    const job = `rls-test-${uuidv7()}`;
    const db = systemScope(testDb(), job);
    const rows = await db
      .select({ organizationId: memberships.organizationId })
      .from(memberships)
      .where(sql`${memberships.organizationId} in (${a.organizationId}, ${b.organizationId})`);
    expect(new Set(rows.map((row) => row.organizationId))).toEqual(new Set([a.organizationId, b.organizationId]));
    const audit = await testDb()
      .select({ action: auditEvents.action, targetType: auditEvents.targetType, metadata: auditEvents.metadata })
      .from(auditEvents)
      .where(eq(auditEvents.targetId, job));
    expect(audit).toEqual([{ action: "system.scope", targetType: "job", metadata: { job } }]);
  });
});
