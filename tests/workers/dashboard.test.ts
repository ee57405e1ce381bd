import { env } from "cloudflare:test";
import { and, eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Role } from "#src/db/schema/identity.ts";
import { appointments, auditEvents } from "#src/db/schema/index.ts";
import { createDb } from "#src/db/client.ts";
import { parseConfig } from "#src/env.ts";
import { buildDashboard, type Dashboard, readDashboard } from "#src/features/dashboard/dashboard.service.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { ROLE_PERMISSIONS } from "#src/lib/permissions.ts";
import { Timing } from "#src/lib/timing.ts";
import type { AuthContext } from "#src/middleware/auth.ts";
import { durableRateLimiter } from "#src/platform/cloudflare/adapters.ts";
import { memoryCache } from "#src/platform/memory/adapters.ts";
import { addMember, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb, roundTrips } from "./helpers.ts";

const HOUR = 3_600_000;

interface Booking {
  patientId: string;
  clinicianId: string;
  startsAt: Date;
  minutes?: number;
  status?: "scheduled" | "confirmed" | "completed" | "cancelled" | "no_show";
}

async function book(tenant: Tenant, booking: Booking): Promise<string> {
  const id = uuidv7();
  await testDb()
    .insert(appointments)
    .values({
      id,
      organizationId: tenant.organizationId,
      patientId: booking.patientId,
      clinicianId: booking.clinicianId,
      startsAt: booking.startsAt,
      endsAt: new Date(booking.startsAt.getTime() + (booking.minutes ?? 50) * 60_000),
      status: booking.status ?? "scheduled",
    });
  return id;
}


async function dashboardOf(headers: Record<string, string>): Promise<{ response: Response; body: Dashboard }> {
  const response = await api("/api/v1/dashboard", { headers });
  expect(response.status, await response.clone().text()).toBe(200);
  return { response, body: (await response.json()) as Dashboard };
}

const idsOf = (body: Dashboard) => body.today.appointments.map((appointment) => appointment.id).sort();

function authOf(member: Pick<Member, "id" | "role">, organizationId: string): AuthContext {
  return { kind: "user", userId: member.id, apiKeyId: null, organizationId, role: member.role, permissions: ROLE_PERMISSIONS[member.role] };
}

