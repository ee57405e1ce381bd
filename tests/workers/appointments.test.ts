import { and, eq, inArray } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { appointments, auditEvents, domainEvents, workingHours } from "#src/db/schema/index.ts";
import { withinWorkingHours } from "#src/features/clinicians/clinicians.hours.ts";
import { encodeCursor } from "#src/lib/cursor.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { addMember, insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, patch, type Tenant } from "./fixtures.ts";
import { fuzzRequest, mulberry32, type OpenApiDocument, operationsOf, responseDefect } from "./fuzz-engine.ts";
import { api, problemOf, testDb, roundTrips } from "./helpers.ts";

interface Appointment {
  id: string;
  patientId: string;
  clinicianId: string;
  startsAt: string;
  endsAt: string;
  status: string;
  kind: string;
  location: string | null;
  videoUrl: string | null;
  reason: string | null;
  cancelReason: string | null;
  seriesId: string | null;
  outsideHours: boolean;
  version: number;
  confirmedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  local: { startsAt: string; endsAt: string; timezone: string };
  occurrences?: Appointment[];
}

interface Page {
  data: Appointment[];
  nextCursor: string | null;
}

const as = (member: Member) => ({ headers: member.headers });


async function book(member: Member, body: Record<string, unknown>) {
  return api("/api/v1/appointments", jsonBody(body, member.headers));
}

async function booked(member: Member, body: Record<string, unknown>): Promise<Appointment> {
  const response = await book(member, body);
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Appointment;
}

async function post(member: Member, id: string, verb: string, body?: unknown) {
  return api(`/api/v1/appointments/${id}/${verb}`, body === undefined ? { method: "POST", headers: member.headers } : jsonBody(body, member.headers));
}

async function auditFor(requestId: string | null) {
  expect(requestId).toBeTruthy();
  return testDb()
    .select()
    .from(auditEvents)
    .where(eq(auditEvents.requestId, requestId ?? ""));
}

/** A slot on its own day, so no two tests collide: `day` counts from 2027-03-01. */
/** `minutes` after the start of slot(8, 8), as an instant. */
const at = (minutes: number) => new Date(Date.parse(slot(8, 8).startsAt) + minutes * 60_000).toISOString();

const slot = (day: number, hour = 9, minutes = 50) => {
  const start = new Date(Date.UTC(2027, 2, 1 + day, hour, 0));
  return { startsAt: start.toISOString(), endsAt: new Date(start.getTime() + minutes * 60_000).toISOString() };
};

