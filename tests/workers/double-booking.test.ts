import { and, eq, gte, inArray, lt } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { appointments, domainEvents } from "#src/db/schema/index.ts";
import { addMember, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, patch, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

/**
 * No double-booking, however many click at once: 50 overlapping bookings sent together leave
 * exactly one live appointment, for one clinician and for one patient; the rest are 409s. On
 * PGlite the statements run one after another, so each loser's pre-check names the winner; on
 * PostgreSQL they really race, and the exclusion constraints refuse what the pre-checks could
 * not yet see (the service re-asks once, then answers 409).
 */
const CONCURRENT = 50;

const live = <T extends { status: string }>(rows: T[]): T[] => rows.filter((row) => row.status === "scheduled" || row.status === "confirmed");

async function expectOneWinner(responses: Response[]) {
  const statuses = responses.map((response) => response.status);
  expect(statuses.filter((status) => status === 201)).toHaveLength(1);
  expect(statuses.filter((status) => status === 409)).toHaveLength(CONCURRENT - 1);
  const winner = responses.find((response) => response.status === 201);
  if (!winner) throw new Error("no booking won");
  const { id } = (await winner.json()) as { id: string };
  for (const response of responses.filter((candidate) => candidate.status === 409)) {
    const problem = await problemOf(response);
    const conflicts = problem.conflicts as { appointmentId?: string }[];
    // Named when the pre-check saw the winner; a race lost to the constraint may name none.
    for (const conflict of conflicts) expect(conflict.appointmentId).toBe(id);
  }
  return id;
}

describe(`concurrent overlapping bookings (${inject("databaseBackend")})`, () => {
  let tenant: Tenant;
  let clinicians: Member[];
  let patients: string[];

  beforeAll(async () => {
    tenant = await createTenant("Busy Practice");
    clinicians = [];
    for (let i = 0; i < CONCURRENT; i++) clinicians.push(await addMember(tenant, "clinician"));
    patients = [];
    for (let i = 0; i < CONCURRENT; i++) patients.push(await insertPatient(tenant, {}));
  });

  it("books one clinician once when 50 patients ask for overlapping times at once", async () => {
    const clinicianId = clinicians[0]?.id ?? "";
    const responses = await Promise.all(
      patients.map((patientId, i) => {
        const start = Date.UTC(2027, 8, 6, 9, i % 30);
        const body = { patientId, clinicianId, startsAt: new Date(start).toISOString(), endsAt: new Date(start + 45 * 60_000).toISOString() };
        return api("/api/v1/appointments", jsonBody(body, tenant.members.staff.headers));
      }),
    );
    const id = await expectOneWinner(responses);
    const rows = await testDb().select().from(appointments).where(eq(appointments.clinicianId, clinicianId));
    expect(live(rows).map((row) => row.id)).toEqual([id]);
    const events = await testDb().select().from(domainEvents).where(inArray(domainEvents.subjectId, rows.map((row) => row.id)));
    expect(events).toHaveLength(1);
  });

  it("books one patient once when 50 clinicians are asked for overlapping times at once", async () => {
    const patientId = patients[1] ?? "";
    const responses = await Promise.all(
      clinicians.map((clinician, i) => {
        const start = Date.UTC(2027, 8, 7, 9, i % 30);
        const body = { patientId, clinicianId: clinician.id, startsAt: new Date(start).toISOString(), endsAt: new Date(start + 45 * 60_000).toISOString() };
        return api("/api/v1/appointments", jsonBody(body, tenant.members.admin.headers));
      }),
    );
    const id = await expectOneWinner(responses);
    // That day only: on PostgreSQL the first test's winner is any of the 50 patients, this one too.
    const day = and(eq(appointments.patientId, patientId), gte(appointments.startsAt, new Date("2027-09-07T00:00:00Z")), lt(appointments.startsAt, new Date("2027-09-08T00:00:00Z")));
    const rows = await testDb().select().from(appointments).where(day);
    expect(live(rows).map((row) => row.id)).toEqual([id]);
  });

  it("moves one of 50 appointments into a slot when all are rescheduled into it at once", async () => {
    const clinicianId = clinicians[2]?.id ?? "";
    const ids: string[] = [];
    for (let i = 0; i < CONCURRENT; i++) {
      const start = Date.UTC(2027, 8, 8, 0, i * 20);
      const body = { patientId: patients[i], clinicianId, startsAt: new Date(start).toISOString(), endsAt: new Date(start + 15 * 60_000).toISOString() };
      const response = await api("/api/v1/appointments", jsonBody(body, tenant.members.staff.headers));
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as { id: string }).id);
    }
    const target = { startsAt: "2027-09-09T10:00:00Z", endsAt: "2027-09-09T10:30:00Z" };
    const responses = await Promise.all(ids.map((id) => api(`/api/v1/appointments/${id}`, patch(target, tenant.members.staff.headers))));
    await expectOneWinner(responses.map((response) => (response.status === 200 ? new Response(response.body, { status: 201 }) : response)));
    const rows = await testDb()
      .select()
      .from(appointments)
      .where(and(eq(appointments.clinicianId, clinicianId), eq(appointments.startsAt, new Date(target.startsAt))));
    expect(live(rows)).toHaveLength(1);
  });
});
