import { and, eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { alerts, domainEvents, reminders, schedules } from "#src/db/schema/index.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { addMember, insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, type Tenant } from "./fixtures.ts";
import { api, problemOf, roundTrips, testDb } from "./helpers.ts";

/** GET /reminders and POST /reminders/{id}/ack: who sees and acknowledges which, and the ack rules. */

let tenant: Tenant;
let patientId: string;
let otherPatientId: string;
let scheduleId: string;
let otherScheduleId: string;
let outsider: Member;
let sequence = 0;

type Status = "pending" | "sent" | "acknowledged" | "missed" | "cancelled";

async function insertSchedule(patient: string): Promise<string> {
  const id = uuidv7();
  await testDb().insert(schedules).values({ id, organizationId: tenant.organizationId, patientId: patient, kind: "medication", title: "Tablets", timesOfDay: ["08:00"], daysOfWeek: [1, 2, 3, 4, 5, 6, 7] });
  return id;
}

/** A reminder of the patient's schedule, due `minutesAgo` before now. */
async function insertReminder(status: Status = "pending", patient = patientId, schedule = scheduleId, dueAt = new Date(Date.now() - 60_000 * ++sequence)): Promise<string> {
  const id = uuidv7();
  await testDb()
    .insert(reminders)
    .values({
      id,
      organizationId: tenant.organizationId,
      patientId: patient,
      scheduleId: schedule,
      kind: "medication",
      occurrenceKey: `schedule:${schedule}:${id}`,
      dueAt,
      missedAfter: new Date(dueAt.getTime() + 3_600_000),
      status,
      response: status === "acknowledged" ? "taken" : null,
    });
  return id;
}

const headersOf = (who: Member | Record<string, string>) => ("headers" in who ? (who.headers as Record<string, string>) : who);
const listAs = (who: Member | Record<string, string>, query = "") => api(`/api/v1/reminders${query}`, { headers: headersOf(who) });
const ackAs = (who: Member | Record<string, string>, id: string, response: unknown = "taken") => api(`/api/v1/reminders/${id}/ack`, jsonBody({ response }, headersOf(who)));

async function idsOf(response: Response): Promise<string[]> {
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as { data: { id: string }[] }).data.map((row) => row.id);
}

async function keyFor(scopes: string[]): Promise<Record<string, string>> {
  const response = await api("/api/v1/api-keys", jsonBody({ name: "app", scopes }, tenant.members.admin.headers));
  expect(response.status).toBe(201);
  return { "X-API-Key": ((await response.json()) as { key: string }).key };
}

beforeAll(async () => {
  tenant = await createTenant("Reminders Practice");
  patientId = await insertCaredPatient(tenant, "Ada Reminder");
  otherPatientId = await insertPatient(tenant, { name: "Not Theirs" });
  scheduleId = await insertSchedule(patientId);
  otherScheduleId = await insertSchedule(otherPatientId);
  outsider = await addMember(tenant, "caregiver");
});

