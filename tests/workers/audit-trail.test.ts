import { env } from "cloudflare:test";
import { and, eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { auditEvents } from "#src/db/schema/index.ts";
import { createDb } from "#src/db/client.ts";
import { parseConfig } from "#src/env.ts";
import { EXPORT_PAGE_SIZE, exportAuditEvents } from "#src/features/audit/audit.service.ts";
import { createLogger } from "#src/lib/logger.ts";
import { Timing } from "#src/lib/timing.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { createTenant, jsonBody, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb, roundTrips } from "./helpers.ts";

/** The body as text (workerd warns when .text() reads a non-text content type). */
const ndjsonText = async (response: Response) => new TextDecoder().decode(await response.arrayBuffer());


interface Listed {
  data: { id: string; action: string; actorUserId: string | null; patientIds: string[]; createdAt: string; requestId: string | null }[];
  nextCursor: string | null;
}

/** Audit rows of the tenant, written straight in the database at chosen times (ids follow the times). */
async function seed(tenant: Tenant, rows: { action: string; actor?: string; patients?: string[]; at: number }[]) {
  await testDb()
    .insert(auditEvents)
    .values(
      rows.map((row) => ({
        id: uuidv7(row.at),
        organizationId: tenant.organizationId,
        actorUserId: row.actor ?? null,
        action: row.action,
        patientIds: row.patients ?? [],
        requestId: "seeded",
        createdAt: new Date(row.at),
      })),
    );
}

/** `total` rows of the tenant at base + n ms (n = 1…total), ids in the same order, metadata {n}. */
async function seedMany(tenant: Tenant, base: number, total: number) {
  await testDb().execute(sql`
    insert into audit_events (id, organization_id, action, metadata, created_at)
    select (lpad(to_hex(${base}::bigint + n), 12, '0') || '7' || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid,
      ${tenant.organizationId}::uuid, 'patient.read', jsonb_build_object('n', n), to_timestamp((${base}::bigint + n) / 1000.0)
    from generate_series(1, ${total}) as n`);
}

const auditRowsOf = (tenant: Tenant, action: string) =>
  testDb()
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.organizationId, tenant.organizationId), eq(auditEvents.action, action)));

