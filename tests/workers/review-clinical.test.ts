import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "#src/lib/cursor.ts";
import { addMember, insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, patch, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

/**
 * Security review of the clinical routes (patients, care teams, clinicians, appointments, notes,
 * dashboard, audit), attacking from outside: a member of another organization, and each
 * low-privilege role or relationship (staff, a caregiver or clinician off the care team, a
 * patient, a narrowly scoped API key). Tests that hold are regression tests; those marked
 * `it.skip` with "FINDING n" reproduce a defect listed in /work/notes/review-clinical.md and
 * assert the correct behaviour: un-skip them with the fix.
 */

interface Appointment {
  id: string;
  patientId: string;
  clinicianId: string;
  startsAt: string;
  endsAt: string;
  status: string;
}

interface Note {
  id: string;
  status: string;
  version: number;
}

/** Each booking its own day in 2028, so nothing here collides. */
let nextDay = 0;
const freshSlot = (hour = 10, minutes = 50) => {
  const start = new Date(Date.UTC(2028, 0, 3 + nextDay++, hour, 0));
  return { startsAt: start.toISOString(), endsAt: new Date(start.getTime() + minutes * 60_000).toISOString() };
};

const get = (path: string, member: { headers: Record<string, string> }) => api(path, { headers: member.headers });
const post = (path: string, member: { headers: Record<string, string> }, body?: unknown) =>
  api(path, body === undefined ? { method: "POST", headers: member.headers } : jsonBody(body, member.headers));

async function booked(member: Member, body: Record<string, unknown>): Promise<Appointment> {
  const response = await post("/api/v1/appointments", member, body);
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Appointment;
}

async function noteBy(member: Member, patientId: string, text: string): Promise<Note> {
  const response = await post(`/api/v1/patients/${patientId}/notes`, member, { format: "free", content: { text } });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Note;
}

async function signed(member: Member, note: Note): Promise<Note> {
  const response = await post(`/api/v1/notes/${note.id}/sign`, member);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Note;
}

async function dataOf(path: string, member: { headers: Record<string, string> }): Promise<unknown[]> {
  return ((await (await get(path, member)).json()) as { data: unknown[] }).data;
}

/** The names on the patients page after a name-ordered cursor that names only a row id (as a long-key cursor does). */
async function namesAfter(id: string, member: Member) {
  const response = await get(`/api/v1/patients?sort=name&cursor=${encodeCursor({ s: "name:asc", id })}`, member);
  return { status: response.status, names: response.status === 200 ? ((await response.json()) as { data: { name: string }[] }).data.map((patient) => patient.name) : null };
}

/** A problem+json answer with the status, never a 500. */
async function expectProblem(response: Response, statusCode: number) {
  const body = await response.clone().text();
  expect(response.status, body).toBe(statusCode);
  const problem = await problemOf(response);
  expect(problem.status).toBe(statusCode);
  expect(typeof problem.detail).toBe("string");
  return problem;
}

async function auditRows(requestId: string | null) {
  expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  const result = await testDb().execute(sql`select action, patient_ids::text[] as patient_ids, metadata from audit_events where request_id = ${requestId ?? ""}`);
  return result.rows as { action: string; patient_ids: string[]; metadata: Record<string, unknown> }[];
}

describe("clinical security review", () => {
  let a: Tenant;
  let b: Tenant;
  let m: Tenant["members"];
  /** On the care team of A's clinician and caregiver; A's patient member is linked to it. */
  let cared: string;
  /** A patient of A on nobody's care team. */
  let stranger: string;
  /** A second clinician of A, and a patient on both clinicians' care teams. */
  let clinician2: Member;
  let shared: string;
  let bPatient: string;
  let strangerAppointment: Appointment;
  let ownWithStranger: Appointment;
  let caredAppointment: Appointment;
  let bAppointment: Appointment;
  let caredDraft: Note;
  let caredSigned: Note;
  let strangerNote: Note;
  let bNote: Note;
  let scopedKey: (scopes: string[]) => Promise<{ headers: Record<string, string> }>;

  beforeAll(async () => {
    [a, b] = await Promise.all([createTenant("Review A"), createTenant("Review B")]);
    m = a.members;
    clinician2 = await addMember(a, "clinician");
    cared = await insertCaredPatient(a, "Carla Cared");
    stranger = await insertPatient(a, { name: "Mike Stranger" });
    shared = await insertPatient(a, {
      name: "Sam Shared",
      careTeam: [
        { userId: clinician2.id, primary: true },
        { userId: m.clinician.id, primary: false },
      ],
    });
    bPatient = await insertCaredPatient(b, "Bea Other");
    strangerAppointment = await booked(m.staff, { patientId: stranger, clinicianId: clinician2.id, ...freshSlot() });
    ownWithStranger = await booked(m.staff, { patientId: stranger, clinicianId: m.clinician.id, ...freshSlot() });
    caredAppointment = await booked(m.staff, { patientId: cared, clinicianId: m.clinician.id, ...freshSlot() });
    bAppointment = await booked(b.members.staff, { patientId: bPatient, clinicianId: b.members.clinician.id, ...freshSlot() });
    caredDraft = await noteBy(m.clinician, cared, "draft about insomnia");
    caredSigned = await signed(m.clinician, await noteBy(m.clinician, cared, "signed about sleep hygiene"));
    strangerNote = await signed(m.admin, await noteBy(m.admin, stranger, "quokka stranger secret"));
    bNote = await signed(b.members.clinician, await noteBy(b.members.clinician, bPatient, "zanzibar other tenant secret"));
    scopedKey = async (scopes) => {
      const response = await post("/api/v1/api-keys", m.admin, { name: `review ${scopes.join(" ")}`, scopes });
      expect(response.status).toBe(201);
      return { headers: { "X-API-Key": ((await response.json()) as { key: string }).key } };
    };
  });

  describe("another organization's ids", () => {
    it("paths: B's patient, appointment, note and clinician are 404 to A's owner, like missing ones", async () => {
      const owner = m.owner;
      for (const path of [
        `/api/v1/patients/${bPatient}`,
        `/api/v1/patients/${bPatient}/care-team`,
        `/api/v1/patients/${bPatient}/notes`,
        `/api/v1/appointments/${bAppointment.id}`,
        `/api/v1/notes/${bNote.id}`,
        `/api/v1/clinicians/${b.members.clinician.id}/working-hours`,
      ]) {
        await expectProblem(await get(path, owner), 404);
      }
      const availability = `/api/v1/availability?clinicianId=${b.members.clinician.id}&from=2028-01-03T00:00:00Z&to=2028-01-04T00:00:00Z&duration=30`;
      await expectProblem(await get(availability, owner), 404);
      await expectProblem(await api(`/api/v1/patients/${bPatient}`, patch({ name: "Hijacked" }, { ...owner.headers, "If-Match": '"1"' })), 404);
      await expectProblem(await api(`/api/v1/patients/${bPatient}`, { method: "DELETE", headers: owner.headers }), 404);
      await expectProblem(await post(`/api/v1/patients/${bPatient}/care-team`, owner, { userId: m.clinician.id, relationship: "x" }), 404);
      await expectProblem(await api(`/api/v1/patients/${bPatient}/care-team/${b.members.clinician.id}`, { method: "DELETE", headers: owner.headers }), 404);
      await expectProblem(await api(`/api/v1/appointments/${bAppointment.id}`, patch({ reason: "x" }, owner.headers)), 404);
      await expectProblem(await post(`/api/v1/appointments/${bAppointment.id}/cancel`, owner, { reason: "x" }), 404);
      await expectProblem(await post(`/api/v1/notes/${bNote.id}/addenda`, owner, { body: "x" }), 404);
      await expectProblem(await post(`/api/v1/patients/${bPatient}/notes`, owner, { format: "free", content: { text: "x" } }), 404);
      await expectProblem(await api(`/api/v1/clinicians/${b.members.clinician.id}/working-hours`, jsonBody({ timezone: "UTC", intervals: [] }, owner.headers, "PUT")), 404);
      // nothing of B's changed
      const still = (await (await get(`/api/v1/appointments/${bAppointment.id}`, b.members.owner)).json()) as Appointment;
      expect(still.status).toBe("scheduled");
      const patient = (await (await get(`/api/v1/patients/${bPatient}`, b.members.owner)).json()) as { name: string; status: string };
      expect(patient).toMatchObject({ name: "Bea Other", status: "active" });
    });

    it("bodies: B's patient, clinician, members and appointment are refused and book or link nothing", async () => {
      const staff = m.staff;
      await expectProblem(await post("/api/v1/appointments", staff, { patientId: bPatient, clinicianId: m.clinician.id, ...freshSlot() }), 404);
      const foreignClinician = await expectProblem(await post("/api/v1/appointments", staff, { patientId: cared, clinicianId: b.members.clinician.id, ...freshSlot() }), 422);
      expect(JSON.stringify(foreignClinician)).toContain("body.clinicianId");
      await expectProblem(await api(`/api/v1/appointments/${caredAppointment.id}`, patch({ clinicianId: b.members.clinician.id }, staff.headers)), 422);
      await expectProblem(await post(`/api/v1/patients/${cared}/care-team`, m.owner, { userId: b.members.caregiver.id, relationship: "spy" }), 422);
      await expectProblem(await post(`/api/v1/patients/${cared}/notes`, m.clinician, { format: "free", content: { text: "x" }, appointmentId: bAppointment.id }), 422);
      // another patient's appointment of the same organization is no link either
      await expectProblem(await post(`/api/v1/patients/${cared}/notes`, m.admin, { format: "free", content: { text: "x" }, appointmentId: strangerAppointment.id }), 422);
      const current = await get(`/api/v1/patients/${stranger}`, m.owner);
      const linkForeign = await api(`/api/v1/patients/${stranger}`, patch({ userId: b.members.patient.id }, { ...m.owner.headers, "If-Match": current.headers.get("ETag") ?? "" }));
      await expectProblem(linkForeign, 422);
      const created = await post("/api/v1/patients", m.owner, { name: "Linked Elsewhere", userId: b.members.patient.id });
      await expectProblem(created, 422);
      const team = (await (await get(`/api/v1/patients/${cared}/care-team`, m.owner)).json()) as { data: { userId: string }[] };
      expect(team.data.map((member) => member.userId)).not.toContain(b.members.caregiver.id);
    });

    it("query filters with B's ids find nothing", async () => {
      expect(await dataOf(`/api/v1/appointments?patientId=${bPatient}`, m.owner)).toEqual([]);
      expect(await dataOf(`/api/v1/appointments?clinicianId=${b.members.clinician.id}`, m.owner)).toEqual([]);
      expect(await dataOf(`/api/v1/patients?clinicianId=${b.members.clinician.id}`, m.owner)).toEqual([]);
      expect(await dataOf(`/api/v1/audit-events?actor=${b.members.staff.id}`, m.owner)).toEqual([]);
      expect(await dataOf(`/api/v1/audit-events?patient=${bPatient}`, m.owner)).toEqual([]);
      expect(await dataOf("/api/v1/notes/search?q=zanzibar", m.owner)).toEqual([]);
      const clinicians = await dataOf("/api/v1/clinicians", m.owner);
      expect(JSON.stringify(clinicians)).not.toContain(b.members.clinician.id);
    });

    it("cursors naming B's rows continue nothing of B's", async () => {
      const appointments = await get(`/api/v1/appointments?cursor=${encodeCursor({ s: "2000-01-01T00:00:00.000000Z", i: bAppointment.id })}`, m.owner);
      expect(appointments.status).toBe(200);
      expect(JSON.stringify(await appointments.json())).not.toContain(bAppointment.id);
      const patients = await get(`/api/v1/patients?cursor=${encodeCursor({ s: "name:asc", id: bPatient })}`, m.owner);
      expect(patients.status).toBe(200);
      expect(JSON.stringify(await patients.json())).not.toContain(bPatient);
      const notes = await get(`/api/v1/patients/${cared}/notes?cursor=${encodeCursor({ id: "ffffffff-ffff-7fff-bfff-ffffffffffff" })}`, m.owner);
      expect(notes.status).toBe(200);
    });
  });

  describe("relationships: who learns what", () => {
    it("a caregiver or clinician off the care team gets the same 404 for an existing patient as for a missing one", async () => {
      const loneCaregiver = await addMember(a, "caregiver");
      for (const member of [loneCaregiver, clinician2, m.patient]) {
        const real = await get(`/api/v1/patients/${stranger}`, member);
        const missing = await get(`/api/v1/patients/${crypto.randomUUID()}`, member);
        expect(real.status).toBe(404);
        const [realProblem, missingProblem] = [await problemOf(real), await problemOf(missing)];
        expect({ ...realProblem, requestId: null, instance: null }).toEqual({ ...missingProblem, requestId: null, instance: null });
        await expectProblem(await get(`/api/v1/patients/${stranger}/care-team`, member), 404);
      }
      // and the attempt is audited as denied, naming the patient
      const attempt = await get(`/api/v1/patients/${stranger}`, loneCaregiver);
      const rows = await auditRows(attempt.headers.get("X-Request-ID"));
      expect(rows).toEqual([expect.objectContaining({ action: "patient.read", patient_ids: [stranger], metadata: { outcome: "denied" } })]);
    });

    it("a clinician cannot put themselves on a care team they are not on, nor change it", async () => {
      await expectProblem(await post(`/api/v1/patients/${stranger}/care-team`, clinician2, { userId: clinician2.id, relationship: "self-appointed", isPrimary: true }), 404);
      await expectProblem(await api(`/api/v1/patients/${cared}/care-team/${m.clinician.id}`, { method: "DELETE", headers: clinician2.headers }), 404);
      await expectProblem(await post(`/api/v1/patients/${stranger}/care-team`, m.caregiver, { userId: m.caregiver.id, relationship: "x" }), 403);
      await expectProblem(await post(`/api/v1/patients/${stranger}/care-team`, m.staff, { userId: m.clinician.id, relationship: "x" }), 403);
      const team = (await (await get(`/api/v1/patients/${stranger}/care-team`, m.owner)).json()) as { data: unknown[] };
      expect(team.data).toEqual([]);
    });

    it("a clinician cannot book, edit or archive a patient off their care team", async () => {
      await expectProblem(await post("/api/v1/appointments", m.clinician, { patientId: stranger, clinicianId: m.clinician.id, ...freshSlot() }), 404);
      await expectProblem(await api(`/api/v1/patients/${stranger}`, patch({ name: "Renamed" }, { ...m.clinician.headers, "If-Match": '"1"' })), 404);
      await expectProblem(await api(`/api/v1/patients/${stranger}`, { method: "DELETE", headers: m.clinician.headers }), 404);
      await expectProblem(await post(`/api/v1/patients/${stranger}/notes`, m.clinician, { format: "free", content: { text: "x" } }), 404);
      // booking a colleague's calendar is refused even for a cared patient
      await expectProblem(await post("/api/v1/appointments", m.clinician, { patientId: cared, clinicianId: clinician2.id, ...freshSlot() }), 403);
    });

    it("a 409 names only appointments the caller may see", async () => {
      // staff sees every appointment: the clash names clinician2's session with the stranger
      const clash = await post("/api/v1/appointments", m.staff, { patientId: cared, clinicianId: clinician2.id, startsAt: strangerAppointment.startsAt, endsAt: strangerAppointment.endsAt });
      const staffProblem = (await expectProblem(clash, 409)) as { conflicts: { appointmentId?: string }[] };
      expect(staffProblem.conflicts[0]?.appointmentId).toBe(strangerAppointment.id);
      // the clinician's own sessions are theirs to see: named
      const own = await api(`/api/v1/appointments/${caredAppointment.id}`, patch({ startsAt: ownWithStranger.startsAt, endsAt: ownWithStranger.endsAt }, m.clinician.headers));
      const ownProblem = (await expectProblem(own, 409)) as { conflicts: { appointmentId?: string; with: string }[] };
      expect(ownProblem.conflicts).toEqual([expect.objectContaining({ appointmentId: ownWithStranger.id, with: "clinician" })]);
      // moving their own session with the stranger onto the stranger's session with clinician2: a clash, never its id
      const hidden = await api(`/api/v1/appointments/${ownWithStranger.id}`, patch({ startsAt: strangerAppointment.startsAt, endsAt: strangerAppointment.endsAt }, m.clinician.headers));
      const hiddenProblem = (await expectProblem(hidden, 409)) as { conflicts: { appointmentId?: string; with: string }[] };
      expect(hiddenProblem.conflicts).toEqual([{ startsAt: strangerAppointment.startsAt, with: "patient" }]);
      expect(JSON.stringify(hiddenProblem)).not.toContain(strangerAppointment.id);
      await expectProblem(await post("/api/v1/appointments", m.caregiver, { patientId: cared, clinicianId: m.clinician.id, ...freshSlot() }), 403);
    });

    it("a patient sees only their own appointments, whatever the filter", async () => {
      const page = (await (await get(`/api/v1/appointments?patientId=${stranger}`, m.patient)).json()) as { data: Appointment[] };
      expect(page.data).toEqual([]);
      const all = (await (await get("/api/v1/appointments?limit=100", m.patient)).json()) as { data: Appointment[] };
      expect(new Set(all.data.map((appointment) => appointment.patientId))).toEqual(new Set([cared]));
      await expectProblem(await get(`/api/v1/appointments/${strangerAppointment.id}`, m.patient), 404);
      await expectProblem(await post(`/api/v1/appointments/${caredAppointment.id}/cancel`, m.patient, { reason: "x" }), 403);
      const patients = (await (await get("/api/v1/patients", m.patient)).json()) as { data: { id: string }[] };
      expect(patients.data.map((patient) => patient.id)).toEqual([cared]);
    });

    it("a caregiver's lists, search and dashboard count only their care-team patients", async () => {
      const patients = (await (await get("/api/v1/patients?q=Mike", m.caregiver)).json()) as { data: unknown[] };
      expect(patients.data).toEqual([]);
      const byClinician = (await (await get(`/api/v1/patients?clinicianId=${clinician2.id}`, m.caregiver)).json()) as { data: unknown[] };
      expect(byClinician.data).toEqual([]);
      const appointments = (await (await get("/api/v1/appointments?limit=100", m.caregiver)).json()) as { data: Appointment[] };
      expect(new Set(appointments.data.map((appointment) => appointment.patientId))).toEqual(new Set([cared]));
      const dashboard = (await (await get("/api/v1/dashboard", m.caregiver)).json()) as { activePatients: number };
      expect(dashboard.activePatients).toBe(1);
    });

    it("note search never counts, ranks or snippets a note out of reach", async () => {
      const hits = async (member: { headers: Record<string, string> }, q: string) =>
        ((await (await get(`/api/v1/notes/search?q=${encodeURIComponent(q)}`, member)).json()) as { data: { note: { id: string } }[] }).data.map((hit) => hit.note.id);
      expect(await hits(m.clinician, "quokka")).toEqual([]);
      expect(await hits(m.clinician, "quokka or sleep")).toEqual([caredSigned.id]);
      expect(await hits(clinician2, "sleep or insomnia")).toEqual([]);
      expect(await hits(m.admin, "quokka")).toEqual([strangerNote.id]);
      await expectProblem(await get(`/api/v1/notes/${strangerNote.id}`, m.clinician), 404);
      await expectProblem(await get(`/api/v1/patients/${stranger}/notes`, m.clinician), 404);
    });
  });

  describe("notes: roles and writes", () => {
    it("staff, caregivers and patients reach no note, and each refusal is audited", async () => {
      for (const member of [m.staff, m.caregiver, m.patient]) {
        for (const path of [`/api/v1/patients/${cared}/notes`, `/api/v1/notes/${caredSigned.id}`, "/api/v1/notes/search?q=sleep"]) {
          const response = await get(path, member);
          await expectProblem(response, 403);
          const rows = await auditRows(response.headers.get("X-Request-ID"));
          expect(rows.map((row) => row.action)).toEqual(["access.denied"]);
        }
        await expectProblem(await post(`/api/v1/patients/${cared}/notes`, member, { format: "free", content: { text: "x" } }), 403);
        await expectProblem(await post(`/api/v1/notes/${caredSigned.id}/addenda`, member, { body: "x" }), 403);
      }
    });

    it("another clinician cannot edit or sign an author's draft; a signed note never changes", async () => {
      const other = await addMember(a, "clinician");
      await testDb().execute(sql`insert into care_team_members (organization_id, patient_id, user_id, relationship, is_primary) values (${a.organizationId}, ${cared}, ${other.id}, 'cover', false)`);
      const edit = await api(`/api/v1/notes/${caredDraft.id}`, patch({ format: "free", content: { text: "rewritten" } }, { ...other.headers, "If-Match": `"${caredDraft.version}"` }));
      await expectProblem(edit, 403);
      await expectProblem(await post(`/api/v1/notes/${caredDraft.id}/sign`, other), 403);
      // the owner is not the author either
      await expectProblem(await api(`/api/v1/notes/${caredDraft.id}`, patch({ format: "free", content: { text: "x" } }, { ...m.owner.headers, "If-Match": `"${caredDraft.version}"` })), 403);
      // the author: no If-Match 428, a wrong one 412, garbage 412
      await expectProblem(await api(`/api/v1/notes/${caredDraft.id}`, patch({ format: "free", content: { text: "x" } }, m.clinician.headers)), 428);
      await expectProblem(await api(`/api/v1/notes/${caredDraft.id}`, patch({ format: "free", content: { text: "x" } }, { ...m.clinician.headers, "If-Match": '"99"' })), 412);
      await expectProblem(await api(`/api/v1/notes/${caredDraft.id}`, patch({ format: "free", content: { text: "x" } }, { ...m.clinician.headers, "If-Match": "*" })), 412);
      // a signed note: the author's edit and a second signature are 409s
      await expectProblem(await api(`/api/v1/notes/${caredSigned.id}`, patch({ format: "free", content: { text: "x" } }, { ...m.clinician.headers, "If-Match": `"${caredSigned.version}"` })), 409);
      await expectProblem(await post(`/api/v1/notes/${caredSigned.id}/sign`, m.clinician), 409);
      const note = (await (await get(`/api/v1/notes/${caredSigned.id}`, m.owner)).json()) as { content: { text: string }; version: number };
      expect(note).toMatchObject({ content: { text: "signed about sleep hygiene" }, version: caredSigned.version });
      const draft = (await (await get(`/api/v1/notes/${caredDraft.id}`, m.owner)).json()) as { content: { text: string } };
      expect(draft.content.text).toBe("draft about insomnia");
    });
  });

  describe("API keys: scope, not more", () => {
    it("a patients:read key reads patients and nothing else clinical", async () => {
      const key = await scopedKey(["patients:read"]);
      expect((await get(`/api/v1/patients/${stranger}`, key)).status).toBe(200);
      for (const path of [`/api/v1/patients/${cared}/notes`, `/api/v1/notes/${caredSigned.id}`, "/api/v1/notes/search?q=sleep", "/api/v1/appointments", `/api/v1/appointments/${caredAppointment.id}`, "/api/v1/dashboard", "/api/v1/audit-events", "/api/v1/clinicians"]) {
        await expectProblem(await get(path, key), 403);
      }
      await expectProblem(await post("/api/v1/patients", key, { name: "By key" }), 403);
      await expectProblem(await post(`/api/v1/patients/${cared}/care-team`, key, { userId: m.clinician.id, relationship: "x" }), 403);
    });

    it("a notes key reads notes but never writes one (a note needs a signed-in author)", async () => {
      const key = await scopedKey(["notes:read", "notes:write"]);
      expect((await get(`/api/v1/notes/${strangerNote.id}`, key)).status).toBe(200);
      await expectProblem(await get(`/api/v1/patients/${stranger}`, key), 403);
      await expectProblem(await post(`/api/v1/patients/${cared}/notes`, key, { format: "free", content: { text: "x" } }), 403);
      await expectProblem(await post(`/api/v1/notes/${caredSigned.id}/addenda`, key, { body: "x" }), 403);
      await expectProblem(await post(`/api/v1/notes/${caredDraft.id}/sign`, key), 403);
    });

    it("an appointments:read key cannot change an appointment", async () => {
      const key = await scopedKey(["appointments:read"]);
      expect((await get(`/api/v1/appointments/${caredAppointment.id}`, key)).status).toBe(200);
      await expectProblem(await api(`/api/v1/appointments/${caredAppointment.id}`, patch({ reason: "x" }, key.headers)), 403);
      await expectProblem(await post(`/api/v1/appointments/${caredAppointment.id}/confirm`, key), 403);
    });
  });

  describe("bad input: 4xx problems, never a 500", () => {
    it("note search in web-search syntax: any operator soup is a 200 or a 422", async () => {
      for (const q of ['"', "-", "or or", ":*", "&", "|", "!", "()", "a:*", "(a | b) & !c", "'", "\\", "<->", "a <-> b", "-a -b", '"unterminated', "or", "x:A", "a:1", "!!!!", "🙂", "a & (b", "sleep:*", '"" "" ""', "-(sleep)", "'sleep' & 'x'", "sleep <2> hygiene", "a".repeat(200)]) {
        const response = await get(`/api/v1/notes/search?q=${encodeURIComponent(q)}`, m.admin);
        expect([200, 422], `${q}: ${response.status}`).toContain(response.status);
        if (response.status === 422) await problemOf(response);
      }
      await expectProblem(await get(`/api/v1/notes/search?q=${encodeURIComponent("a".repeat(201))}`, m.admin), 422);
      await expectProblem(await get(`/api/v1/notes/search?q=${encodeURIComponent("sleep\u0000")}`, m.admin), 422);
      await expectProblem(await get(`/api/v1/notes/search?q=sleep&cursor=${encodeCursor({ rank: "x", id: 1 })}`, m.admin), 422);
    });

    it("tampered cursors, odd years and odd strings are 4xx problems", async () => {
      const staff = m.staff;
      for (const path of [
        `/api/v1/patients?cursor=not-base64!`,
        `/api/v1/patients?cursor=${encodeCursor({ s: "created_at:asc", k: "garbage", id: crypto.randomUUID() })}&sort=created_at`,
        `/api/v1/patients?cursor=${encodeCursor({ s: "updated_at:desc", k: "0000-01-01", id: crypto.randomUUID() })}&sort=updated_at&order=desc`,
        `/api/v1/patients?cursor=${encodeCursor({ s: "rank", r: 0.5, id: crypto.randomUUID() })}`,
        `/api/v1/appointments?cursor=${encodeCursor({ s: "0000-01-01T00:00:00Z", i: crypto.randomUUID() })}`,
        `/api/v1/appointments?from=${encodeURIComponent("10000-01-01T00:00:00Z")}`,
        `/api/v1/appointments?from=${encodeURIComponent("2028-02-30T00:00:00Z")}`,
        `/api/v1/patients?q=${encodeURIComponent("a\u0000b")}`,
        `/api/v1/patients?q=${encodeURIComponent("x".repeat(101))}`,
      ]) {
        const response = await get(path, staff);
        expect(response.status, path).toBeGreaterThanOrEqual(400);
        expect(response.status, path).toBeLessThan(500);
        await problemOf(response);
      }
      for (const path of [`/api/v1/audit-events?from=${encodeURIComponent("0000-01-01T00:00:00Z")}`, `/api/v1/audit-events/export?to=${encodeURIComponent("0000-06-01T00:00:00Z")}`]) {
        const response = await get(path, m.admin);
        expect(response.status, path).toBe(422);
        await problemOf(response);
      }
      // invalid UTF-8 in a query string decodes to U+FFFD: a plain search, never a 500
      for (const path of ["/api/v1/patients?q=%ED%A0%80", "/api/v1/patients?q=%FF", "/api/v1/appointments?patientId=%C0%80"]) {
        const response = await get(path, staff);
        expect(response.status, path).toBeLessThan(500);
        if (response.status >= 400) await problemOf(response);
      }
      for (const q of ["🙂", "\u0301", "%", "_", "(555)", "+", "00000000", "ß", "ǅ", "' or 1=1 --"]) {
        expect((await get(`/api/v1/patients?q=${encodeURIComponent(q)}`, staff)).status, q).toBe(200);
      }
    });

    it("bookings with negative, zero, too long or giant-series ranges are 422s", async () => {
      const base = { patientId: cared, clinicianId: m.clinician.id };
      const { startsAt, endsAt } = freshSlot();
      for (const body of [
        { ...base, startsAt: endsAt, endsAt: startsAt },
        { ...base, startsAt, endsAt: startsAt },
        { ...base, startsAt, endsAt: new Date(Date.parse(startsAt) + 25 * 3_600_000).toISOString() },
        { ...base, startsAt, endsAt, recurrence: { frequency: "weekly", count: 53 } },
        { ...base, startsAt, endsAt, recurrence: { frequency: "weekly", count: 1e9 } },
        { ...base, startsAt: "0000-01-01T00:00:00Z", endsAt: "0000-01-01T01:00:00Z" },
        { ...base, startsAt, endsAt, location: "x\u0000" },
        { ...base, startsAt, endsAt, kind: "telehealth", videoUrl: "javascript:alert(1)" },
        { ...base, startsAt, endsAt, extra: true },
      ]) {
        await expectProblem(await post("/api/v1/appointments", m.staff, body), 422);
      }
    });

    // FINDING 1: a timestamp whose UTC offset Postgres refuses (beyond ±15:59, though zod's ISO
    // check allows up to ±23:59) reaches the database as text and answers 500.
    it("FINDING 1: an out-of-range UTC offset in startsAt, endsAt, from or to is a 422, not a 500", async () => {
      const offset = "2028-06-05T10:00:00+20:00";
      const booking = await post("/api/v1/appointments", m.staff, { patientId: cared, clinicianId: m.clinician.id, startsAt: offset, endsAt: "2028-06-05T11:00:00+20:00" });
      await expectProblem(booking, 422);
      await expectProblem(await get(`/api/v1/appointments?from=${encodeURIComponent(offset)}`, m.staff), 422);
      await expectProblem(await get(`/api/v1/appointments?to=${encodeURIComponent("2028-06-05T10:00:00-16:30")}`, m.staff), 422);
      await expectProblem(await api(`/api/v1/appointments/${caredAppointment.id}`, patch({ startsAt: offset }, m.staff.headers)), 422);
    });
  });

  // FINDING 2: a patients-list cursor may name a row without its key; the key is then read from
  // the patients table with no reach check, so a cursor naming a patient the caller cannot see
  // answers differently from one naming a missing patient, and continues the caller's page from
  // that hidden patient's name: an existence and name-order oracle over patients out of reach.
  it("FINDING 2: a cursor naming a patient out of reach answers exactly like one naming a missing patient", async () => {
    // the clinician creates the patients they can see (a creator joins the care team)
    for (const name of ["Aaron Probe", "Zed Probe"]) expect((await post("/api/v1/patients", m.clinician, { name })).status).toBe(201);
    const hidden = await namesAfter(stranger, m.clinician); // "Mike Stranger", on nobody's care team
    const missing = await namesAfter(crypto.randomUUID(), m.clinician);
    expect(hidden).toEqual(missing);
  });

  // FINDING 3: the "a clinician books their own sessions" rule is only checked when the body names
  // a clinicianId: a clinician on a shared patient's care team can move, cancel or take over a
  // colleague's session.
  it("FINDING 3: a clinician cannot move, cancel or take over a colleague's session", async () => {
    const colleagues = await booked(m.staff, { patientId: shared, clinicianId: clinician2.id, ...freshSlot() });
    const later = freshSlot();
    await expectProblem(await api(`/api/v1/appointments/${colleagues.id}`, patch({ startsAt: later.startsAt }, m.clinician.headers)), 403);
    await expectProblem(await api(`/api/v1/appointments/${colleagues.id}`, patch({ clinicianId: m.clinician.id }, m.clinician.headers)), 403);
    await expectProblem(await post(`/api/v1/appointments/${colleagues.id}/cancel`, m.clinician, { reason: "mine now" }), 403);
    const still = (await (await get(`/api/v1/appointments/${colleagues.id}`, m.owner)).json()) as Appointment;
    expect(still).toMatchObject({ clinicianId: clinician2.id, status: "scheduled", startsAt: colleagues.startsAt });
  });

  // FINDING 4: the dashboard lists a clinician's own sessions with the patient's name, also for a
  // patient off their care team, whose record (GET /patients/{id}) is a 404 to them.
  it("FINDING 4: the dashboard names no patient the caller cannot read", async () => {
    const today = new Date();
    const start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 23, 0));
    const solo = await addMember(a, "clinician");
    await booked(m.owner, { patientId: stranger, clinicianId: solo.id, startsAt: start.toISOString(), endsAt: new Date(start.getTime() + 30 * 60_000).toISOString() });
    await expectProblem(await get(`/api/v1/patients/${stranger}`, solo), 404);
    const dashboard = (await (await get("/api/v1/dashboard", solo)).json()) as { today: { appointments: { patientId: string; patientName: string }[] } };
    expect(dashboard.today.appointments.length).toBe(1);
    expect(JSON.stringify(dashboard)).not.toContain("Mike Stranger");
  });

  // FINDING 5: a dashboard served from KV (X-Cache: hit) re-serves patient names and ids with no
  // audit row for that request.
  it("FINDING 5: every dashboard read, a cache hit too, writes an audit row with its request id", async () => {
    const first = await get("/api/v1/dashboard", m.staff);
    expect(first.status).toBe(200);
    const second = await get("/api/v1/dashboard", m.staff);
    expect(second.headers.get("X-Cache")).toBe("hit");
    // A hit costs no SQL: its row is recorded through the queue (audit.record), moments later.
    let rows = await auditRows(second.headers.get("X-Request-ID"));
    for (let attempt = 0; attempt < 100 && rows.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = await auditRows(second.headers.get("X-Request-ID"));
    }
    expect(rows.map((row) => row.action)).toEqual(["dashboard.read"]);
  });

  // FINDING 6: TimeZoneSchema accepts any zone the Worker's ICU knows, and Postgres reads some of
  // them differently or not at all: an offset zone "+05:00" is UTC+5 to Intl (availability, `local`
  // times) but POSIX UTC-5 to Postgres (the working-hours check, series, dashboard); "US/Pacific-New"
  // is unknown to Postgres, so every booking for such a patient, and every dashboard of such an
  // organization, fails with a generic 422 naming no field.
  it("FINDING 6: a zone the API accepts means the same in JS and SQL (a free slot books; the dashboard answers)", async () => {
    const c = await createTenant("Review C");
    const zone = await api("/api/v1/organization", patch({ timezone: "US/Pacific-New" }, c.members.owner.headers));
    if (zone.status !== 422) {
      const dashboard = await get("/api/v1/dashboard", c.members.owner);
      expect(dashboard.status, await dashboard.clone().text()).toBe(200);
    }
    const solo = await addMember(a, "clinician");
    const put = await api(`/api/v1/clinicians/${solo.id}/working-hours`, jsonBody({ timezone: "+05:00", intervals: [{ weekday: 1, start: "09:00", end: "17:00" }] }, solo.headers, "PUT"));
    if (put.status !== 422) {
      expect(put.status).toBe(200);
      const free = await get(`/api/v1/availability?clinicianId=${solo.id}&from=2028-03-06T00:00:00Z&to=2028-03-07T00:00:00Z&duration=60`, m.staff);
      const first = ((await free.json()) as { slots: { start: string; end: string }[] }).slots[0];
      expect(first).toBeDefined();
      const booking = await post("/api/v1/appointments", m.staff, { patientId: cared, clinicianId: solo.id, startsAt: first?.start, endsAt: first?.end });
      expect(booking.status, await booking.clone().text()).toBe(201);
    }
  });

  // FINDING 7: an Idempotency-Key replay re-serves the first answer (patient data) with no audit row
  // for the replaying request, and after the caller lost their reach to the patient too.
  it("FINDING 7: a replayed create of patient data is audited, and refused once the patient is out of reach", async () => {
    const patientId = await insertPatient(a, { name: "Replay Patient", careTeam: [{ userId: m.clinician.id }] });
    const key = crypto.randomUUID();
    const body = { patientId, clinicianId: m.clinician.id, ...freshSlot() };
    const first = await api("/api/v1/appointments", jsonBody(body, { ...m.clinician.headers, "Idempotency-Key": key }));
    expect(first.status).toBe(201);
    const retry = await api("/api/v1/appointments", jsonBody(body, { ...m.clinician.headers, "Idempotency-Key": key }));
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await auditRows(retry.headers.get("X-Request-ID"))).length).toBeGreaterThan(0);
    await testDb().execute(sql`delete from care_team_members where patient_id = ${patientId} and user_id = ${m.clinician.id}`);
    await expectProblem(await get(`/api/v1/patients/${patientId}`, m.clinician), 404);
    const late = await api("/api/v1/appointments", jsonBody(body, { ...m.clinician.headers, "Idempotency-Key": key }));
    expect(late.status).toBe(404);
    expect((await auditRows(late.headers.get("X-Request-ID"))).map((row) => row.action)).toEqual(["access.replayed"]);
  });

  it("every patient-data read here is audited with its request id (detail, list, search, care team, appointments, notes)", async () => {
    for (const [path, action] of [
      [`/api/v1/patients/${cared}`, "patient.read"],
      ["/api/v1/patients?q=Carla", "patient.listed"],
      [`/api/v1/patients/${cared}/care-team`, "care_team.read"],
      [`/api/v1/appointments/${caredAppointment.id}`, "appointment.read"],
      [`/api/v1/appointments?patientId=${cared}`, "appointment.listed"],
      [`/api/v1/patients/${cared}/notes`, "note.listed"],
      [`/api/v1/notes/${caredSigned.id}`, "note.read"],
      ["/api/v1/notes/search?q=sleep", "note.searched"],
    ] as const) {
      const response = await get(path, m.admin);
      expect(response.status, path).toBe(200);
      const rows = await auditRows(response.headers.get("X-Request-ID"));
      expect(rows.map((row) => row.action), path).toEqual([action]);
      expect(rows[0]?.patient_ids, path).toContain(cared);
    }
  });
});