describe(`GET /reminders (${inject("databaseBackend")})`, () => {
  it("narrows to the caller's patients, in one round trip, audited with the patients it returned", async () => {
    const mine = await insertReminder();
    const theirs = await insertReminder("pending", otherPatientId, otherScheduleId);
    const owner = await listAs(tenant.members.owner, "?limit=100");
    expect(roundTrips(owner)).toBe(1);
    const requestId = owner.headers.get("X-Request-ID") ?? "";
    expect(await idsOf(owner)).toEqual(expect.arrayContaining([mine, theirs]));
    for (const member of [tenant.members.clinician, tenant.members.caregiver, tenant.members.patient]) {
      const ids = await idsOf(await listAs(member, "?limit=100"));
      expect(ids).toContain(mine);
      expect(ids).not.toContain(theirs);
    }
    expect(await idsOf(await listAs(outsider))).toEqual([]);
    expect(await idsOf(await listAs(await keyFor(["reminders:read"]), "?limit=100"))).toEqual(expect.arrayContaining([mine, theirs]));
    expect((await listAs(await keyFor(["schedules:read"]))).status).toBe(403);
    expect((await listAs(tenant.members.staff)).status).toBe(403);
    const audit = await testDb().execute<{ action: string; patient_ids: string }>(sql`select action, patient_ids::text from audit_events where request_id = ${requestId}`);
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]?.action).toBe("reminder.listed");
    expect(audit.rows[0]?.patient_ids).toContain(patientId);
    expect(audit.rows[0]?.patient_ids).toContain(otherPatientId);
  });

  it("filters by patientId, status, from and to, newest due first, and pages with a cursor", async () => {
    const base = Date.UTC(2024, 0, 10, 8, 0, 0);
    const patient = await insertPatient(tenant, { careTeam: [{ userId: tenant.members.clinician.id }] });
    const schedule = await insertSchedule(patient);
    const due = (hours: number) => new Date(base + hours * 3_600_000);
    const ids = [
      await insertReminder("acknowledged", patient, schedule, due(0)),
      await insertReminder("missed", patient, schedule, due(1)),
      await insertReminder("pending", patient, schedule, due(2)),
      await insertReminder("pending", patient, schedule, due(3)),
    ];
    const clinician = tenant.members.clinician;
    expect(await idsOf(await listAs(clinician, `?patientId=${patient}`))).toEqual(ids.toReversed());
    expect(await idsOf(await listAs(clinician, `?patientId=${patient}&status=pending`))).toEqual([ids[3], ids[2]]);
    expect(await idsOf(await listAs(clinician, `?patientId=${patient}&from=${due(1).toISOString()}&to=${due(3).toISOString()}`))).toEqual([ids[2], ids[1]]);
    const first = (await (await listAs(clinician, `?patientId=${patient}&limit=3`)).json()) as { data: { id: string }[]; nextCursor: string };
    expect(first.data.map((row) => row.id)).toEqual([ids[3], ids[2], ids[1]]);
    expect(await idsOf(await listAs(clinician, `?patientId=${patient}&limit=3&cursor=${first.nextCursor}`))).toEqual([ids[0]]);
    expect((await listAs(clinician, `?from=${due(2).toISOString()}&to=${due(1).toISOString()}`)).status).toBe(422);
    expect((await listAs(clinician, "?status=late")).status).toBe(422);
    expect((await listAs(clinician, "?patientId=nope")).status).toBe(422);
  });
});