describe(`audit trail: query and export (${inject("databaseBackend")})`, () => {
  let tenant: Tenant;
  let other: Tenant;
  const patientA = uuidv7();
  const patientB = uuidv7();
  const base = Date.UTC(2026, 0, 10, 9, 0, 0);
  beforeAll(async () => {
    [tenant, other] = await Promise.all([createTenant("Audit Trail Practice"), createTenant("Audit Trail Other")]);
    const clinician = tenant.members.clinician.id;
    await seed(tenant, [
      { action: "patient.read", actor: clinician, patients: [patientA], at: base },
      { action: "note.read", actor: clinician, patients: [patientA], at: base + 60_000 },
      { action: "note.signed", actor: clinician, patients: [patientB], at: base + 120_000 },
      { action: "patient.listed", actor: tenant.members.staff.id, patients: [patientA, patientB], at: base + 180_000 },
      { action: "notes.other", actor: clinician, at: base + 240_000 },
    ]);
    await seed(other, [{ action: "note.read", actor: other.members.clinician.id, patients: [patientA], at: base + 30_000 }]);
  });

  const list = async (query: string, headers = tenant.members.admin.headers) => {
    const response = await api(`/api/v1/audit-events?${query}`, { headers });
    expect(response.status).toBe(200);
    return { response, body: (await response.json()) as Listed };
  };
  const seededOnly = (query: string) => `to=${new Date(base + 3_600_000).toISOString()}&${query}`;

  it("lists the organization's rows newest first, never another's, in one round trip", async () => {
    const { response, body } = await list(seededOnly(""));
    expect(body.data.map((row) => row.action)).toEqual(["notes.other", "patient.listed", "note.signed", "note.read", "patient.read"]);
    expect(roundTrips(response)).toBe(1);
  });

  it("filters by actor, patient, exact action, action prefix and time range", async () => {
    const byActor = await list(seededOnly(`actor=${tenant.members.staff.id}`));
    expect(byActor.body.data.map((row) => row.action)).toEqual(["patient.listed"]);
    const byPatient = await list(seededOnly(`patient=${patientB}`));
    expect(byPatient.body.data.map((row) => row.action)).toEqual(["patient.listed", "note.signed"]);
    const exact = await list(seededOnly("action=note.read"));
    expect(exact.body.data.map((row) => row.action)).toEqual(["note.read"]);
    const prefix = await list(seededOnly("action=note."));
    expect(prefix.body.data.map((row) => row.action)).toEqual(["note.signed", "note.read"]);
    const range = await list(`from=${new Date(base + 60_000).toISOString()}&to=${new Date(base + 180_000).toISOString()}`);
    expect(range.body.data.map((row) => row.action)).toEqual(["note.signed", "note.read"]);
  });

  it("pages by keyset cursor without repeating or skipping a row", async () => {
    const first = await list(seededOnly("limit=2"));
    expect(first.body.data).toHaveLength(2);
    const second = await list(seededOnly(`limit=2&cursor=${first.body.nextCursor}`));
    const third = await list(seededOnly(`limit=2&cursor=${second.body.nextCursor}`));
    expect(third.body.nextCursor).toBeNull();
    const actions = [...first.body.data, ...second.body.data, ...third.body.data].map((row) => row.action);
    expect(actions).toEqual(["notes.other", "patient.listed", "note.signed", "note.read", "patient.read"]);
  });

  it("audits each read of the trail (audit.listed) with the request id and the patients it returned", async () => {
    const requestId = `audit-list-${crypto.randomUUID()}`;
    const response = await api(`/api/v1/audit-events?${seededOnly(`patient=${patientB}`)}`, { headers: { ...tenant.members.owner.headers, "X-Request-ID": requestId } });
    expect(response.status).toBe(200);
    const rows = (await auditRowsOf(tenant, "audit.listed")).filter((row) => row.requestId === requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.actorUserId).toBe(tenant.members.owner.id);
    expect([...(rows[0]?.patientIds ?? [])].sort()).toEqual([patientA, patientB].sort());
    expect(rows[0]?.metadata).toMatchObject({ returned: 2, patient: patientB });
  });

  it("is refused (403, audited as access.denied) to roles without audit:read", async () => {
    for (const role of ["clinician", "staff", "caregiver", "patient"] as const) {
      const response = await api("/api/v1/audit-events", { headers: tenant.members[role].headers });
      expect(response.status).toBe(403);
      expect((await problemOf(response)).status).toBe(403);
    }
    const denied = await auditRowsOf(tenant, "access.denied");
    expect(denied.filter((row) => row.targetId === "listAuditEvents").length).toBeGreaterThanOrEqual(4);
  });

  const issue = async (scopes: string[]) => {
    const response = await api("/api/v1/api-keys", jsonBody({ name: "siem", scopes }, tenant.members.admin.headers));
    expect(response.status).toBe(201);
    return ((await response.json()) as { key: string }).key;
  };

  it("answers an API key with the audit:read scope, and refuses one without it", async () => {
    const reader = await issue(["audit:read"]);
    const ok = await api(`/api/v1/audit-events?${seededOnly("action=note.")}`, { headers: { "X-API-Key": reader } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Listed).data).toHaveLength(2);
    const noScope = await issue(["organization:read"]);
    expect((await api("/api/v1/audit-events", { headers: { "X-API-Key": noScope } })).status).toBe(403);
  });

  it("answers 422 for a tampered cursor, a bad action, a bad time and an empty range", async () => {
    const headers = tenant.members.admin.headers;
    for (const query of ["cursor=bm90LWEtY3Vyc29y", "action=NOTE%20read", "action=%25", "from=yesterday", `from=${new Date(base).toISOString()}&to=${new Date(base).toISOString()}`, "patient=42", "limit=1000"]) {
      const response = await api(`/api/v1/audit-events?${query}`, { headers });
      expect(response.status, query).toBe(422);
      expect((await problemOf(response)).status).toBe(422);
    }
  });

  it("exports the same filters as NDJSON, oldest first, and audits the export once", async () => {
    const requestId = `audit-export-${crypto.randomUUID()}`;
    const response = await api(`/api/v1/audit-events/export?${seededOnly("action=note.")}`, { headers: { ...tenant.members.admin.headers, "X-Request-ID": requestId } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/x-ndjson/);
    const lines = (await ndjsonText(response)).trim().split("\n").map((line) => JSON.parse(line) as { action: string });
    expect(lines.map((line) => line.action)).toEqual(["note.read", "note.signed"]);
    const audited = (await auditRowsOf(tenant, "audit.exported")).filter((row) => row.requestId === requestId);
    expect(audited).toHaveLength(1);
    expect(audited[0]?.metadata).toMatchObject({ action: "note." });
  });

  it("streams an export larger than a page, every row once and in id order", async () => {
    const big = await createTenant("Audit Export Practice");
    const total = EXPORT_PAGE_SIZE * 2 + 345;
    await seedMany(big, base, total);
    const response = await api(`/api/v1/audit-events/export?to=${new Date(base + 3_600_000).toISOString()}`, { headers: big.members.owner.headers });
    expect(response.status).toBe(200);
    const lines = (await ndjsonText(response)).trim().split("\n").map((line) => JSON.parse(line) as { id: string; metadata: { n: number } });
    expect(lines).toHaveLength(total);
    expect(lines.map((line) => line.metadata.n)).toEqual(Array.from({ length: total }, (_, index) => index + 1));
  });

  it("fetches each page only when the reader asks for it: one round trip a page, one page in memory", async () => {
    const big = await createTenant("Audit Lazy Export Practice");
    await seedMany(big, base, EXPORT_PAGE_SIZE * 2 + 10);
    const timing = new Timing();
    const db = createDb(parseConfig(env), { timing });
    const caller = { organizationId: big.organizationId, userId: big.members.owner.id, apiKeyId: null };
    const stream = await exportAuditEvents({ db, origin: { ip: null, userAgent: null, requestId: "lazy-export" }, logger: createLogger("error") }, caller, {});
    expect(timing.dbCalls).toBe(1);
    const reader = stream.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value).trim().split("\n")).toHaveLength(EXPORT_PAGE_SIZE);
    expect(timing.dbCalls).toBeLessThanOrEqual(2);
    let lines = EXPORT_PAGE_SIZE;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) lines += new TextDecoder().decode(chunk.value).trim().split("\n").length;
    expect(lines).toBe(EXPORT_PAGE_SIZE * 2 + 10);
    expect(timing.dbCalls).toBe(3);
  });

  it("exports nothing of another organization and keeps its filters 422-strict", async () => {
    const response = await api(`/api/v1/audit-events/export?${seededOnly(`patient=${patientA}`)}`, { headers: other.members.owner.headers });
    const lines = (await ndjsonText(response)).trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as { action: string });
    expect(lines.map((line) => line.action)).toEqual(["note.read"]);
    expect((await api("/api/v1/audit-events/export?action=..", { headers: other.members.owner.headers })).status).toBe(422);
    expect((await api("/api/v1/audit-events/export", { headers: other.members.clinician.headers })).status).toBe(403);
  });
});
