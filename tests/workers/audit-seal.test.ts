import { createScheduledController, env } from "cloudflare:test";
import { and, asc, eq, sql } from "drizzle-orm";
import { describe, expect, inject, it, vi } from "vitest";
import { auditEvents, auditSeals, jobRuns } from "#src/db/schema/index.ts";
import { GENESIS_HASH, SEAL_MAX_ROWS } from "#src/features/audit/audit.repo.ts";
import { sealAuditTrails, sealHash } from "#src/features/audit/audit.service.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import worker from "#src/index.ts";
import { createTenant, type Tenant } from "./fixtures.ts";
import { api, testDb } from "./helpers.ts";

/**
 * Tamper evidence: seals chain each organization's rows; verify recomputes them. Every tampering
 * case runs in an organization of its own (the test database is shared by files running in
 * parallel), and the trigger is disabled only inside the one transaction that tampers.
 */

/** One batch straight to the gateway as the tables' owner, without the client's tend_app scope. */
async function asOwner(queries: string[]): Promise<void> {
  const response = await fetch(String(env.DATABASE_HTTP_ENDPOINT), {
    method: "POST",
    headers: { "Content-Type": "application/json", "Neon-Connection-String": String(env.DATABASE_URL) },
    body: JSON.stringify({ queries: [{ query: "select set_config('app.scope', 'system', true)", params: [] }, ...queries.map((query) => ({ query, params: [] }))] }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** Runs `statement` on audit_events with its append-only trigger off, in one transaction that turns it back on. */
const behindTheTriggersBack = (statement: string) =>
  asOwner([
    "alter table audit_events disable trigger audit_events_no_update_delete",
    statement,
    "alter table audit_events enable trigger audit_events_no_update_delete",
  ]);

const HOUR = 3_600_000;
let clockBase = Date.UTC(2025, 5, 1, 8, 0, 0);

/** Rows of a fresh organization, long past (so the sealer takes them at once), ids in time order. */
async function oldRows(tenant: Tenant, count: number): Promise<string[]> {
  clockBase += HOUR;
  const ids = Array.from({ length: count }, (_, index) => uuidv7(clockBase + index * 1000));
  await testDb()
    .insert(auditEvents)
    .values(ids.map((id, index) => ({ id, organizationId: tenant.organizationId, action: "patient.read", patientIds: [uuidv7()], metadata: { n: index }, createdAt: new Date(clockBase + index * 1000) })));
  return ids;
}

const seal = () => sealAuditTrails({ db: testDb(), clock: { now: () => new Date() } });

const sealsOf = (tenant: Tenant) => testDb().select().from(auditSeals).where(eq(auditSeals.organizationId, tenant.organizationId)).orderBy(asc(auditSeals.seq));

interface Report {
  verified: boolean;
  seals: number;
  rows: number;
  unsealedRows: number;
  firstBrokenSeal: { seq: number; reason: string } | null;
}

async function verify(tenant: Tenant): Promise<Report> {
  const response = await api("/api/v1/audit-events/verify", { headers: tenant.members.admin.headers });
  expect(response.status).toBe(200);
  return (await response.json()) as Report;
}

describe(`audit seals (${inject("databaseBackend")})`, () => {
  it("chains an organization's rows in seals that verify, hashed as documented", async () => {
    const tenant = await createTenant("Seal Practice");
    const ids = await oldRows(tenant, 5);
    await seal();
    const more = await oldRows(tenant, 3);
    await seal();
    const seals = await sealsOf(tenant);
    expect(seals.map((row) => row.seq)).toEqual(seals.map((_, index) => index + 1));
    expect(seals[0]?.firstId).toBe(ids[0]);
    expect(seals.at(-1)?.lastId).toBe(more.at(-1));
    expect(seals.reduce((sum, row) => sum + row.rowCount, 0)).toBe(8);
    expect(seals[0]?.previousHash).toBe(GENESIS_HASH);
    for (const [index, row] of seals.entries()) {
      expect(row.previousHash).toBe(index === 0 ? GENESIS_HASH : seals[index - 1]?.hash);
      expect(row.hash).toBe(await sealHash(row));
    }
    const report = await verify(tenant);
    expect(report).toEqual({ verified: true, seals: seals.length, rows: 8, unsealedRows: report.unsealedRows, firstBrokenSeal: null });
  });

  it("seals nothing twice: a re-run, or two runs at once, leave one chain", async () => {
    const tenant = await createTenant("Seal Twice Practice");
    await oldRows(tenant, 4);
    await Promise.all([seal(), seal(), seal()]);
    await seal();
    const seals = await sealsOf(tenant);
    expect(seals.map((row) => row.seq)).toEqual(seals.map((_, index) => index + 1));
    expect(seals.reduce((sum, row) => sum + row.rowCount, 0)).toBe(4);
    expect((await verify(tenant)).verified).toBe(true);
  });

  it("seals a long backlog SEAL_MAX_ROWS at a time, over several runs", async () => {
    const tenant = await createTenant("Seal Backlog Practice");
    clockBase += HOUR;
    await testDb().execute(sql`
      insert into audit_events (id, organization_id, action, created_at)
      select (lpad(to_hex(${clockBase}::bigint + n), 12, '0') || '7' || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid,
        ${tenant.organizationId}::uuid, 'patient.read', to_timestamp((${clockBase}::bigint + n) / 1000.0)
      from generate_series(1, ${SEAL_MAX_ROWS + 7}) as n`);
    await seal();
    await seal();
    const seals = await sealsOf(tenant);
    expect(seals.map((row) => row.rowCount)).toEqual([SEAL_MAX_ROWS, 7]);
    expect(await verify(tenant)).toMatchObject({ verified: true, seals: 2, rows: SEAL_MAX_ROWS + 7 });
  });

  it("leaves rows younger than the sealing delay unsealed, and counts them", async () => {
    const tenant = await createTenant("Seal Fresh Practice");
    await oldRows(tenant, 2);
    await seal();
    await testDb().insert(auditEvents).values({ id: uuidv7(), organizationId: tenant.organizationId, action: "patient.read" });
    await seal();
    const report = await verify(tenant);
    expect(report.verified).toBe(true);
    expect(report.rows).toBe(2);
    expect(report.unsealedRows).toBeGreaterThanOrEqual(1);
  });

  it("reports the seal of a row edited behind the trigger's back", async () => {
    const tenant = await createTenant("Tamper Edit Practice");
    const ids = await oldRows(tenant, 4);
    await seal();
    expect((await verify(tenant)).verified).toBe(true);
    await behindTheTriggersBack(`update audit_events set metadata = '{"n": 99}'::jsonb where id = '${ids[2]}'`);
    const report = await verify(tenant);
    expect(report.verified).toBe(false);
    expect(report.firstBrokenSeal).toEqual({ seq: 1, reason: expect.stringMatching(/digest/) });
  });

  it("reports the seal of a deleted row", async () => {
    const tenant = await createTenant("Tamper Delete Practice");
    const ids = await oldRows(tenant, 4);
    await seal();
    await behindTheTriggersBack(`delete from audit_events where id = '${ids[1]}'`);
    const report = await verify(tenant);
    expect(report.verified).toBe(false);
    expect(report.firstBrokenSeal).toEqual({ seq: 1, reason: expect.stringMatching(/3 rows/) });
  });

  it("reports the seal a forged row was slipped into, even between two seals", async () => {
    const tenant = await createTenant("Tamper Forge Practice");
    const first = await oldRows(tenant, 3);
    await seal();
    await oldRows(tenant, 3);
    await seal();
    const seals = await sealsOf(tenant);
    expect(seals.length).toBeGreaterThanOrEqual(2);
    expect((await verify(tenant)).verified).toBe(true);
    // A row whose id sorts after seal 1's last row and before the next seal's first: no seal names it.
    const lastOfFirst = first.at(-1) ?? "";
    const forged = `${lastOfFirst.slice(0, 24)}ffffffffffff`;
    await testDb().insert(auditEvents).values({ id: forged, organizationId: tenant.organizationId, action: "patient.read", createdAt: new Date(clockBase) });
    const report = await verify(tenant);
    expect(report.verified).toBe(false);
    expect(report.firstBrokenSeal?.seq).toBe(2);
    expect(report.rows).toBe(3);
  });

  it("verify costs one round trip, is audited (audit.verified), and is refused to roles without audit:read", async () => {
    const tenant = await createTenant("Seal Verify Practice");
    const response = await api("/api/v1/audit-events/verify", { headers: tenant.members.admin.headers });
    expect(response.status).toBe(200);
    expect(response.headers.get("Server-Timing")).toMatch(/desc="1 round trips"/);
    expect(await response.json()).toEqual({ verified: true, seals: 0, rows: 0, unsealedRows: 0, firstBrokenSeal: null });
    const rows = await testDb()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.organizationId, tenant.organizationId), eq(auditEvents.action, "audit.verified")));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.actorUserId).toBe(tenant.members.admin.id);
    expect((await api("/api/v1/audit-events/verify", { headers: tenant.members.clinician.headers })).status).toBe(403);
    expect((await api("/api/v1/audit-events/verify", { headers: {} })).status).toBe(401);
  });

  it("is driven by cron: the tick enqueues audit.seal, and the queue's run seals", async () => {
    const tenant = await createTenant("Seal Cron Practice");
    await oldRows(tenant, 2);
    const scheduledTime = Date.UTC(2032, 0, 1, 0, Math.floor(Math.random() * 60), Math.floor(Math.random() * 60));
    await worker.scheduled(createScheduledController({ scheduledTime, cron: "*/5 * * * *" }), env);
    const occurrence = new Date(scheduledTime).toISOString();
    await vi.waitFor(
      async () => {
        const [run] = await testDb().select().from(jobRuns).where(and(eq(jobRuns.kind, "audit.seal"), eq(jobRuns.occurrence, occurrence)));
        expect(run?.finishedAt).toBeInstanceOf(Date);
      },
      { timeout: 10_000, interval: 200 },
    );
    expect((await sealsOf(tenant)).reduce((sum, row) => sum + row.rowCount, 0)).toBe(2);
  });
});
