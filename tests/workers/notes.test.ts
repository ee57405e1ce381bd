import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { appointments, auditEvents, domainEvents } from "#src/db/schema/index.ts";
import { noteContentHash } from "#src/features/notes/notes.canonical.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { addMember, insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, patch, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb, roundTrips } from "./helpers.ts";

interface Note {
  id: string;
  patientId: string;
  appointmentId: string | null;
  authorId: string;
  format: string;
  content: Record<string, string>;
  status: string;
  signedAt: string | null;
  signedBy: string | null;
  contentHash: string | null;
  version: number;
  addenda: { id: string; body: string; authorId: string; contentHash: string; signedAt: string }[];
}

const SOAP = { format: "soap", content: { subjective: "Reports better sleep.", assessment: "Improving." } };

async function writeNote(member: Member, patientId: string, body: unknown = SOAP): Promise<Note> {
  const response = await api(`/api/v1/patients/${patientId}/notes`, jsonBody(body, member.headers));
  expect(response.status).toBe(201);
  return (await response.json()) as Note;
}

async function signed(member: Member, patientId: string, body: unknown = SOAP): Promise<Note> {
  const note = await writeNote(member, patientId, body);
  const response = await api(`/api/v1/notes/${note.id}/sign`, { method: "POST", headers: member.headers });
  expect(response.status).toBe(200);
  return (await response.json()) as Note;
}

async function insertAppointment(tenant: Tenant, patientId: string, clinicianId: string, dayOffset = 1): Promise<string> {
  const id = uuidv7();
  const startsAt = new Date(Date.UTC(2030, 0, 1 + dayOffset, 9, 0));
  await testDb().insert(appointments).values({
    id,
    organizationId: tenant.organizationId,
    patientId,
    clinicianId,
    startsAt,
    endsAt: new Date(startsAt.getTime() + 50 * 60_000),
    status: "completed",
  });
  return id;
}


async function auditRowsOf(response: Response, organizationId: string) {
  const requestId = response.headers.get("X-Request-ID") ?? "";
  expect(requestId).not.toBe("");
  return testDb().select().from(auditEvents).where(and(eq(auditEvents.requestId, requestId), eq(auditEvents.organizationId, organizationId)));
}