describe("GET /dashboard", () => {
  let tenant: Tenant;
  let otherClinician: Member;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    tenant = await createTenant("Dashboard Practice");
    const { clinician, caregiver, patient } = tenant.members;
    otherClinician = await addMember(tenant, "clinician");
    ids.cared = await insertPatient(tenant, {
      name: "Aroha Ngata",
      userId: patient.id,
      careTeam: [
        { userId: clinician.id, relationship: "therapist", primary: true },
        { userId: caregiver.id, relationship: "daughter", primary: false },
      ],
    });
    ids.others = await insertPatient(tenant, { name: "Zoë Brontë", careTeam: [{ userId: otherClinician.id, relationship: "therapist" }] });
    ids.unteamed = await insertPatient(tenant, { name: "Søren Kierkegaard" });
    ids.inactive = await insertPatient(tenant, { name: "Inés Ortega", status: "inactive", careTeam: [{ userId: clinician.id }] });
    // The organization's timezone is UTC: these start today whatever the hour the test runs.
    const dayStart = new Date(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    const at = (hours: number) => new Date(dayStart.getTime() + hours * HOUR);
    ids.caredToday = await book(tenant, { patientId: ids.cared, clinicianId: clinician.id, startsAt: at(9) });
    ids.othersToday = await book(tenant, { patientId: ids.others, clinicianId: otherClinician.id, startsAt: at(10) });
    ids.clinicianOwn = await book(tenant, { patientId: ids.unteamed, clinicianId: clinician.id, startsAt: at(11) });
    ids.caredCancelled = await book(tenant, { patientId: ids.cared, clinicianId: otherClinician.id, startsAt: at(13), status: "cancelled" });
    // Yesterday's: in this week's counts only when yesterday was in this ISO week, never in today's.
    ids.yesterday = await book(tenant, { patientId: ids.others, clinicianId: otherClinician.id, startsAt: at(-12), status: "completed" });
  });

  const everyone = () => [ids.caredToday, ids.othersToday, ids.clinicianOwn, ids.caredCancelled].sort();

  it("shows the owner every active patient and every appointment of today, in one audited round trip", async () => {
    const { response, body } = await dashboardOf(tenant.members.owner.headers);
    expect(roundTrips(response)).toBe(1);
    expect(body.activePatients).toBe(3);
    expect(body.timezone).toBe("UTC");
    expect(body.today.date).toBe(new Date().toISOString().slice(0, 10));
    expect(idsOf(body)).toEqual(everyone());
    expect(body.today.total).toBe(4);
    const first = body.today.appointments[0];
    expect(first).toMatchObject({ id: ids.caredToday, status: "scheduled", patientId: ids.cared, patientName: "Aroha Ngata", clinicianId: tenant.members.clinician.id });
    expect(first?.startsAt).toMatch(/^\d{4}-\d{2}-\d{2}T09:00:00\.000Z$/);
    expect(body.thisWeek.byStatus.cancelled).toBe(1);
    expect(body.thisWeek.byStatus.scheduled).toBe(3);
    expect(body.openAlerts).toBeNull();
    expect(body.adherenceThisWeek).toBeNull();

    const requestId = response.headers.get("X-Request-ID") ?? "";
    const rows = await testDb().select().from(auditEvents).where(and(eq(auditEvents.requestId, requestId), eq(auditEvents.organizationId, tenant.organizationId)));
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row?.action).toBe("dashboard.read");
    expect(row?.actorUserId).toBe(tenant.members.owner.id);
    expect([...(row?.patientIds ?? [])].sort()).toEqual([ids.cared, ids.others, ids.unteamed].sort());
    expect([...((row?.metadata as { appointmentIds?: string[] } | undefined)?.appointmentIds ?? [])].sort()).toEqual(everyone());
  });

  it("shows the front desk every patient and appointment too", async () => {
    const { body } = await dashboardOf(tenant.members.staff.headers);
    expect(body.activePatients).toBe(3);
    expect(idsOf(body)).toEqual(everyone());
  });

  it("shows a clinician their care-team patients' appointments and their own", async () => {
    const { body } = await dashboardOf(tenant.members.clinician.headers);
    expect(body.activePatients).toBe(1);
    expect(idsOf(body)).toEqual([ids.caredToday, ids.clinicianOwn, ids.caredCancelled].sort());
    expect(body.today.total).toBe(3);
    const other = await dashboardOf(otherClinician.headers);
    expect(other.body.activePatients).toBe(1);
    expect(idsOf(other.body)).toEqual([ids.othersToday, ids.caredCancelled].sort());
  });

  it("shows a caregiver their care-team patients' appointments only", async () => {
    const { body } = await dashboardOf(tenant.members.caregiver.headers);
    expect(body.activePatients).toBe(1);
    expect(idsOf(body)).toEqual([ids.caredToday, ids.caredCancelled].sort());
    expect(body.thisWeek.total).toBe(2);
  });

  it("refuses a patient member (no dashboard:read) and audits the attempt", async () => {
    const response = await api("/api/v1/dashboard", { headers: tenant.members.patient.headers });
    expect(response.status).toBe(403);
    expect((await problemOf(response)).status).toBe(403);
    const rows = await testDb()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.requestId, response.headers.get("X-Request-ID") ?? ""), eq(auditEvents.action, "access.denied")));
    expect(rows).toHaveLength(1);
  });

  it("narrows a patient's own dashboard to their record, should the matrix grant it", async () => {
    const auth = { ...authOf(tenant.members.patient, tenant.organizationId), permissions: new Set([...ROLE_PERMISSIONS.patient, "dashboard:read" as const]) };
    const body = await buildDashboard({ db: testDb(), origin: { ip: null, userAgent: null, requestId: "patient-own" } }, auth, new Date());
    expect(body.activePatients).toBe(1);
    expect(idsOf(body)).toEqual([ids.caredToday, ids.caredCancelled].sort());
  });

  it("answers an API key with dashboard:read for the whole organization", async () => {
    const created = await api("/api/v1/api-keys", jsonBody({ name: "wallboard", scopes: ["dashboard:read"] }, tenant.members.owner.headers));
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const { body } = await dashboardOf({ "X-API-Key": key });
    expect(body.activePatients).toBe(3);
    expect(idsOf(body)).toEqual(everyone());
  });

  it("serves a repeated read from KV with 0 round trips, audited through the queue", async () => {
    const member = await addMember(tenant, "staff");
    const first = await dashboardOf(member.headers);
    expect(roundTrips(first.response)).toBe(1);
    // The cache is written after the response (waitUntil): give it a moment.
    let again = await dashboardOf(member.headers);
    for (let attempt = 0; attempt < 20 && roundTrips(again.response) !== 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await dashboardOf(member.headers);
    }
    expect(roundTrips(again.response)).toBe(0);
    expect(first.response.headers.get("X-Cache")).toBe("miss");
    expect(again.response.headers.get("X-Cache")).toBe("hit");
    expect(again.body).toEqual(first.body);
    // The hit re-serves patient data: its audit row comes through the queue (audit.record), not SQL in the request.
    const hitRequest = again.response.headers.get("X-Request-ID") ?? "";
    let hitRows = await testDb().select().from(auditEvents).where(eq(auditEvents.requestId, hitRequest));
    for (let attempt = 0; attempt < 100 && hitRows.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      hitRows = await testDb().select().from(auditEvents).where(eq(auditEvents.requestId, hitRequest));
    }
    expect(hitRows).toHaveLength(1);
    expect(hitRows[0]).toMatchObject({ action: "dashboard.read", organizationId: tenant.organizationId, actorUserId: member.id, metadata: expect.objectContaining({ cached: true }) });
  });

  it("keeps one caller's cached dashboard from another", async () => {
    const clinician = await dashboardOf(tenant.members.clinician.headers);
    const owner = await dashboardOf(tenant.members.owner.headers);
    expect(clinician.body.activePatients).toBe(1);
    expect(owner.body.activePatients).toBe(3);
  });
});