describe("appointments", () => {
  let tenant: Tenant;
  let elsewhere: Tenant;
  let cared: string;
  let berliner: string;
  let stranger: string;
  let clinician2: Member;
  let foreignAppointment: string;
  const m = () => tenant.members;


  beforeAll(async () => {
    [tenant, elsewhere] = await Promise.all([createTenant("Appointments Practice"), createTenant("Elsewhere")]);
    clinician2 = await addMember(tenant, "clinician");
    cared = await insertCaredPatient(tenant, "Cared Patient");
    berliner = await insertPatient(tenant, { timezone: "Europe/Berlin", careTeam: [{ userId: m().clinician.id }] });
    stranger = await insertPatient(tenant, { careTeam: [{ userId: clinician2.id }] });
    const foreignPatient = await insertPatient(elsewhere, {});
    const foreign = await booked(elsewhere.members.owner, { patientId: foreignPatient, clinicianId: elsewhere.members.clinician.id, ...slot(0) });
    foreignAppointment = foreign.id;
  });

  describe("POST /appointments", () => {
    it("books, answering the instants, the patient's local time, an ETag, and writes the event and audit row", async () => {
      const response = await book(m().staff, { patientId: berliner, clinicianId: m().clinician.id, ...slot(1, 9), kind: "telehealth", videoUrl: "https://meet.example.com/a", reason: "Intake" });
      expect(response.status).toBe(201);
      const body = (await response.json()) as Appointment;
      expect(body).toMatchObject({ patientId: berliner, status: "scheduled", kind: "telehealth", videoUrl: "https://meet.example.com/a", outsideHours: false, version: 1 });
      expect(body.startsAt).toBe("2027-03-02T09:00:00.000Z");
      expect(body.local).toEqual({ startsAt: "2027-03-02T10:00:00+01:00", endsAt: "2027-03-02T10:50:00+01:00", timezone: "Europe/Berlin" });
      expect(response.headers.get("ETag")).toBe('"1"');
      expect(response.headers.get("Location")).toBe(`/api/v1/appointments/${body.id}`);
      const events = await testDb().select().from(domainEvents).where(eq(domainEvents.subjectId, body.id));
      expect(events.map((event) => event.type)).toEqual(["appointment.scheduled"]);
      expect(JSON.stringify(events[0]?.payload)).not.toContain("Intake");
      const audit = await auditFor(response.headers.get("X-Request-ID"));
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ action: "appointment.scheduled", targetId: body.id, patientIds: [berliner], actorUserId: m().staff.id });
    });

    it("refuses to book a discharged patient with 422", async () => {
      const discharged = await insertPatient(tenant, { status: "discharged" });
      const response = await book(m().staff, { patientId: discharged, clinicianId: m().clinician.id, ...slot(2, 15) });
      expect(response.status).toBe(422);
      expect(JSON.stringify((await problemOf(response)).errors)).toContain("body.patientId");
    });

    it("refuses invalid bodies with 422 naming the field", async () => {
      const base = { patientId: cared, clinicianId: m().clinician.id, ...slot(2) };
      const cases: [Record<string, unknown>, string][] = [
        [{ ...base, endsAt: base.startsAt }, "body.endsAt"],
        [{ ...base, endsAt: "2027-03-04T09:00:01Z" }, "body.endsAt"],
        [{ ...base, startsAt: "2027-03-03 09:00" }, "body.startsAt"],
        [{ ...base, startsAt: "0001-01-01T00:00:00+01:00", endsAt: "0001-01-01T00:50:00+01:00" }, "body.startsAt"],
        [{ ...base, startsAt: "8999-12-31T23:00:00Z", endsAt: "9000-01-01T00:10:00Z" }, "body.endsAt"],
        [{ ...base, kind: "telehealth", videoUrl: "http://meet.example.com/x" }, "body.videoUrl"],
        [{ ...base, kind: "telehealth", location: "Room 1" }, "body.location"],
        [{ ...base, kind: "house_call" }, "body.kind"],
        [{ ...base, recurrence: { frequency: "weekly", count: 53 } }, "body.recurrence.count"],
        [{ ...base, recurrence: { frequency: "daily", count: 3 } }, "body.recurrence.frequency"],
        [{ ...base, colour: "red" }, "body"],
        [{ ...base, clinicianId: m().staff.id }, "body.clinicianId"],
        [{ ...base, clinicianId: elsewhere.members.clinician.id }, "body.clinicianId"],
      ];
      for (const [body, path] of cases) {
        const response = await book(m().staff, body);
        expect(response.status, JSON.stringify(body)).toBe(422);
        const problem = await problemOf(response);
        expect(JSON.stringify(problem.errors), JSON.stringify(body)).toContain(path);
      }
      const rows = await testDb().select().from(appointments).where(eq(appointments.patientId, cared));
      expect(rows.filter((row) => row.startsAt.toISOString() === base.startsAt)).toHaveLength(0);
    });

    it("answers 404 for a patient of another organization or beyond the caller's reach, and audits it", async () => {
      const foreignPatient = await insertPatient(elsewhere, {});
      const response = await book(m().staff, { patientId: foreignPatient, clinicianId: m().clinician.id, ...slot(3) });
      expect(response.status).toBe(404);
      const unknown = await book(m().staff, { patientId: uuidv7(), clinicianId: m().clinician.id, ...slot(3) });
      expect(unknown.status).toBe(404);
      const beyond = await book(m().clinician, { patientId: stranger, clinicianId: m().clinician.id, ...slot(3) });
      expect(beyond.status).toBe(404);
      const [audit] = await auditFor(beyond.headers.get("X-Request-ID"));
      expect(audit).toMatchObject({ action: "appointment.scheduled", patientIds: [stranger], metadata: { outcome: "denied", appointmentIds: [] } });
    });

    it("lets who may write book: 403 for caregivers and patients, and a clinician only on their own calendar", async () => {
      for (const member of [m().caregiver, m().patient]) {
        const response = await book(member, { patientId: cared, clinicianId: m().clinician.id, ...slot(4) });
        expect(response.status).toBe(403);
        const [audit] = await auditFor(response.headers.get("X-Request-ID"));
        expect(audit?.action).toBe("access.denied");
      }
      const colleague = await book(m().clinician, { patientId: cared, clinicianId: clinician2.id, ...slot(4) });
      expect(colleague.status).toBe(403);
      expect((await auditFor(colleague.headers.get("X-Request-ID")))[0]?.action).toBe("access.denied");
      const own = await book(m().clinician, { patientId: cared, clinicianId: m().clinician.id, ...slot(4) });
      expect(own.status).toBe(201);
      const byAdmin = await book(m().admin, { patientId: stranger, clinicianId: clinician2.id, ...slot(4) });
      expect(byAdmin.status).toBe(201);
    });

    it("refuses a booking that overlaps the clinician's or the patient's live appointment, naming it", async () => {
      const first = await booked(m().staff, { patientId: cared, clinicianId: m().clinician.id, ...slot(5, 9) });
      const clinicianClash = await book(m().staff, { patientId: stranger, clinicianId: m().clinician.id, ...slot(5, 9, 20) });
      expect(clinicianClash.status).toBe(409);
      expect((await problemOf(clinicianClash)).conflicts).toEqual([{ startsAt: first.startsAt, with: "clinician", appointmentId: first.id }]);
      const [refusal] = await auditFor(clinicianClash.headers.get("X-Request-ID"));
      expect(refusal).toMatchObject({ action: "appointment.scheduled", patientIds: [stranger], metadata: { outcome: "conflict", appointmentIds: [] } });
      const patientClash = await book(m().staff, { patientId: cared, clinicianId: clinician2.id, ...slot(5, 9, 30) });
      expect((await problemOf(patientClash)).conflicts).toEqual([{ startsAt: first.startsAt, with: "patient", appointmentId: first.id }]);
      // Back to back is fine: ranges are half-open.
      const next = await book(m().staff, { patientId: cared, clinicianId: m().clinician.id, startsAt: first.endsAt, endsAt: slot(5, 10).endsAt });
      expect(next.status).toBe(201);
      // A clinician who may not see the appointment in the way learns only that the slot is taken.
      const hidden = await book(clinician2, { patientId: stranger, clinicianId: clinician2.id, ...slot(5, 9) });
      expect(hidden.status).toBe(201);
      const blind = await book(m().staff, { patientId: stranger, clinicianId: clinician2.id, ...slot(5, 9) });
      expect(blind.status).toBe(409);
      const unseen = await book(clinician2, { patientId: stranger, clinicianId: clinician2.id, ...slot(5, 9, 20) });
      expect(unseen.status).toBe(409);
      const cancelled = await post(m().staff, first.id, "cancel", { reason: "Moved" });
      expect(cancelled.status).toBe(200);
      const freed = await book(m().staff, { patientId: berliner, clinicianId: m().clinician.id, ...slot(5, 9) });
      expect(freed.status).toBe(201);
    });

    it("replays a retried booking sent with the same Idempotency-Key instead of booking twice", async () => {
      const body = { patientId: berliner, clinicianId: clinician2.id, ...slot(6, 15) };
      const headers = { ...m().staff.headers, "Idempotency-Key": crypto.randomUUID() };
      const first = await api("/api/v1/appointments", jsonBody(body, headers));
      const retry = await api("/api/v1/appointments", jsonBody(body, headers));
      expect([first.status, retry.status]).toEqual([201, 201]);
      expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
      expect(((await retry.json()) as Appointment).id).toBe(((await first.json()) as Appointment).id);
      const rows = await testDb().select().from(appointments).where(and(eq(appointments.patientId, berliner), eq(appointments.startsAt, new Date(body.startsAt))));
      expect(rows).toHaveLength(1);
    });
  });

  describe("weekly series", () => {
    it("books every occurrence with one event each, or nothing when one clashes, listing the clash", async () => {
      const blocker = await booked(m().staff, { patientId: stranger, clinicianId: clinician2.id, ...slot(6 + 7 * 4, 11) });
      const series = { patientId: cared, clinicianId: clinician2.id, ...slot(6, 11), recurrence: { frequency: "weekly", count: 10 } };
      const refused = await book(m().admin, series);
      expect(refused.status).toBe(409);
      const problem = await problemOf(refused);
      expect(problem.conflicts).toEqual([{ startsAt: blocker.startsAt, with: "clinician", appointmentId: blocker.id }]);
      const rows = await testDb().select().from(appointments).where(and(eq(appointments.patientId, cared), eq(appointments.clinicianId, clinician2.id)));
      expect(rows).toHaveLength(0);
      expect((await post(m().admin, blocker.id, "cancel", { reason: "Make room" })).status).toBe(200);
      const response = await book(m().admin, series);
      expect(response.status).toBe(201);
      const body = (await response.json()) as Appointment;
      expect(body.occurrences).toHaveLength(10);
      expect(body.seriesId).toBeTruthy();
      expect(body.occurrences?.map((occurrence) => occurrence.startsAt.slice(11))).toEqual(Array(10).fill("11:00:00.000Z"));
      const ids = body.occurrences?.map((occurrence) => occurrence.id) ?? [];
      const events = await testDb().select().from(domainEvents).where(inArray(domainEvents.subjectId, ids));
      expect(events).toHaveLength(10);
      expect(new Set(events.map((event) => event.type))).toEqual(new Set(["appointment.scheduled"]));
      const audit = await auditFor(response.headers.get("X-Request-ID"));
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ targetType: "appointment_series", targetId: body.seriesId, patientIds: [cared] });
    });

    it("keeps the wall-clock time in the patient's timezone across a DST change", async () => {
      // Berlin leaves summer time on 2027-10-31: 10:00 local is 08:00Z before, 09:00Z after.
      const response = await book(m().staff, {
        patientId: berliner,
        clinicianId: m().clinician.id,
        startsAt: "2027-10-21T10:00:00+02:00",
        endsAt: "2027-10-21T10:45:00+02:00",
        recurrence: { frequency: "weekly", count: 3 },
      });
      expect(response.status).toBe(201);
      const body = (await response.json()) as Appointment;
      expect(body.occurrences?.map((occurrence) => occurrence.startsAt)).toEqual(["2027-10-21T08:00:00.000Z", "2027-10-28T08:00:00.000Z", "2027-11-04T09:00:00.000Z"]);
      expect(body.occurrences?.map((occurrence) => occurrence.local.startsAt)).toEqual(["2027-10-21T10:00:00+02:00", "2027-10-28T10:00:00+02:00", "2027-11-04T10:00:00+01:00"]);
      expect(body.occurrences?.map((occurrence) => occurrence.local.endsAt.slice(11, 16))).toEqual(["10:45", "10:45", "10:45"]);
    });
  });

  describe("working hours", () => {
    let hoursClinician: Member;
    let hoursPatient: string;
    beforeAll(async () => {
      hoursClinician = await addMember(tenant, "clinician");
      hoursPatient = await insertPatient(tenant, { careTeam: [{ userId: hoursClinician.id }] });
      const weekdays = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: "09:00", end: "17:00" }));
      await testDb()
        .insert(workingHours)
        .values({ organizationId: tenant.organizationId, userId: hoursClinician.id, timezone: "Europe/Berlin", intervals: [...weekdays, { weekday: 6, start: "22:00", end: "24:00" }, { weekday: 7, start: "00:00", end: "02:00" }] });
    });
    // 2027-06-07 is a Monday; Berlin is at +02:00.
    const body = (startsAt: string, endsAt: string, extra: Record<string, unknown> = {}) => ({ patientId: hoursPatient, clinicianId: hoursClinician.id, startsAt, endsAt, ...extra });

    it("books inside the hours, across a night shift's midnight too", async () => {
      const inside = await booked(m().staff, body("2027-06-07T09:00:00+02:00", "2027-06-07T17:00:00+02:00"));
      expect(inside.outsideHours).toBe(false);
      const night = await booked(m().staff, body("2027-06-12T23:30:00+02:00", "2027-06-13T00:30:00+02:00"));
      expect(night.outsideHours).toBe(false);
    });

    it("refuses outside them with 422, unless an owner or admin overrides (outside_hours set)", async () => {
      const late = body("2027-06-08T16:30:00+02:00", "2027-06-08T17:30:00+02:00");
      const refused = await book(m().staff, late);
      expect(refused.status).toBe(422);
      const problem = await problemOf(refused);
      expect(JSON.stringify(problem.errors)).toContain("body.startsAt");
      expect(problem.outsideHours).toEqual(["2027-06-08T14:30:00.000Z"]);
      const staffOverride = await book(m().staff, { ...late, overrideWorkingHours: true });
      expect(staffOverride.status).toBe(422);
      expect(String((await problemOf(staffOverride)).detail)).toContain("only an owner or admin");
      const admin = await booked(m().admin, { ...late, overrideWorkingHours: true });
      expect(admin.outsideHours).toBe(true);
      const sunday = await book(m().owner, body("2027-06-13T10:00:00+02:00", "2027-06-13T11:00:00+02:00"));
      expect(sunday.status).toBe(422);
      expect((await problemOf(sunday)).detail).toContain("overrideWorkingHours");
    });

    it("decides as withinWorkingHours (availability's rule) does, DST changes and merged intervals included", async () => {
      const shifts = [
        { weekday: 1, start: "09:00", end: "12:00" },
        { weekday: 1, start: "12:00", end: "17:00" },
        { weekday: 7, start: "01:00", end: "04:00" },
        { weekday: 3, start: "02:30", end: "05:00" },
      ];
      const clinician = await addMember(tenant, "clinician");
      const patientId = await insertPatient(tenant, { careTeam: [{ userId: clinician.id }] });
      await testDb().insert(workingHours).values({ organizationId: tenant.organizationId, userId: clinician.id, timezone: "Europe/Berlin", intervals: shifts });
      const cases: [string, string][] = [
        ["2027-03-22T11:30:00+01:00", "2027-03-22T12:30:00+01:00"], // across two touching intervals
        ["2027-03-22T08:30:00+01:00", "2027-03-22T09:30:00+01:00"],
        ["2027-03-22T16:30:00+01:00", "2027-03-22T17:00:00+01:00"],
        ["2027-03-22T16:30:00+01:00", "2027-03-22T17:01:00+01:00"],
        ["2027-03-28T01:00:00+01:00", "2027-03-28T04:00:00+02:00"], // Sunday of the spring change: 01:00–04:00 lasts two hours
        ["2027-03-28T00:30:00Z", "2027-03-28T01:30:00Z"],
        ["2027-03-28T01:30:00Z", "2027-03-28T02:30:00Z"],
        ["2027-10-31T01:00:00+02:00", "2027-10-31T04:00:00+01:00"], // Sunday of the autumn change: four hours
        ["2027-10-31T02:30:00Z", "2027-10-31T03:00:00Z"],
        ["2027-10-31T03:00:00Z", "2027-10-31T03:30:00Z"],
        ["2027-03-24T02:30:00+01:00", "2027-03-24T05:00:00+01:00"],
        ["2027-03-24T02:00:00+01:00", "2027-03-24T03:00:00+01:00"],
      ];
      for (const [startsAt, endsAt] of cases) {
        const expected = withinWorkingHours(shifts, "Europe/Berlin", new Date(startsAt), new Date(endsAt));
        const response = await book(m().staff, { patientId, clinicianId: clinician.id, startsAt, endsAt });
        expect(response.status, `${startsAt}–${endsAt}`).toBe(expected ? 201 : 422);
        if (response.status === 201) expect((await post(m().staff, ((await response.json()) as Appointment).id, "cancel", { reason: "probe" })).status).toBe(200);
      }
    });

    it("holds a reschedule to the hours as well", async () => {
      const appointment = await booked(m().staff, body("2027-06-09T10:00:00+02:00", "2027-06-09T11:00:00+02:00"));
      const moved = await api(`/api/v1/appointments/${appointment.id}`, patch({ startsAt: "2027-06-09T20:00:00+02:00" }, m().staff.headers));
      expect(moved.status).toBe(422);
      const overridden = await api(`/api/v1/appointments/${appointment.id}`, patch({ startsAt: "2027-06-09T20:00:00+02:00", overrideWorkingHours: true }, m().admin.headers));
      expect(overridden.status).toBe(200);
      expect(((await overridden.json()) as Appointment).outsideHours).toBe(true);
      const reason = await api(`/api/v1/appointments/${appointment.id}`, patch({ reason: "Evening slot agreed" }, m().staff.headers));
      expect(reason.status).toBe(200);
    });
  });

  const issue = async (scopes: string[]) => {
    const response = await api("/api/v1/api-keys", jsonBody({ name: "sync", scopes }, m().admin.headers));
    return ((await response.json()) as { key: string }).key;
  };

  describe("GET /appointments/{id} and who sees what", () => {
    let caredAppointment: Appointment;
    let strangerAppointment: Appointment;
    let ownWithStranger: Appointment;
    beforeAll(async () => {
      caredAppointment = await booked(m().staff, { patientId: cared, clinicianId: clinician2.id, ...slot(7, 9) });
      strangerAppointment = await booked(m().staff, { patientId: stranger, clinicianId: clinician2.id, ...slot(7, 11) });
      // The clinician's own session with a patient not on their care team.
      ownWithStranger = await booked(m().staff, { patientId: stranger, clinicianId: m().clinician.id, ...slot(7, 13) });
    });

    it("answers each role and relationship as the rules say, 404 beyond the reach", async () => {
      const lonePatient = await addMember(tenant, "patient");
      const loneCaregiver = await addMember(tenant, "caregiver");
      const expectations: [Member, Appointment, number][] = [
        [m().owner, strangerAppointment, 200],
        [m().admin, strangerAppointment, 200],
        [m().staff, strangerAppointment, 200],
        [m().clinician, caredAppointment, 200],
        [m().clinician, ownWithStranger, 200],
        [m().clinician, strangerAppointment, 404],
        [clinician2, caredAppointment, 200],
        [m().caregiver, caredAppointment, 200],
        [m().caregiver, strangerAppointment, 404],
        [loneCaregiver, caredAppointment, 404],
        [m().patient, caredAppointment, 200],
        [m().patient, strangerAppointment, 404],
        [lonePatient, caredAppointment, 404],
      ];
      for (const [member, appointment, status] of expectations) {
        const response = await api(`/api/v1/appointments/${appointment.id}`, as(member));
        expect(response.status, `${member.role} ${member.id} → ${appointment.patientId}`).toBe(status);
        const [audit] = await auditFor(response.headers.get("X-Request-ID"));
        expect(audit).toMatchObject({ action: "appointment.read", targetId: appointment.id, patientIds: [appointment.patientId] });
        if (status === 404) expect(audit?.metadata).toEqual({ outcome: "denied" });
        else expect(response.headers.get("ETag")).toBe(`"${appointment.version}"`);
      }
    });

    it("answers 404 for another organization's appointment and a missing one, 422 for a bad id", async () => {
      const foreign = await api(`/api/v1/appointments/${foreignAppointment}`, as(m().owner));
      expect(foreign.status).toBe(404);
      const [audit] = await auditFor(foreign.headers.get("X-Request-ID"));
      expect(audit).toMatchObject({ organizationId: tenant.organizationId, patientIds: [], metadata: { outcome: "not_found" } });
      expect((await api(`/api/v1/appointments/${uuidv7()}`, as(m().owner))).status).toBe(404);
      expect((await api("/api/v1/appointments/not-an-id", as(m().owner))).status).toBe(422);
    });

    it("lets API keys read by scope", async () => {
      const reader = await issue(["appointments:read"]);
      const patientsOnly = await issue(["patients:read"]);
      expect((await api(`/api/v1/appointments/${strangerAppointment.id}`, { headers: { "X-API-Key": reader } })).status).toBe(200);
      const refused = await api(`/api/v1/appointments/${strangerAppointment.id}`, { headers: { "X-API-Key": patientsOnly } });
      expect(refused.status).toBe(403);
      expect((await auditFor(refused.headers.get("X-Request-ID")))[0]?.action).toBe("access.denied");
    });
  });

  describe("GET /appointments", () => {
    let listed: Appointment[];
    beforeAll(async () => {
      listed = [];
      for (const hour of [8, 10, 12]) listed.push(await booked(m().staff, { patientId: cared, clinicianId: m().clinician.id, ...slot(8, hour) }));
      listed.push(await booked(m().staff, { patientId: stranger, clinicianId: clinician2.id, ...slot(8, 8) }));
    });
    const day = slot(8, 0, 24 * 60);
    const query = (params: Record<string, string>) => `/api/v1/appointments?${new URLSearchParams({ from: day.startsAt, to: day.endsAt, ...params })}`;

    it("pages by keyset in time order and audits each page with the patients it showed", async () => {
      const first = await api(query({ limit: "2" }), as(m().staff));
      expect(first.status).toBe(200);
      const page = (await first.json()) as Page;
      expect(page.data.map((row) => row.startsAt)).toEqual([slot(8, 8).startsAt, slot(8, 8).startsAt]);
      expect(page.nextCursor).toBeTruthy();
      const [audit] = await auditFor(first.headers.get("X-Request-ID"));
      expect(audit?.action).toBe("appointment.listed");
      expect([...(audit?.patientIds ?? [])].sort()).toEqual([cared, stranger].sort());
      const second = (await (await api(query({ limit: "2", cursor: page.nextCursor ?? "" }), as(m().staff))).json()) as Page;
      expect(second.data.map((row) => row.startsAt)).toEqual([slot(8, 10).startsAt, slot(8, 12).startsAt]);
      expect(second.nextCursor).toBeNull();
      const ids = [...page.data, ...second.data].map((row) => row.id);
      expect(new Set(ids)).toEqual(new Set(listed.map((row) => row.id)));
    });

    const ids = async (member: Member, params: Record<string, string> = {}) => {
      const response = await api(query(params), as(member));
      expect(response.status).toBe(200);
      return ((await response.json()) as Page).data.map((row) => row.id).sort();
    };

    it("filters by clinician, patient and status, and narrows to the caller's reach", async () => {
      const caredIds = listed.slice(0, 3).map((row) => row.id).sort();
      expect(await ids(m().staff, { clinicianId: m().clinician.id })).toEqual(caredIds);
      expect(await ids(m().staff, { patientId: stranger })).toEqual([listed[3]?.id]);
      // from/to select the sessions that overlap the window: one under way at `from` is in it.
      expect(await ids(m().staff, { from: at(30) })).toEqual(listed.map((row) => row.id).sort());
      expect(await ids(m().staff, { from: at(50) })).toEqual(listed.slice(1, 3).map((row) => row.id).sort());
      expect(await ids(m().staff, { from: day.startsAt, to: at(0) })).toEqual([]);
      expect(await ids(m().caregiver)).toEqual(caredIds);
      expect(await ids(m().patient)).toEqual(caredIds);
      expect(await ids(clinician2)).toEqual([listed[3]?.id]);
      expect(await ids(m().clinician, { patientId: stranger })).toEqual([]);
      expect(await ids(elsewhere.members.owner)).toEqual([]);
      expect((await post(m().staff, listed[0]?.id ?? "", "confirm")).status).toBe(200);
      expect(await ids(m().staff, { status: "confirmed" })).toEqual([listed[0]?.id]);
    });

    it("refuses a tampered cursor, a backwards range and a bad filter with 422; 403 without appointments:read", async () => {
      const cases: Record<string, string>[] = [{ cursor: "eyJzIjoxfQ" }, { cursor: "!!" }, { from: day.endsAt, to: day.startsAt }, { status: "pending" }, { limit: "101" }];
      for (const params of cases) {
        const response = await api(`/api/v1/appointments?${new URLSearchParams(params)}`, as(m().staff));
        expect(response.status, JSON.stringify(params)).toBe(422);
      }
      const forged = [{ s: "2026-02-31T00:00:00Z", i: uuidv7() }, { s: "2026-01-01T00:00:00Z", i: "x" }, { s: 5, i: uuidv7() }, []];
      for (const position of forged) {
        const response = await api(`/api/v1/appointments?cursor=${encodeCursor(position)}`, as(m().staff));
        expect(response.status, JSON.stringify(position)).toBe(422);
      }
      const ancient = await api(`/api/v1/appointments?cursor=${encodeCursor({ s: "0001-01-01T00:00:00Z", i: uuidv7() })}&limit=1`, as(m().staff));
      expect(ancient.status).toBe(200);
      const keyResponse = await api("/api/v1/api-keys", jsonBody({ name: "no", scopes: ["patients:read"] }, m().admin.headers));
      const key = ((await keyResponse.json()) as { key: string }).key;
      expect((await api("/api/v1/appointments", { headers: { "X-API-Key": key } })).status).toBe(403);
    });
  });

  describe("PATCH /appointments/{id}", () => {
    it("reschedules keeping the duration, bumps the ETag, honours If-Match, and sends a confirmed one back to scheduled", async () => {
      const appointment = await booked(m().staff, { patientId: cared, clinicianId: m().clinician.id, ...slot(9, 9, 45), location: "Room 2" });
      expect((await post(m().staff, appointment.id, "confirm")).status).toBe(200);
      const stale = await api(`/api/v1/appointments/${appointment.id}`, patch({ reason: "x" }, { ...m().staff.headers, "If-Match": '"1"' }));
      expect(stale.status).toBe(412);
      const response = await api(`/api/v1/appointments/${appointment.id}`, patch({ startsAt: slot(9, 14).startsAt }, { ...m().staff.headers, "If-Match": '"2"' }));
      expect(response.status).toBe(200);
      const moved = (await response.json()) as Appointment;
      expect(moved).toMatchObject({ startsAt: slot(9, 14).startsAt, endsAt: slot(9, 14, 45).endsAt, status: "scheduled", confirmedAt: null, version: 3, location: "Room 2" });
      expect(response.headers.get("ETag")).toBe('"3"');
      const events = await testDb().select().from(domainEvents).where(eq(domainEvents.subjectId, appointment.id));
      expect(events.map((event) => event.type).sort()).toEqual(["appointment.scheduled", "appointment.updated", "appointment.updated"]);
      const [audit] = await auditFor(response.headers.get("X-Request-ID"));
      expect(audit).toMatchObject({ action: "appointment.updated", patientIds: [cared], metadata: { changes: ["startsAt"] } });
      const telehealth = await api(`/api/v1/appointments/${appointment.id}`, patch({ kind: "telehealth", videoUrl: "https://meet.example.com/b" }, m().staff.headers));
      expect(await telehealth.json()).toMatchObject({ kind: "telehealth", location: null, videoUrl: "https://meet.example.com/b" });
    });

    it("refuses a reschedule into a taken slot with 409 naming the appointment", async () => {
      const taken = await booked(m().staff, { patientId: berliner, clinicianId: m().clinician.id, ...slot(10, 9) });
      const mine = await booked(m().staff, { patientId: cared, clinicianId: m().clinician.id, ...slot(10, 11) });
      const response = await api(`/api/v1/appointments/${mine.id}`, patch(slot(10, 9, 30), m().staff.headers));
      expect(response.status).toBe(409);
      expect((await problemOf(response)).conflicts).toEqual([{ startsAt: taken.startsAt, with: "clinician", appointmentId: taken.id }]);
      const unchanged = (await (await api(`/api/v1/appointments/${mine.id}`, as(m().staff))).json()) as Appointment;
      expect(unchanged.startsAt).toBe(mine.startsAt);
      const patientsOther = await booked(m().staff, { patientId: berliner, clinicianId: clinician2.id, ...slot(10, 13) });
      const clash = await api(`/api/v1/appointments/${patientsOther.id}`, patch(slot(10, 9), m().staff.headers));
      expect(clash.status).toBe(409);
      expect((await problemOf(clash)).conflicts).toEqual([{ startsAt: taken.startsAt, with: "patient", appointmentId: taken.id }]);
    });

    it("answers 422, 404, 403 and 409 as it should", async () => {
      const appointment = await booked(m().staff, { patientId: cared, clinicianId: m().clinician.id, ...slot(11, 9) });
      const url = `/api/v1/appointments/${appointment.id}`;
      for (const [body, path] of [
        [{}, "body"],
        [{ endsAt: slot(11, 8).startsAt }, "body.endsAt"],
        [{ videoUrl: "https://meet.example.com/c" }, "body.videoUrl"],
        [{ clinicianId: m().caregiver.id }, "body.clinicianId"],
        [{ status: "completed" }, "body"],
      ] as [Record<string, unknown>, string][]) {
        const response = await api(url, patch(body, m().staff.headers));
        expect(response.status, JSON.stringify(body)).toBe(422);
        expect(JSON.stringify((await problemOf(response)).errors)).toContain(path);
      }
      expect((await api(`/api/v1/appointments/${foreignAppointment}`, patch({ reason: "x" }, m().owner.headers))).status).toBe(404);
      expect((await api(url, patch({ reason: "x" }, clinician2.headers))).status).toBe(404);
      expect((await api(url, patch({ reason: "x" }, m().clinician.headers))).status).toBe(200);
      expect((await api(url, patch({ reason: "x" }, m().caregiver.headers))).status).toBe(403);
      expect((await api(url, patch({ clinicianId: clinician2.id }, m().clinician.headers))).status).toBe(403);
      expect((await post(m().staff, appointment.id, "cancel", { reason: "Ill" })).status).toBe(200);
      const closed = await api(url, patch({ reason: "x" }, m().staff.headers));
      expect(closed.status).toBe(409);
      expect((await problemOf(closed)).currentStatus).toBe("cancelled");
    });
  });

  describe("status machine", () => {
    const VERBS = ["confirm", "complete", "no-show", "cancel"] as const;
    const LEGAL: Record<string, Record<string, string>> = {
      scheduled: { confirm: "confirmed", cancel: "cancelled" },
      confirmed: { complete: "completed", "no-show": "no_show", cancel: "cancelled" },
      completed: {},
      cancelled: {},
      no_show: {},
    };
    const path: Record<string, string[]> = { scheduled: [], confirmed: ["confirm"], completed: ["confirm", "complete"], cancelled: ["cancel"], no_show: ["confirm", "no-show"] };
    let day = 12;

    async function inStatus(status: string): Promise<Appointment> {
      const appointment = await booked(m().staff, { patientId: berliner, clinicianId: m().clinician.id, ...slot(day++, 9) });
      for (const verb of path[status] ?? []) expect((await post(m().staff, appointment.id, verb, verb === "cancel" ? { reason: "r" } : undefined)).status).toBe(200);
      return appointment;
    }

    it("allows exactly the legal transitions and answers every other with 409 naming the status", async () => {
      for (const from of Object.keys(LEGAL)) {
        for (const verb of VERBS) {
          const appointment = await inStatus(from);
          const response = await post(m().staff, appointment.id, verb, verb === "cancel" ? { reason: "Changed plans" } : undefined);
          const to = LEGAL[from]?.[verb];
          if (to) {
            expect(response.status, `${from} ${verb}`).toBe(200);
            expect(((await response.json()) as Appointment).status).toBe(to);
          } else {
            expect(response.status, `${from} ${verb}`).toBe(409);
            const problem = await problemOf(response);
            expect(problem.currentStatus).toBe(from);
            expect(problem.detail).toContain(from.replace("_", "-"));
            const [audit] = await auditFor(response.headers.get("X-Request-ID"));
            expect(audit?.metadata).toEqual({ outcome: `status_${from}` });
          }
        }
      }
    });

    it("stamps the times, keeps the cancel reason, and writes the events", async () => {
      const appointment = await inStatus("scheduled");
      const confirmed = (await (await post(m().staff, appointment.id, "confirm")).json()) as Appointment;
      expect(confirmed.confirmedAt).toBeTruthy();
      const completed = (await (await post(m().staff, appointment.id, "complete")).json()) as Appointment;
      expect(completed).toMatchObject({ status: "completed", version: 3 });
      expect(completed.completedAt).toBeTruthy();
      const second = await inStatus("scheduled");
      const cancelled = (await (await post(m().staff, second.id, "cancel", { reason: "Patient asked" })).json()) as Appointment;
      expect(cancelled).toMatchObject({ status: "cancelled", cancelReason: "Patient asked" });
      expect(cancelled.cancelledAt).toBeTruthy();
      const events = await testDb().select().from(domainEvents).where(inArray(domainEvents.subjectId, [appointment.id, second.id]));
      expect(events.map((event) => `${event.subjectId === second.id ? "b" : "a"}:${event.type}`).sort()).toEqual(
        ["a:appointment.scheduled", "a:appointment.updated", "a:appointment.updated", "b:appointment.scheduled", "b:appointment.cancelled"].sort(),
      );
    });

    it("answers 404, 403 and 422 on the status routes", async () => {
      const appointment = await inStatus("scheduled");
      for (const verb of VERBS) {
        const body = verb === "cancel" ? { reason: "r" } : undefined;
        expect((await post(m().owner, foreignAppointment, verb, body)).status).toBe(404);
        expect((await post(m().owner, uuidv7(), verb, body)).status).toBe(404);
        expect((await post(m().patient, appointment.id, verb, body)).status).toBe(403);
        expect((await post(m().staff, "nope", verb, body)).status).toBe(422);
      }
      expect((await post(m().staff, appointment.id, "cancel", {})).status).toBe(422);
      expect((await post(m().staff, appointment.id, "cancel", { reason: "" })).status).toBe(422);
      const hidden = await post(clinician2, appointment.id, "confirm");
      expect(hidden.status).toBe(404);
      expect((await auditFor(hidden.headers.get("X-Request-ID")))[0]?.metadata).toEqual({ outcome: "denied" });
    });
  });

  it("costs one SQL round trip per request, audit row and outbox rows included", async () => {
    const series = await book(m().staff, { patientId: stranger, clinicianId: clinician2.id, ...slot(40, 9), recurrence: { frequency: "weekly", count: 4 } });
    const created = (await series.json()) as Appointment;
    const url = `/api/v1/appointments/${created.id}`;
    const responses = [
      series,
      await book(m().staff, { patientId: stranger, clinicianId: clinician2.id, ...slot(40, 9) }),
      await api(url, as(m().staff)),
      await api(`/api/v1/appointments?patientId=${stranger}`, as(m().staff)),
      await api(url, patch({ startsAt: slot(40, 10).startsAt }, { ...m().staff.headers, "If-Match": '"1"' })),
      await post(m().staff, created.id, "confirm"),
      await post(m().staff, created.id, "complete"),
      await post(m().staff, created.id, "cancel", { reason: "Too late" }),
      await api(url, as(m().caregiver)),
    ];
    expect(responses.map((response) => response.status)).toEqual([201, 409, 200, 200, 200, 200, 200, 409, 404]);
    expect(responses.map(roundTrips)).toEqual(responses.map(() => 1));
  });

  it("answers 300 malformed requests to its routes without a 5xx, every 4xx a problem", async () => {
    const seed = (Math.random() * 2 ** 32) >>> 0;
    const rng = mulberry32(seed);
    const document = (await (await api("/api/v1/openapi.json")).json()) as OpenApiDocument;
    const operations = operationsOf(document).filter((operation) => operation.path.startsWith("/api/v1/appointments"));
    expect(operations).toHaveLength(8);
    const members = [m().owner, m().staff, m().clinician, m().caregiver, m().patient];
    const context = { organizationId: tenant.organizationId, memberIds: members.map((member) => member.id), tokens: members.map((member) => member.token), apiKey: undefined, apiKeyId: undefined, password: "" };
    const defects: string[] = [];
    for (let index = 0; index < 300; index++) {
      const operation = operations[Math.floor(rng() * operations.length)];
      if (!operation) continue;
      const request = fuzzRequest(index, operation, context, rng);
      const response = await api(request.path, { method: request.method, headers: request.headers, body: request.body });
      const defect = responseDefect(response.status, response.headers.get("Content-Type"), await response.text(), request.method);
      if (defect) defects.push(`${request.method} ${request.path} (${request.mutation}): ${defect}`);
    }
    expect(defects, `seed ${seed}`).toEqual([]);
  });
});