describe("progress notes", () => {
  let tenant: Tenant;
  let foreign: Tenant;
  let patientId: string;
  let otherPatientId: string;
  let colleague: Member;
  let outsider: Member;
  let foreignPatientId: string;
  let noteKey: string;

  beforeAll(async () => {
    [tenant, foreign] = await Promise.all([createTenant("Notes Practice"), createTenant("Foreign Notes Practice")]);
    [colleague, outsider] = await Promise.all([addMember(tenant, "clinician"), addMember(tenant, "clinician")]);
    patientId = await insertCaredPatient(tenant);
    await testDb().execute(
      `insert into care_team_members (organization_id, patient_id, user_id, relationship, is_primary) values ('${tenant.organizationId}', '${patientId}', '${colleague.id}', 'psychiatrist', false)`,
    );
    otherPatientId = await insertPatient(tenant, { careTeam: [{ userId: tenant.members.clinician.id }] });
    foreignPatientId = await insertCaredPatient(foreign);
    const issued = await api("/api/v1/api-keys", jsonBody({ name: "notes key", scopes: ["notes:read", "notes:write"] }, tenant.members.owner.headers));
    noteKey = ((await issued.json()) as { key: string }).key;
  });

  describe("POST /patients/{id}/notes", () => {
    it("writes a SOAP draft by the care-team clinician, every section stored, with an ETag", async () => {
      const response = await api(`/api/v1/patients/${patientId}/notes`, jsonBody(SOAP, tenant.members.clinician.headers));
      expect(response.status).toBe(201);
      expect(response.headers.get("ETag")).toBe('"1"');
      const note = (await response.json()) as Note;
      expect(note).toMatchObject({
        patientId,
        authorId: tenant.members.clinician.id,
        format: "soap",
        status: "draft",
        version: 1,
        signedAt: null,
        contentHash: null,
        appointmentId: null,
        addenda: [],
      });
      expect(note.content).toEqual({ subjective: "Reports better sleep.", objective: "", assessment: "Improving.", plan: "" });
      const [audit] = await auditRowsOf(response, tenant.organizationId);
      expect(audit).toMatchObject({ action: "note.created", targetId: note.id, patientIds: [patientId], actorUserId: tenant.members.clinician.id });
    });

    it("writes DAP and free-text notes, and one linked to an appointment of the same patient", async () => {
      const dap = await writeNote(tenant.members.clinician, patientId, { format: "dap", content: { data: "Slept 7h", plan: "Continue" } });
      expect(dap.content).toEqual({ data: "Slept 7h", assessment: "", plan: "Continue" });
      const free = await writeNote(tenant.members.owner, patientId, { format: "free", content: { text: "Phone call." } });
      expect(free).toMatchObject({ format: "free", authorId: tenant.members.owner.id });
      const appointmentId = await insertAppointment(tenant, patientId, tenant.members.clinician.id);
      const linked = await writeNote(tenant.members.clinician, patientId, { ...SOAP, appointmentId });
      expect(linked.appointmentId).toBe(appointmentId);
    });

    it("refuses an appointment of another patient or organization as a 422 naming body.appointmentId", async () => {
      const othersAppointment = await insertAppointment(tenant, otherPatientId, tenant.members.clinician.id, 2);
      const foreignAppointment = await insertAppointment(foreign, foreignPatientId, foreign.members.clinician.id, 3);
      for (const appointmentId of [othersAppointment, foreignAppointment, uuidv7()]) {
        const response = await api(`/api/v1/patients/${patientId}/notes`, jsonBody({ ...SOAP, appointmentId }, tenant.members.clinician.headers));
        expect(response.status).toBe(422);
        const problem = await problemOf(response);
        expect(problem.errors).toEqual([expect.objectContaining({ path: "body.appointmentId" })]);
      }
    });

    it.each([
      ["an unknown field", { ...SOAP, mood: "fine" }],
      ["an unknown section", { format: "soap", content: { subjective: "x", data: "y" } }],
      ["a section of another format", { format: "dap", content: { subjective: "x" } }],
      ["no non-empty section", { format: "soap", content: { subjective: "  ", plan: "" } }],
      ["no content", { format: "free" }],
      ["an unknown format", { format: "birp", content: { text: "x" } }],
      ["a section over 10,000 characters", { format: "free", content: { text: "a".repeat(10_001) } }],
      ["control characters", { format: "free", content: { text: "bad\u0001text" } }],
      ["a bad appointment id", { ...SOAP, appointmentId: "not-a-uuid" }],
    ])("refuses %s with a 422", async (_label, body) => {
      const response = await api(`/api/v1/patients/${patientId}/notes`, jsonBody(body, tenant.members.clinician.headers));
      expect(response.status).toBe(422);
      expect((await problemOf(response)).detail).toBeTruthy();
    });

    it("answers 404 for a patient outside the clinician's care team, a foreign one and a missing one, and audits them", async () => {
      const outsiderTry = await api(`/api/v1/patients/${patientId}/notes`, jsonBody(SOAP, outsider.headers));
      expect(outsiderTry.status).toBe(404);
      const [denied] = await auditRowsOf(outsiderTry, tenant.organizationId);
      expect(denied?.metadata).toMatchObject({ outcome: "denied" });
      for (const id of [foreignPatientId, uuidv7()]) {
        const response = await api(`/api/v1/patients/${id}/notes`, jsonBody(SOAP, tenant.members.owner.headers));
        expect(response.status).toBe(404);
      }
    });

    it("refuses staff, caregivers, patients and API keys (a note's author is a person) with a 403", async () => {
      for (const role of ["staff", "caregiver", "patient"] as const) {
        const response = await api(`/api/v1/patients/${patientId}/notes`, jsonBody(SOAP, tenant.members[role].headers));
        expect(response.status).toBe(403);
      }
      const keyed = await api(`/api/v1/patients/${patientId}/notes`, jsonBody(SOAP, { "X-API-Key": noteKey }));
      expect(keyed.status).toBe(403);
    });

    it("replays a create with the same Idempotency-Key", async () => {
      const headers = { ...tenant.members.clinician.headers, "Idempotency-Key": crypto.randomUUID() };
      const first = await api(`/api/v1/patients/${patientId}/notes`, jsonBody(SOAP, headers));
      const second = await api(`/api/v1/patients/${patientId}/notes`, jsonBody(SOAP, headers));
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers.get("Idempotent-Replayed")).toBe("true");
      expect(((await second.json()) as Note).id).toBe(((await first.json()) as Note).id);
    });
  });

  describe("GET /notes/{id} and GET /patients/{id}/notes", () => {
    it("reads a note to owner, admin, care-team clinicians and note-scoped keys, and audits the read", async () => {
      const note = await writeNote(tenant.members.clinician, patientId);
      for (const headers of [tenant.members.owner.headers, tenant.members.admin.headers, tenant.members.clinician.headers, colleague.headers, { "X-API-Key": noteKey }]) {
        const response = await api(`/api/v1/notes/${note.id}`, { headers });
        expect(response.status).toBe(200);
        expect(response.headers.get("ETag")).toBe('"1"');
        expect(((await response.json()) as Note).id).toBe(note.id);
      }
      const response = await api(`/api/v1/notes/${note.id}`, { headers: colleague.headers });
      const [audit] = await auditRowsOf(response, tenant.organizationId);
      expect(audit).toMatchObject({ action: "note.read", targetId: note.id, patientIds: [patientId], actorUserId: colleague.id });
      expect(audit?.metadata).toMatchObject({ outcome: "read" });
    });

    it("answers 404 to a clinician off the care team and to a foreign tenant, like a missing note, and audits it", async () => {
      const note = await writeNote(tenant.members.clinician, patientId);
      const hidden = await api(`/api/v1/notes/${note.id}`, { headers: outsider.headers });
      expect(hidden.status).toBe(404);
      const [audit] = await auditRowsOf(hidden, tenant.organizationId);
      expect(audit?.metadata).toMatchObject({ outcome: "denied" });
      const foreignRead = await api(`/api/v1/notes/${note.id}`, { headers: foreign.members.owner.headers });
      expect(foreignRead.status).toBe(404);
      const missing = await api(`/api/v1/notes/${uuidv7()}`, { headers: tenant.members.owner.headers });
      expect(missing.status).toBe(404);
      expect((await problemOf(foreignRead)).detail).toBe((await problemOf(missing)).detail);
    });

    it("refuses staff, caregivers and patients with a 403, audited as access.denied", async () => {
      const note = await writeNote(tenant.members.clinician, patientId);
      for (const role of ["staff", "caregiver", "patient"] as const) {
        const response = await api(`/api/v1/notes/${note.id}`, { headers: tenant.members[role].headers });
        expect(response.status).toBe(403);
        const [audit] = await auditRowsOf(response, tenant.organizationId);
        expect(audit?.action).toBe("access.denied");
        const listed = await api(`/api/v1/patients/${patientId}/notes`, { headers: tenant.members[role].headers });
        expect(listed.status).toBe(403);
      }
    });

    it("rejects a malformed id with a 422", async () => {
      expect((await api("/api/v1/notes/not-an-id", { headers: tenant.members.owner.headers })).status).toBe(422);
    });

    it("lists a patient's notes newest first with a keyset cursor, filtered by status, and audits the ids returned", async () => {
      const local = await insertPatient(tenant, { careTeam: [{ userId: tenant.members.clinician.id }] });
      const a = await writeNote(tenant.members.clinician, local);
      const b = await signed(tenant.members.clinician, local);
      const c = await writeNote(tenant.members.clinician, local);
      const first = await api(`/api/v1/patients/${local}/notes?limit=2`, { headers: tenant.members.clinician.headers });
      expect(first.status).toBe(200);
      const page1 = (await first.json()) as { data: Note[]; nextCursor: string | null };
      expect(page1.data.map((note) => note.id)).toEqual([c.id, b.id]);
      const [audit] = await auditRowsOf(first, tenant.organizationId);
      expect(audit).toMatchObject({ action: "note.listed", patientIds: [local] });
      expect(audit?.metadata).toMatchObject({ noteIds: [c.id, b.id] });
      const second = await api(`/api/v1/patients/${local}/notes?limit=2&cursor=${page1.nextCursor}`, { headers: tenant.members.clinician.headers });
      const page2 = (await second.json()) as { data: Note[]; nextCursor: string | null };
      expect(page2.data.map((note) => note.id)).toEqual([a.id]);
      expect(page2.nextCursor).toBeNull();
      const onlySigned = (await (await api(`/api/v1/patients/${local}/notes?status=signed`, { headers: tenant.members.owner.headers })).json()) as { data: Note[] };
      expect(onlySigned.data.map((note) => note.id)).toEqual([b.id]);
      expect((await api(`/api/v1/patients/${local}/notes?cursor=abc`, { headers: tenant.members.owner.headers })).status).toBe(422);
      expect((await api(`/api/v1/patients/${local}/notes?status=deleted`, { headers: tenant.members.owner.headers })).status).toBe(422);
    });

    it("answers 404 for the notes of a patient out of reach or of another tenant", async () => {
      expect((await api(`/api/v1/patients/${patientId}/notes`, { headers: outsider.headers })).status).toBe(404);
      expect((await api(`/api/v1/patients/${foreignPatientId}/notes`, { headers: tenant.members.owner.headers })).status).toBe(404);
      expect((await api(`/api/v1/patients/${uuidv7()}/notes`, { headers: tenant.members.owner.headers })).status).toBe(404);
    });
  });

  describe("PATCH /notes/{id}", () => {
    it("lets the author edit a draft with If-Match, bumping the version", async () => {
      const note = await writeNote(tenant.members.clinician, patientId);
      const body = { format: "dap", content: { data: "Rewritten as DAP." } };
      const response = await api(`/api/v1/notes/${note.id}`, patch(body, { ...tenant.members.clinician.headers, "If-Match": '"1"' }));
      expect(response.status).toBe(200);
      expect(response.headers.get("ETag")).toBe('"2"');
      const updated = (await response.json()) as Note;
      expect(updated).toMatchObject({ version: 2, format: "dap", content: { data: "Rewritten as DAP.", assessment: "", plan: "" } });
      const [audit] = await auditRowsOf(response, tenant.organizationId);
      expect(audit).toMatchObject({ action: "note.updated", targetId: note.id, patientIds: [patientId] });
    });

    it("links and unlinks an appointment, and refuses another patient's", async () => {
      const note = await writeNote(tenant.members.clinician, patientId);
      const appointmentId = await insertAppointment(tenant, patientId, tenant.members.clinician.id, 5);
      const headers = tenant.members.clinician.headers;
      const linked = await api(`/api/v1/notes/${note.id}`, patch({ ...SOAP, appointmentId }, { ...headers, "If-Match": '"1"' }));
      expect(((await linked.json()) as Note).appointmentId).toBe(appointmentId);
      const kept = await api(`/api/v1/notes/${note.id}`, patch(SOAP, { ...headers, "If-Match": '"2"' }));
      expect(((await kept.json()) as Note).appointmentId).toBe(appointmentId);
      const unlinked = await api(`/api/v1/notes/${note.id}`, patch({ ...SOAP, appointmentId: null }, { ...headers, "If-Match": '"3"' }));
      expect(((await unlinked.json()) as Note).appointmentId).toBeNull();
      const others = await insertAppointment(tenant, otherPatientId, tenant.members.clinician.id, 6);
      const refused = await api(`/api/v1/notes/${note.id}`, patch({ ...SOAP, appointmentId: others }, { ...headers, "If-Match": '"4"' }));
      expect(refused.status).toBe(422);
      expect((await problemOf(refused)).errors).toEqual([expect.objectContaining({ path: "body.appointmentId" })]);
    });

    it("answers 428 without If-Match and 412 when it is stale", async () => {
      const note = await writeNote(tenant.members.clinician, patientId);
      const missing = await api(`/api/v1/notes/${note.id}`, patch(SOAP, tenant.members.clinician.headers));
      expect(missing.status).toBe(428);
      const stale = await api(`/api/v1/notes/${note.id}`, patch(SOAP, { ...tenant.members.clinician.headers, "If-Match": '"7"' }));
      expect(stale.status).toBe(412);
      const garbage = await api(`/api/v1/notes/${note.id}`, patch(SOAP, { ...tenant.members.clinician.headers, "If-Match": "soon" }));
      expect(garbage.status).toBe(412);
    });

    it("refuses another clinician on the care team and an admin with a 403 (author only), and hides the note from outsiders (404)", async () => {
      const note = await writeNote(tenant.members.clinician, patientId);
      for (const member of [colleague, tenant.members.admin, tenant.members.owner]) {
        const response = await api(`/api/v1/notes/${note.id}`, patch(SOAP, { ...member.headers, "If-Match": '"1"' }));
        expect(response.status).toBe(403);
      }
      const hidden = await api(`/api/v1/notes/${note.id}`, patch(SOAP, { ...outsider.headers, "If-Match": '"1"' }));
      expect(hidden.status).toBe(404);
      const foreignTry = await api(`/api/v1/notes/${note.id}`, patch(SOAP, { ...foreign.members.owner.headers, "If-Match": '"1"' }));
      expect(foreignTry.status).toBe(404);
      const staff = await api(`/api/v1/notes/${note.id}`, patch(SOAP, { ...tenant.members.staff.headers, "If-Match": '"1"' }));
      expect(staff.status).toBe(403);
      const unchanged = (await (await api(`/api/v1/notes/${note.id}`, { headers: tenant.members.owner.headers })).json()) as Note;
      expect(unchanged.version).toBe(1);
    });

    it("refuses an edit of a signed note with a 409 naming its status", async () => {
      const note = await signed(tenant.members.clinician, patientId);
      const response = await api(`/api/v1/notes/${note.id}`, patch(SOAP, { ...tenant.members.clinician.headers, "If-Match": `"${note.version}"` }));
      expect(response.status).toBe(409);
      expect((await problemOf(response)).detail).toMatch(/signed/);
    });

    it("refuses a bad body with a 422", async () => {
      const note = await writeNote(tenant.members.clinician, patientId);
      const response = await api(`/api/v1/notes/${note.id}`, patch({ format: "soap", content: {} }, { ...tenant.members.clinician.headers, "If-Match": '"1"' }));
      expect(response.status).toBe(422);
    });
  });

  describe("POST /notes/{id}/sign", () => {
    it("signs the author's draft: signer, time, the canonical content's SHA-256, a note.signed event and an audit row", async () => {
      const appointmentId = await insertAppointment(tenant, patientId, tenant.members.clinician.id, 8);
      const draft = await writeNote(tenant.members.clinician, patientId, { ...SOAP, appointmentId });
      const response = await api(`/api/v1/notes/${draft.id}/sign`, { method: "POST", headers: tenant.members.clinician.headers });
      expect(response.status).toBe(200);
      const note = (await response.json()) as Note;
      expect(note).toMatchObject({ status: "signed", signedBy: tenant.members.clinician.id, version: 2 });
      expect(note.signedAt).not.toBeNull();
      const expected = await noteContentHash({ appointmentId, authorId: draft.authorId, content: draft.content, format: "soap", patientId });
      expect(note.contentHash).toBe(expected);
      const requestId = response.headers.get("X-Request-ID") ?? "";
      const events = await testDb().select().from(domainEvents).where(eq(domainEvents.requestId, requestId));
      expect(events).toEqual([expect.objectContaining({ type: "note.signed", subjectType: "note", subjectId: draft.id, organizationId: tenant.organizationId })]);
      expect(events[0]?.payload).toEqual({ noteId: draft.id, patientId, authorId: tenant.members.clinician.id, status: "signed" });
      const [audit] = await auditRowsOf(response, tenant.organizationId);
      expect(audit).toMatchObject({ action: "note.signed", targetId: draft.id, patientIds: [patientId] });
    });

    it("answers 409 to a second signature and 403 to anyone but the author", async () => {
      const draft = await writeNote(tenant.members.clinician, patientId);
      for (const member of [colleague, tenant.members.owner]) {
        const response = await api(`/api/v1/notes/${draft.id}/sign`, { method: "POST", headers: member.headers });
        expect(response.status).toBe(403);
      }
      expect((await api(`/api/v1/notes/${draft.id}/sign`, { method: "POST", headers: tenant.members.clinician.headers })).status).toBe(200);
      const again = await api(`/api/v1/notes/${draft.id}/sign`, { method: "POST", headers: tenant.members.clinician.headers });
      expect(again.status).toBe(409);
      expect((await problemOf(again)).detail).toMatch(/signed/);
    });

    it("answers 404 out of reach, in another tenant or missing, 403 to staff, 422 to a bad id", async () => {
      const draft = await writeNote(tenant.members.clinician, patientId);
      expect((await api(`/api/v1/notes/${draft.id}/sign`, { method: "POST", headers: outsider.headers })).status).toBe(404);
      expect((await api(`/api/v1/notes/${draft.id}/sign`, { method: "POST", headers: foreign.members.clinician.headers })).status).toBe(404);
      expect((await api(`/api/v1/notes/${uuidv7()}/sign`, { method: "POST", headers: tenant.members.clinician.headers })).status).toBe(404);
      expect((await api(`/api/v1/notes/${draft.id}/sign`, { method: "POST", headers: tenant.members.staff.headers })).status).toBe(403);
      expect((await api("/api/v1/notes/x/sign", { method: "POST", headers: tenant.members.clinician.headers })).status).toBe(422);
    });
  });

  describe("POST /notes/{id}/addenda", () => {
    it("appends signed addenda by reachable clinicians and owners; GET returns them in order", async () => {
      const note = await signed(tenant.members.clinician, patientId);
      const first = await api(`/api/v1/notes/${note.id}/addenda`, jsonBody({ body: "Correction: slept 6h." }, colleague.headers));
      expect(first.status).toBe(201);
      const addendum = (await first.json()) as { id: string; noteId: string; authorId: string; contentHash: string; signedAt: string };
      expect(addendum).toMatchObject({ noteId: note.id, authorId: colleague.id });
      expect(addendum.contentHash).toMatch(/^[0-9a-f]{64}$/);
      const [audit] = await auditRowsOf(first, tenant.organizationId);
      expect(audit).toMatchObject({ action: "note.addendum_added", targetId: note.id, patientIds: [patientId] });
      const second = await api(`/api/v1/notes/${note.id}/addenda`, jsonBody({ body: "Reviewed." }, tenant.members.owner.headers));
      expect(second.status).toBe(201);
      const read = (await (await api(`/api/v1/notes/${note.id}`, { headers: tenant.members.clinician.headers })).json()) as Note;
      expect(read.addenda.map((entry) => entry.body)).toEqual(["Correction: slept 6h.", "Reviewed."]);
      expect(read.version).toBe(note.version);
    });

    it("answers 409 on a draft, 404 out of reach, 403 to staff, 422 to an empty body", async () => {
      const draft = await writeNote(tenant.members.clinician, patientId);
      const onDraft = await api(`/api/v1/notes/${draft.id}/addenda`, jsonBody({ body: "Too early." }, tenant.members.clinician.headers));
      expect(onDraft.status).toBe(409);
      expect((await problemOf(onDraft)).detail).toMatch(/draft/);
      const note = await signed(tenant.members.clinician, patientId);
      expect((await api(`/api/v1/notes/${note.id}/addenda`, jsonBody({ body: "x" }, outsider.headers))).status).toBe(404);
      expect((await api(`/api/v1/notes/${note.id}/addenda`, jsonBody({ body: "x" }, foreign.members.owner.headers))).status).toBe(404);
      expect((await api(`/api/v1/notes/${note.id}/addenda`, jsonBody({ body: "x" }, tenant.members.staff.headers))).status).toBe(403);
      expect((await api(`/api/v1/notes/${note.id}/addenda`, jsonBody({ body: "x" }, tenant.members.caregiver.headers))).status).toBe(403);
      expect((await api(`/api/v1/notes/${note.id}/addenda`, jsonBody({ body: "   " }, tenant.members.clinician.headers))).status).toBe(422);
      expect((await api(`/api/v1/notes/${note.id}/addenda`, jsonBody({ body: "x", extra: 1 }, tenant.members.clinician.headers))).status).toBe(422);
    });
  });

  it("answers every route in one SQL round trip, its audit row (and outbox row) included, a 404 too", async () => {
    const { headers } = tenant.members.clinician;
    const created = await api(`/api/v1/patients/${patientId}/notes`, jsonBody(SOAP, headers));
    const { id } = (await created.json()) as Note;
    const responses = {
      create: created,
      list: await api(`/api/v1/patients/${patientId}/notes`, { headers }),
      read: await api(`/api/v1/notes/${id}`, { headers }),
      patch: await api(`/api/v1/notes/${id}`, patch(SOAP, { ...headers, "If-Match": '"1"' })),
      sign: await api(`/api/v1/notes/${id}/sign`, { method: "POST", headers }),
      addendum: await api(`/api/v1/notes/${id}/addenda`, jsonBody({ body: "One trip." }, headers)),
      search: await api("/api/v1/notes/search?q=sleep", { headers }),
      missing: await api(`/api/v1/notes/${uuidv7()}`, { headers }),
      signedPatch: await api(`/api/v1/notes/${id}`, patch(SOAP, { ...headers, "If-Match": '"3"' })),
    };
    const trips = Object.fromEntries(Object.entries(responses).map(([name, response]) => [name, roundTrips(response)]));
    expect(trips).toEqual({ create: 1, list: 1, read: 1, patch: 1, sign: 1, addendum: 1, search: 1, missing: 1, signedPatch: 1 });
  });

  describe("the role, relationship and tenancy matrix", () => {
    type Caller = "owner" | "admin" | "careClinician" | "offTeamClinician" | "staff" | "caregiver" | "patient" | "foreignOwner" | "foreignClinician" | "notesKey" | "patientsKey";
    const CALLERS: Caller[] = ["owner", "admin", "careClinician", "offTeamClinician", "staff", "caregiver", "patient", "foreignOwner", "foreignClinician", "notesKey", "patientsKey"];
    let headersOf: Record<Caller, Record<string, string>>;
    let signedNote: Note;
    let draft: Note;
    const word = `zqmatrix${crypto.randomUUID().replace(/[^a-f]/g, "").slice(0, 8)}`;

    beforeAll(async () => {
      const patientsKey = await api("/api/v1/api-keys", jsonBody({ name: "patients key", scopes: ["patients:read"] }, tenant.members.owner.headers));
      headersOf = {
        owner: tenant.members.owner.headers,
        admin: tenant.members.admin.headers,
        careClinician: tenant.members.clinician.headers,
        offTeamClinician: outsider.headers,
        staff: tenant.members.staff.headers,
        caregiver: tenant.members.caregiver.headers,
        patient: tenant.members.patient.headers,
        foreignOwner: foreign.members.owner.headers,
        foreignClinician: foreign.members.clinician.headers,
        notesKey: { "X-API-Key": noteKey },
        patientsKey: { "X-API-Key": ((await patientsKey.json()) as { key: string }).key },
      };
      signedNote = await signed(tenant.members.clinician, patientId, { format: "free", content: { text: `Matrix ${word}` } });
      draft = await writeNote(tenant.members.clinician, patientId);
    });

    const expectStatuses = async (request: (caller: Caller) => Promise<Response>, expected: Record<Caller, number>) => {
      const got: Partial<Record<Caller, number>> = {};
      for (const caller of CALLERS) got[caller] = (await request(caller)).status;
      expect(got).toEqual(expected);
    };

    const READ = { owner: 200, admin: 200, careClinician: 200, offTeamClinician: 404, staff: 403, caregiver: 403, patient: 403, foreignOwner: 404, foreignClinician: 404, notesKey: 200, patientsKey: 403 };

    it("GET /notes/{id}", async () => {
      await expectStatuses((caller) => api(`/api/v1/notes/${signedNote.id}`, { headers: headersOf[caller] }), READ);
    });

    it("GET /patients/{id}/notes", async () => {
      await expectStatuses((caller) => api(`/api/v1/patients/${patientId}/notes`, { headers: headersOf[caller] }), READ);
    });

    it("GET /notes/search: the note is found by those who may read it, and by nobody else", async () => {
      const found: Partial<Record<Caller, number | string>> = {};
      for (const caller of CALLERS) {
        const response = await api(`/api/v1/notes/search?q=${word}`, { headers: headersOf[caller] });
        found[caller] = response.status === 200 ? ((await response.json()) as { data: unknown[] }).data.length : `status ${response.status}`;
      }
      expect(found).toEqual({
        owner: 1,
        admin: 1,
        careClinician: 1,
        offTeamClinician: 0,
        staff: "status 403",
        caregiver: "status 403",
        patient: "status 403",
        foreignOwner: 0,
        foreignClinician: 0,
        notesKey: 1,
        patientsKey: "status 403",
      });
    });

    it("POST /patients/{id}/notes", async () => {
      await expectStatuses((caller) => api(`/api/v1/patients/${patientId}/notes`, jsonBody(SOAP, headersOf[caller])), {
        ...READ,
        owner: 201,
        admin: 201,
        careClinician: 201,
        notesKey: 403,
      });
    });

    it("POST /notes/{id}/addenda", async () => {
      await expectStatuses((caller) => api(`/api/v1/notes/${signedNote.id}/addenda`, jsonBody({ body: "Matrix addendum." }, headersOf[caller])), {
        ...READ,
        owner: 201,
        admin: 201,
        careClinician: 201,
        notesKey: 403,
      });
    });

    it("PATCH /notes/{id} and POST /notes/{id}/sign: the author only", async () => {
      const notAuthor = { ...READ, owner: 403, admin: 403, careClinician: 200, notesKey: 403 };
      const others = CALLERS.filter((caller) => caller !== "careClinician");
      for (const caller of others) {
        const response = await api(`/api/v1/notes/${draft.id}`, patch(SOAP, { ...headersOf[caller], "If-Match": '"1"' }));
        expect([caller, response.status]).toEqual([caller, notAuthor[caller]]);
        const sign = await api(`/api/v1/notes/${draft.id}/sign`, { method: "POST", headers: headersOf[caller] });
        expect([caller, sign.status]).toEqual([caller, notAuthor[caller]]);
      }
      expect((await api(`/api/v1/notes/${draft.id}`, patch(SOAP, { ...headersOf.careClinician, "If-Match": '"1"' }))).status).toBe(200);
      expect((await api(`/api/v1/notes/${draft.id}/sign`, { method: "POST", headers: headersOf.careClinician })).status).toBe(200);
    });
  });
});