describe("dashboard cache age", () => {
  it("serves the cached dashboard within 30 s and reads afresh after", async () => {
    const tenant = await createTenant("Cache Age");
    await insertPatient(tenant, { name: "Élodie Marchand" });
    let now = new Date("2026-12-03T09:00:00Z");
    const cache = memoryCache({ now: () => now });
    const timing = new Timing();
    const counted = createDb(parseConfig(env), { timing });
    const pending: Promise<unknown>[] = [];
    let lastWrite: number | undefined;
    const writes = { lastWriteMs: async () => lastWrite, markWrite: async () => {} };
    const jobs = { enqueue: async () => {}, ping: async () => {} };
    const deps = { db: counted, cache, jobs, clock: { now: () => now }, writes, origin: { ip: null, userAgent: null, requestId: "cache-age" }, defer: (work: Promise<unknown>) => void pending.push(work) };
    const auth = authOf(tenant.members.owner, tenant.organizationId);

    expect((await readDashboard(deps, auth)).dashboard.activePatients).toBe(1);
    await Promise.all(pending);
    await insertPatient(tenant, { name: "Jürgen Weiß" });
    now = new Date(now.getTime() + 29_000);
    expect(await readDashboard(deps, auth)).toMatchObject({ cache: "hit", dashboard: { activePatients: 1 } });
    expect(timing.dbCalls).toBe(1);
    now = new Date(now.getTime() + 2_000);
    expect(await readDashboard(deps, auth)).toMatchObject({ cache: "miss", dashboard: { activePatients: 2 } });
    expect(timing.dbCalls).toBe(2);
    await Promise.all(pending);

    // The caller's own write since the cached read: they read afresh at once.
    expect((await readDashboard(deps, auth)).cache).toBe("hit");
    lastWrite = now.getTime() + 1;
    now = new Date(now.getTime() + 1_000);
    expect((await readDashboard(deps, auth)).cache).toBe("miss");
    await Promise.all(pending);
    expect((await readDashboard(deps, auth)).cache).toBe("hit");

    // The same member under another role (after a role change) never gets the old role's entry.
    expect((await readDashboard(deps, { ...auth, role: "caregiver", permissions: ROLE_PERMISSIONS.caregiver })).cache).toBe("miss");
  });
});

const setTimezone = (organizationId: string, timezone: string) =>
  testDb().execute(sql`update organizations set timezone = ${timezone} where id = ${organizationId}`);