describe(`POST /reminders/{id}/ack (${inject("databaseBackend")})`, () => {
  it("lets the patient acknowledge their own reminder in one round trip, with reminder.acknowledged and an audit row", async () => {
    const id = await insertReminder("sent");
    const response = await ackAs(tenant.members.patient, id, "skipped");
    expect(response.status, await response.clone().text()).toBe(200);
    expect(roundTrips(response)).toBe(1);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id, patientId, scheduleId, status: "acknowledged", response: "skipped", acknowledgedBy: tenant.members.patient.id });
    expect(typeof body.acknowledgedAt).toBe("string");
    const events = await testDb().select().from(domainEvents).where(and(eq(domainEvents.subjectId, id), eq(domainEvents.type, "reminder.acknowledged")));
    expect(events.map((event) => event.payload)).toEqual([{ patientId, response: "skipped" }]);
    const audit = await testDb().execute<{ action: string; outcome: string }>(
      sql`select action, metadata->>'outcome' as outcome from audit_events where request_id = ${response.headers.get("X-Request-ID") ?? ""}`,
    );
    expect(audit.rows).toEqual([{ action: "reminder.acknowledged", outcome: "ok" }]);
  });

  it("answers each caller with the exact status: care team and managers 200, beyond reach 404, no permission 403", async () => {
    const statuses = {
      caregiverOnTeam: (await ackAs(tenant.members.caregiver, await insertReminder())).status,
      clinicianOnTeam: (await ackAs(tenant.members.clinician, await insertReminder())).status,
      owner: (await ackAs(tenant.members.owner, await insertReminder())).status,
      ackKey: (await ackAs(await keyFor(["reminders:ack"]), await insertReminder())).status,
      readKey: (await ackAs(await keyFor(["reminders:read"]), await insertReminder())).status,
      caregiverOffTeam: (await ackAs(outsider, await insertReminder())).status,
      patientOther: (await ackAs(tenant.members.patient, await insertReminder("pending", otherPatientId, otherScheduleId))).status,
      staff: (await ackAs(tenant.members.staff, await insertReminder())).status,
      missing: (await ackAs(tenant.members.owner, uuidv7())).status,
      otherOrganization: (await ackAs((await createTenant("Reminders Foreign")).members.owner, await insertReminder())).status,
    };
    expect(statuses).toEqual({
      caregiverOnTeam: 200,
      clinicianOnTeam: 200,
      owner: 200,
      ackKey: 200,
      readKey: 403,
      caregiverOffTeam: 404,
      patientOther: 404,
      staff: 403,
      missing: 404,
      otherOrganization: 404,
    });
  });

  it("refuses a second acknowledgement and a cancelled reminder with 409, and changes nothing", async () => {
    const acked = await insertReminder("acknowledged");
    const again = await ackAs(tenant.members.patient, acked, "skipped");
    expect(again.status).toBe(409);
    expect((await problemOf(again)).detail).toMatch(/already acknowledged/);
    const cancelled = await insertReminder("cancelled");
    expect((await ackAs(tenant.members.patient, cancelled)).status).toBe(409);
    const rows = await testDb().select().from(reminders).where(eq(reminders.id, acked));
    expect(rows[0]).toMatchObject({ status: "acknowledged", response: "taken" });
    const events = await testDb().select().from(domainEvents).where(eq(domainEvents.subjectId, acked));
    expect(events).toEqual([]);
    const audit = await testDb().execute<{ outcome: string }>(sql`select metadata->>'outcome' as outcome from audit_events where target_id = ${acked}`);
    expect(audit.rows).toEqual([{ outcome: "status_acknowledged" }]);
  });

  it("acknowledges a missed reminder late: it becomes acknowledged and its alert stays open", async () => {
    const id = await insertReminder("missed");
    const alertId = uuidv7();
    await testDb().insert(alerts).values({ id: alertId, organizationId: tenant.organizationId, patientId, type: "missed_medication", severity: "high", reminderId: id });
    const response = await ackAs(tenant.members.caregiver, id);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "acknowledged", response: "taken" });
    const [alert] = await testDb().select().from(alerts).where(eq(alerts.id, alertId));
    expect(alert?.status).toBe("open");
  });

  it("acknowledges once when two acknowledgements race: one 200, one 409", async () => {
    const id = await insertReminder();
    const statuses = (await Promise.all([ackAs(tenant.members.patient, id, "taken"), ackAs(tenant.members.caregiver, id, "skipped")])).map((response) => response.status).sort();
    expect(statuses).toEqual([200, 409]);
    const events = await testDb().select().from(domainEvents).where(eq(domainEvents.subjectId, id));
    expect(events).toHaveLength(1);
  });

  it.each([
    ["an unknown response", { response: "maybe" }, "body.response"],
    ["no response", {}, "body.response"],
    ["an extra field", { response: "taken", note: "x" }, "body.note"],
  ])("refuses %s with a 422", async (_case, payload, path) => {
    const response = await api(`/api/v1/reminders/${await insertReminder()}/ack`, jsonBody(payload, tenant.members.patient.headers));
    expect(response.status).toBe(422);
    expect(((await problemOf(response)).errors as { path: string }[]).map((error) => error.path)).toContain(path);
  });

  it("refuses a malformed id with a 422", async () => {
    expect((await ackAs(tenant.members.patient, "not-a-uuid")).status).toBe(422);
  });
});
