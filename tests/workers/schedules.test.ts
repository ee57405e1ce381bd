import { and, eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { domainEvents, reminders } from "#src/db/schema/index.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { addMember, insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, patch, type Tenant } from "./fixtures.ts";
import { api, problemOf, roundTrips, testDb } from "./helpers.ts";

/** Schedules: who reads and writes them, what a body may hold, If-Match, the soft delete. */

let tenant: Tenant;
let patientId: string;
let otherPatientId: string;
let outsider: Member;
let outsiderCaregiver: Member;

const body = (extra: Record<string, unknown> = {}) => ({ kind: "medication", title: "Metformin", dose: "500 mg", timesOfDay: ["20:00", "08:00"], ...extra });
const create = (member: Member | Record<string, string>, target = patientId, payload: unknown = body()) =>
  api(`/api/v1/patients/${target}/schedules`, jsonBody(payload, "headers" in member ? (member.headers as Record<string, string>) : member));
const list = (member: Member | Record<string, string>, query = "", target = patientId) =>
  api(`/api/v1/patients/${target}/schedules${query}`, { headers: "headers" in member ? (member.headers as Record<string, string>) : member });

async function created(member: Member = tenant.members.owner, payload: unknown = body()) {
  const response = await create(member, patientId, payload);
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { id: string; version: number; dose: string | null; kind: string };
}

async function keyFor(scopes: string[]): Promise<Record<string, string>> {
  const response = await api("/api/v1/api-keys", jsonBody({ name: "care", scopes }, tenant.members.admin.headers));
  expect(response.status).toBe(201);
  return { "X-API-Key": ((await response.json()) as { key: string }).key };
}

beforeAll(async () => {
  tenant = await createTenant("Schedules Practice");
  patientId = await insertCaredPatient(tenant, "Ada Schedule");
  otherPatientId = await insertPatient(tenant, { name: "Someone Else" });
  outsider = await addMember(tenant, "clinician");
  outsiderCaregiver = await addMember(tenant, "caregiver");
});

describe(`schedules (${inject("databaseBackend")})`, () => {
  it("creates a schedule in one round trip: sorted times, defaults, ETag, Location, schedule.created", async () => {
    const response = await create(tenant.members.clinician);
    expect(response.status).toBe(201);
    expect(roundTrips(response)).toBe(1);
    const schedule = (await response.json()) as Record<string, unknown>;
    expect(schedule).toMatchObject({
      patientId,
      kind: "medication",
      title: "Metformin",
      dose: "500 mg",
      instructions: null,
      timesOfDay: ["08:00", "20:00"],
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      active: true,
      startDate: null,
      endDate: null,
      graceMinutes: 60,
      version: 1,
      createdBy: tenant.members.clinician.id,
    });
    expect(response.headers.get("ETag")).toBe('"1"');
    expect(response.headers.get("Location")).toBe(`/api/v1/schedules/${String(schedule.id)}`);
    const events = await testDb().select().from(domainEvents).where(and(eq(domainEvents.subjectId, String(schedule.id)), eq(domainEvents.type, "schedule.created")));
    expect(events.map((event) => event.payload)).toEqual([{ patientId }]);
  });

  it("lets owners, admins, clinicians on the care team and keys with schedules:write create; nobody else", async () => {
    const statuses = {
      owner: (await create(tenant.members.owner)).status,
      admin: (await create(tenant.members.admin)).status,
      clinicianOnTeam: (await create(tenant.members.clinician)).status,
      clinicianOffTeam: (await create(outsider)).status,
      caregiver: (await create(tenant.members.caregiver)).status,
      patient: (await create(tenant.members.patient)).status,
      staff: (await create(tenant.members.staff)).status,
      writeKey: (await create(await keyFor(["schedules:write"]))).status,
      readKey: (await create(await keyFor(["schedules:read"]))).status,
      missingPatient: (await create(tenant.members.owner, uuidv7())).status,
    };
    expect(statuses).toEqual({ owner: 201, admin: 201, clinicianOnTeam: 201, clinicianOffTeam: 404, caregiver: 403, patient: 403, staff: 403, writeKey: 201, readKey: 403, missingPatient: 404 });
  });

  it("lets the care team, the patient themself and managers read; another patient, outsiders and staff not", async () => {
    await created();
    const statuses = {
      owner: (await list(tenant.members.owner)).status,
      clinicianOnTeam: (await list(tenant.members.clinician)).status,
      caregiverOnTeam: (await list(tenant.members.caregiver)).status,
      patientSelf: (await list(tenant.members.patient)).status,
      patientOther: (await list(tenant.members.patient, "", otherPatientId)).status,
      clinicianOffTeam: (await list(outsider)).status,
      caregiverOffTeam: (await list(outsiderCaregiver)).status,
      staff: (await list(tenant.members.staff)).status,
      readKey: (await list(await keyFor(["schedules:read"]))).status,
      otherKey: (await list(await keyFor(["patients:read"]))).status,
    };
    expect(statuses).toEqual({ owner: 200, clinicianOnTeam: 200, caregiverOnTeam: 200, patientSelf: 200, patientOther: 404, clinicianOffTeam: 404, caregiverOffTeam: 404, staff: 403, readKey: 200, otherKey: 403 });
    const foreign = await createTenant("Schedules Foreign Practice");
    expect((await list(foreign.members.owner)).status).toBe(404);
  });

  it("lists in one round trip, filters by active and kind, and pages with a cursor", async () => {
    const own = await insertPatient(tenant, { careTeam: [{ userId: tenant.members.clinician.id }] });
    const make = async (extra: Record<string, unknown>) => {
      const response = await create(tenant.members.clinician, own, { kind: "exercise", title: "Walk", timesOfDay: ["10:00"], ...extra });
      expect(response.status).toBe(201);
      return ((await response.json()) as { id: string }).id;
    };
    const ids = [await make({}), await make({ active: false }), await make({ kind: "check_in" }), await make({ kind: "medication", dose: "1 tablet" })];
    const first = await list(tenant.members.clinician, "?limit=3", own);
    expect(roundTrips(first)).toBe(1);
    const page = (await first.json()) as { data: { id: string }[]; nextCursor: string | null };
    expect(page.data.map((row) => row.id)).toEqual(ids.slice(0, 3));
    const second = (await (await list(tenant.members.clinician, `?limit=3&cursor=${page.nextCursor}`, own)).json()) as typeof page;
    expect(second).toEqual({ data: [expect.objectContaining({ id: ids[3] })], nextCursor: null });
    const ofKind = (await (await list(tenant.members.clinician, "?kind=check_in", own)).json()) as typeof page;
    expect(ofKind.data.map((row) => row.id)).toEqual([ids[2]]);
    const paused = (await (await list(tenant.members.clinician, "?active=false", own)).json()) as typeof page;
    expect(paused.data.map((row) => row.id)).toEqual([ids[1]]);
    expect((await list(tenant.members.clinician, "?cursor=bm90LWEtY3Vyc29y", own)).status).toBe(422);
    expect((await list(tenant.members.clinician, "?active=yes", own)).status).toBe(422);
  });

  it.each([
    ["a dose on a task that is not medication", body({ kind: "exercise" }), "body.dose"],
    ["an end before the start", body({ startDate: "2026-05-02", endDate: "2026-05-01" }), "body.endDate"],
    ["a repeated time", body({ timesOfDay: ["08:00", "08:00"] }), "body.timesOfDay"],
    ["no time at all", body({ timesOfDay: [] }), "body.timesOfDay"],
    ["25 times", body({ timesOfDay: Array.from({ length: 25 }, (_, i) => `${String(i % 24).padStart(2, "0")}:${i < 24 ? "00" : "30"}`) }), "body.timesOfDay"],
    ["a time that is not HH:MM", body({ timesOfDay: ["8:00"] }), "body.timesOfDay.0"],
    ["24:00", body({ timesOfDay: ["24:00"] }), "body.timesOfDay.0"],
    ["a weekday 0", body({ daysOfWeek: [0] }), "body.daysOfWeek.0"],
    ["a repeated weekday", body({ daysOfWeek: [1, 1] }), "body.daysOfWeek"],
    ["a grace of 4 minutes", body({ graceMinutes: 4 }), "body.graceMinutes"],
    ["a grace of 1441 minutes", body({ graceMinutes: 1441 }), "body.graceMinutes"],
    ["an unknown kind", body({ kind: "diet" }), "body.kind"],
    ["an unknown field", body({ colour: "red" }), "body.colour"],
    ["an impossible date", body({ startDate: "2026-02-30" }), "body.startDate"],
  ])("refuses %s with a 422 naming the field", async (_case, payload, path) => {
    const response = await create(tenant.members.owner, patientId, payload);
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect((problem.errors as { path: string }[]).map((error) => error.path)).toContain(path);
  });
});

const change = (id: string, payload: unknown, member: Member = tenant.members.clinician, ifMatch: string | null = '"1"') =>
  api(`/api/v1/schedules/${id}`, patch(payload, { ...member.headers, ...(ifMatch === null ? {} : { "If-Match": ifMatch }) }));
const remove = (id: string, member: Member = tenant.members.clinician) => api(`/api/v1/schedules/${id}`, { method: "DELETE", headers: member.headers });

describe(`changing and deleting schedules (${inject("databaseBackend")})`, () => {
  it("patches at the If-Match version in one round trip: 428 without, 412 when stale", async () => {
    const { id } = await created();
    expect((await change(id, { title: "Metformin XR" }, tenant.members.clinician, null)).status).toBe(428);
    const ok = await change(id, { title: "Metformin XR", daysOfWeek: [5, 1] });
    expect(ok.status).toBe(200);
    expect(roundTrips(ok)).toBe(1);
    expect(ok.headers.get("ETag")).toBe('"2"');
    expect(await ok.json()).toMatchObject({ title: "Metformin XR", daysOfWeek: [1, 5], dose: "500 mg", version: 2 });
    expect((await change(id, { title: "Again" })).status).toBe(412);
    const events = await testDb().select().from(domainEvents).where(and(eq(domainEvents.subjectId, id), eq(domainEvents.type, "schedule.updated")));
    expect(events).toHaveLength(1);
  });

  it("checks a change against the stored row: a dose only on medication, the end on or after the start; leaving medication clears the dose", async () => {
    const { id } = await created(tenant.members.owner, body({ startDate: "2026-06-01" }));
    const early = await change(id, { endDate: "2026-05-01" });
    expect(early.status).toBe(422);
    expect(((await problemOf(early)).errors as { path: string }[])[0]?.path).toBe("body.endDate");
    const exercise = await change(id, { kind: "exercise" });
    expect(exercise.status).toBe(200);
    expect(await exercise.json()).toMatchObject({ kind: "exercise", dose: null, version: 2 });
    const dose = await change(id, { dose: "2 tablets" }, tenant.members.clinician, '"2"');
    expect(dose.status).toBe(422);
    expect(((await problemOf(dose)).errors as { path: string }[])[0]?.path).toBe("body.dose");
    expect((await change(id, {})).status).toBe(422);
  });

  it("lets only writers who reach the schedule change or delete it (404 beyond reach, 403 without the permission)", async () => {
    const { id } = await created();
    const statuses = {
      clinicianOffTeam: (await change(id, { title: "x" }, outsider)).status,
      caregiver: (await change(id, { title: "x" }, tenant.members.caregiver)).status,
      patient: (await change(id, { title: "x" }, tenant.members.patient)).status,
      staff: (await change(id, { title: "x" }, tenant.members.staff)).status,
      missing: (await change(uuidv7(), { title: "x" })).status,
      deleteOffTeam: (await remove(id, outsider)).status,
      deleteCaregiver: (await remove(id, tenant.members.caregiver)).status,
      admin: (await change(id, { title: "By admin" }, tenant.members.admin)).status,
    };
    expect(statuses).toEqual({ clinicianOffTeam: 404, caregiver: 403, patient: 403, staff: 403, missing: 404, deleteOffTeam: 404, deleteCaregiver: 403, admin: 200 });
    const denied = await testDb().execute<{ n: number }>(
      sql`select count(*)::int as n from audit_events where organization_id = ${tenant.organizationId} and action = 'schedule.updated' and target_id = ${id} and metadata->>'outcome' = 'denied'`,
    );
    expect(denied.rows[0]?.n).toBe(1);
  });

  it("deletes softly in one round trip: 204, its open reminders cancelled, acknowledged ones kept, then 404", async () => {
    const { id } = await created();
    const insert = (key: string, status: "pending" | "sent" | "acknowledged") =>
      testDb()
        .insert(reminders)
        .values({
          id: uuidv7(),
          organizationId: tenant.organizationId,
          patientId,
          scheduleId: id,
          kind: "medication",
          occurrenceKey: `schedule:${id}:${key}`,
          dueAt: new Date(),
          status,
          response: status === "acknowledged" ? "taken" : null,
        });
    await insert("2026-01-01T08:00", "pending");
    await insert("2026-01-01T20:00", "sent");
    await insert("2025-12-31T20:00", "acknowledged");
    const response = await remove(id);
    expect(response.status).toBe(204);
    expect(roundTrips(response)).toBe(1);
    const rows = await testDb().select().from(reminders).where(eq(reminders.scheduleId, id));
    expect(rows.map((row) => row.status).sort()).toEqual(["acknowledged", "cancelled", "cancelled"]);
    expect((await remove(id)).status).toBe(404);
    expect((await change(id, { title: "Gone" })).status).toBe(404);
    const listed = (await (await list(tenant.members.owner)).json()) as { data: { id: string }[] };
    expect(listed.data.some((row) => row.id === id)).toBe(false);
    const events = await testDb().select().from(domainEvents).where(and(eq(domainEvents.subjectId, id), eq(domainEvents.type, "schedule.deleted")));
    expect(events.map((event) => event.payload)).toEqual([{ patientId }]);
  });

  it("pausing cancels the open reminders", async () => {
    const { id } = await created();
    await testDb()
      .insert(reminders)
      .values({ id: uuidv7(), organizationId: tenant.organizationId, patientId, scheduleId: id, kind: "medication", occurrenceKey: `schedule:${id}:2026-01-02T08:00`, dueAt: new Date() });
    expect((await change(id, { active: false })).status).toBe(200);
    const rows = await testDb().select().from(reminders).where(eq(reminders.scheduleId, id));
    expect(rows.map((row) => row.status)).toEqual(["cancelled"]);
  });
});