describe("dashboard days in the organization's timezone", () => {
  it("counts 23:30 local for today in Pacific/Auckland, not in UTC, and the ISO week locally", async () => {
    const tenant = await createTenant("Auckland Practice");
    const owner = tenant.members.owner;
    const patientId = await insertPatient(tenant, { name: "Mere Tāmaki", timezone: "Pacific/Auckland" });
    // 12:00 UTC on Thursday 3 December 2026 is 01:00 on Friday 4 December in Auckland (NZDT, +13).
    const now = new Date("2026-12-03T12:00:00Z");
    const lateTonight = await book(tenant, { patientId, clinicianId: tenant.members.clinician.id, startsAt: new Date("2026-12-04T10:30:00Z"), minutes: 30 });
    // Monday 30 November 00:30 in Auckland is still Sunday 29 November in UTC: last ISO week there.
    await book(tenant, { patientId, clinicianId: tenant.members.clinician.id, startsAt: new Date("2026-11-29T11:30:00Z"), status: "completed" });
    const deps = { db: testDb(), origin: { ip: null, userAgent: null, requestId: "tz" } };
    const auth = authOf(owner, tenant.organizationId);

    await setTimezone(tenant.organizationId, "Pacific/Auckland");
    const auckland = await buildDashboard(deps, auth, now);
    expect(auckland.timezone).toBe("Pacific/Auckland");
    expect(auckland.today.date).toBe("2026-12-04");
    expect(idsOf(auckland)).toEqual([lateTonight]);
    expect(auckland.thisWeek).toMatchObject({ from: "2026-11-30", to: "2026-12-06", total: 2 });
    expect(auckland.thisWeek.byStatus.completed).toBe(1);

    await setTimezone(tenant.organizationId, "UTC");
    const utc = await buildDashboard(deps, auth, now);
    expect(utc.today.date).toBe("2026-12-03");
    expect(idsOf(utc)).toEqual([]);
    expect(utc.thisWeek).toMatchObject({ from: "2026-11-30", to: "2026-12-06", total: 1 });
    expect(utc.thisWeek.byStatus.completed).toBe(0);
  });

  it("answers every role in one statement even on an empty day", async () => {
    const tenant = await createTenant("Empty Day");
    for (const role of ["owner", "admin", "clinician", "staff", "caregiver"] as Role[]) {
      const { response, body } = await dashboardOf(tenant.members[role].headers);
      expect(roundTrips(response)).toBe(1);
      expect(body).toMatchObject({ activePatients: 0, today: { total: 0, appointments: [] }, thisWeek: { total: 0 } });
    }
  });
});

describe("the writer sees their own change on the dashboard at once", () => {
  it("a change through the API (an edit, an archive) is a miss for the writer, with the new count", async () => {
    const tenant = await createTenant("Writer Dashboard Practice");
    const patientId = await insertPatient(tenant, { name: "Ximena Ruiz" });
    await insertPatient(tenant, { name: "Yusuf Demir" });
    const { headers } = tenant.members.staff;
    expect((await dashboardOf(headers)).body.activePatients).toBe(2);
    let again = await dashboardOf(headers);
    for (let attempt = 0; attempt < 20 && again.response.headers.get("X-Cache") !== "hit"; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await dashboardOf(headers);
    }
    expect(again.response.headers.get("X-Cache")).toBe("hit");
    // The Worker's clock only moves on I/O: let the write come after the cached read.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const renamed = await api(`/api/v1/patients/${patientId}`, jsonBody({ preferredName: "Xime" }, { ...headers, "If-Match": '"1"' }, "PATCH"));
    expect(renamed.status).toBe(200);
    expect((await dashboardOf(headers)).response.headers.get("X-Cache")).toBe("miss");
    const archived = await api(`/api/v1/patients/${patientId}`, { method: "DELETE", headers });
    expect(archived.status).toBe(204);
    const after = await dashboardOf(headers);
    expect(after.response.headers.get("X-Cache")).toBe("miss");
    expect(after.body.activePatients).toBe(1);
    // The change marked the writer's write where every request of theirs goes (their RateLimiter
    // object), so this holds wherever KV or the outbox's cache clearing lag behind.
    const admission = await durableRateLimiter(env.RATE_LIMITER).admit(`user:${tenant.members.staff.id}`, { name: "probe", limit: 10, windowSeconds: 60 });
    expect(admission.revoked ? undefined : admission.lastWriteMs).toBeGreaterThan(0);
  });
});
