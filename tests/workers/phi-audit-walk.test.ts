import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, jsonBody, type Member, type Tenant } from "./fixtures.ts";
import { api, testDb } from "./helpers.ts";

/**
 * A walk over every patient-data operation (those the document marks `x-tend-phi`): each is
 * called once, in an order that builds what the next needs, and each call's audit row must carry
 * the request's X-Request-ID (and name the patient where there is one). A new patient-data route
 * the walk does not call fails the coverage test below, so nobody can add one unaudited.
 */

interface Step {
  operationId: string;
  /** The call; answers its response. */
  run(): Promise<Response>;
  status: number;
  /** The patient the audit row must name, when the operation concerns one. */
  patient?: () => string;
}

interface WalkResult {
  operationId: string;
  status: number;
  requestId: string;
  patient: string | undefined;
}

const HOUR = 3_600_000;

let tenant: Tenant;
let owner: Member;
let clinician: Member;
const state = { patientId: "", appointmentId: "", spareAppointmentIds: [] as string[], noteId: "", scheduleId: "", reminderId: "", alertId: "" };
const results: WalkResult[] = [];

const get = (path: string, member: Member = owner) => api(`/api/v1${path}`, { headers: member.headers });
const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}, member: Member = owner) =>
  api(`/api/v1${path}`, jsonBody(body, { ...member.headers, ...headers }, method));
const post = (path: string, body: unknown = {}, headers: Record<string, string> = {}, member: Member = owner) => send("POST", path, body, headers, member);
const remove = (path: string) => api(`/api/v1${path}`, { method: "DELETE", headers: owner.headers });

/** Three future one-hour slots a day apart, in the small hours (no working hours are set). */
const slot = (index: number) => {
  const start = new Date(Date.UTC(2031, 0, 6 + index, 3, 0, 0));
  return { startsAt: start.toISOString(), endsAt: new Date(start.getTime() + HOUR).toISOString() };
};

const booking = (index: number) => ({
  patientId: state.patientId,
  clinicianId: clinician.id,
  ...slot(index),
  kind: "telehealth",
  videoUrl: "https://video.example.test/room",
});

async function idOf(response: Response, into: (id: string) => void): Promise<Response> {
  const copy = response.clone();
  if (copy.ok) into(((await copy.json()) as { id: string }).id);
  return response;
}

const patient = () => state.patientId;

const STEPS: Step[] = [
  { operationId: "createPatient", status: 201, run: async () => idOf(await post("/patients", { name: "Walk Through" }), (id) => (state.patientId = id)), patient },
  { operationId: "getPatient", status: 200, run: () => get(`/patients/${state.patientId}`), patient },
  { operationId: "listPatients", status: 200, run: () => get("/patients?limit=10"), patient },
  { operationId: "updatePatient", status: 200, run: () => send("PATCH", `/patients/${state.patientId}`, { preferredName: "Walker" }, { "If-Match": '"1"' }), patient },
  { operationId: "listCareTeam", status: 200, run: () => get(`/patients/${state.patientId}/care-team`), patient },
  {
    operationId: "addCareTeamMember",
    status: 201,
    run: () => post(`/patients/${state.patientId}/care-team`, { userId: clinician.id, relationship: "therapist", isPrimary: true }),
    patient,
  },
  {
    operationId: "createAppointment",
    status: 201,
    run: async () => {
      for (const index of [1, 2]) {
        const spare = await post("/appointments", booking(index));
        expect(spare.status).toBe(201);
        state.spareAppointmentIds.push(((await spare.json()) as { id: string }).id);
      }
      return idOf(await post("/appointments", booking(0)), (id) => (state.appointmentId = id));
    },
    patient,
  },
  { operationId: "getAppointment", status: 200, run: () => get(`/appointments/${state.appointmentId}`), patient },
  { operationId: "listAppointments", status: 200, run: () => get(`/appointments?patientId=${state.patientId}`), patient },
  { operationId: "updateAppointment", status: 200, run: () => send("PATCH", `/appointments/${state.appointmentId}`, { reason: "Follow-up" }), patient },
  { operationId: "confirmAppointment", status: 200, run: () => post(`/appointments/${state.appointmentId}/confirm`), patient },
  { operationId: "completeAppointment", status: 200, run: () => post(`/appointments/${state.appointmentId}/complete`), patient },
  {
    operationId: "markAppointmentNoShow",
    status: 200,
    run: async () => {
      // scheduled → confirmed → no_show
      expect((await post(`/appointments/${state.spareAppointmentIds[0]}/confirm`)).status).toBe(200);
      return post(`/appointments/${state.spareAppointmentIds[0]}/no-show`);
    },
    patient,
  },
  { operationId: "cancelAppointment", status: 200, run: () => post(`/appointments/${state.spareAppointmentIds[1]}/cancel`, { reason: "Patient asked" }), patient },
  {
    operationId: "createNote",
    status: 201,
    run: async () =>
      idOf(
        await post(`/patients/${state.patientId}/notes`, { format: "free", content: { text: "Walked through the quarterly review." } }, {}, clinician),
        (id) => (state.noteId = id),
      ),
    patient,
  },
  { operationId: "getNote", status: 200, run: () => get(`/notes/${state.noteId}`, clinician), patient },
  { operationId: "listPatientNotes", status: 200, run: () => get(`/patients/${state.patientId}/notes`, clinician), patient },
  {
    operationId: "updateNote",
    status: 200,
    run: () => send("PATCH", `/notes/${state.noteId}`, { format: "free", content: { text: "Walked through the quarterly review, twice." } }, { "If-Match": '"1"' }, clinician),
    patient,
  },
  { operationId: "signNote", status: 200, run: () => post(`/notes/${state.noteId}/sign`, {}, {}, clinician), patient },
  { operationId: "addNoteAddendum", status: 201, run: () => post(`/notes/${state.noteId}/addenda`, { body: "Quarterly review confirmed." }, {}, clinician), patient },
  { operationId: "searchNotes", status: 200, run: () => get("/notes/search?q=quarterly", clinician), patient },
  {
    operationId: "createSchedule",
    status: 201,
    run: async () =>
      idOf(await post(`/patients/${state.patientId}/schedules`, { kind: "medication", title: "Walk tablets", dose: "1 tablet", timesOfDay: ["08:00"] }), (id) => (state.scheduleId = id)),
    patient,
  },
  { operationId: "listPatientSchedules", status: 200, run: () => get(`/patients/${state.patientId}/schedules`), patient },
  { operationId: "updateSchedule", status: 200, run: () => send("PATCH", `/schedules/${state.scheduleId}`, { title: "Evening tablets" }, { "If-Match": '"1"' }), patient },
  {
    operationId: "listReminders",
    status: 200,
    patient,
    run: async () => {
      // The tick's own occurrence, written as the tick would (its timing is tested in reminders-tick).
      const row = await testDb().execute<{ id: string }>(sql`insert into reminders (id, organization_id, patient_id, schedule_id, kind, occurrence_key, due_at)
        values (gen_random_uuid(), ${tenant.organizationId}, ${state.patientId}, ${state.scheduleId}, 'medication', 'schedule:' || ${state.scheduleId} || ':walk', now()) returning id`);
      state.reminderId = row.rows[0]?.id ?? "";
      return get(`/reminders?patientId=${state.patientId}`);
    },
  },
  { operationId: "acknowledgeReminder", status: 200, run: () => post(`/reminders/${state.reminderId}/ack`, { response: "taken" }), patient },
  { operationId: "deleteSchedule", status: 204, run: () => remove(`/schedules/${state.scheduleId}`), patient },
  { operationId: "getDashboard", status: 200, run: () => get("/dashboard") },
  { operationId: "listAuditEvents", status: 200, run: () => get(`/audit-events?patient=${state.patientId}`) },
  { operationId: "exportAuditEvents", status: 200, run: () => get(`/audit-events/export?patient=${state.patientId}`) },
  { operationId: "verifyAuditTrail", status: 200, run: () => get("/audit-events/verify") },
  {
    operationId: "recordHeartbeat",
    status: 200,
    run: async () => {
      const issued = await post("/api-keys", { name: "walk device", scopes: ["heartbeats:write"] });
      const { key } = (await issued.json()) as { key: string };
      return api(`/api/v1/patients/${state.patientId}/heartbeat`, jsonBody({ appVersion: "1.0.0" }, { "X-API-Key": key }));
    },
    patient,
  },
  { operationId: "listPatientActivity", status: 200, run: () => get(`/patients/${state.patientId}/activity`), patient },
  {
    operationId: "createAlert",
    status: 201,
    run: async () => idOf(await post("/alerts", { patientId: state.patientId, severity: "high", message: "Walk-through alert" }), (id) => (state.alertId = id)),
    patient,
  },
  { operationId: "getAlert", status: 200, run: () => get(`/alerts/${state.alertId}`), patient },
  { operationId: "listAlerts", status: 200, run: () => get(`/alerts?patientId=${state.patientId}`), patient },
  { operationId: "acknowledgeAlert", status: 200, run: () => post(`/alerts/${state.alertId}/acknowledge`), patient },
  { operationId: "resolveAlert", status: 200, run: () => post(`/alerts/${state.alertId}/resolve`), patient },
  { operationId: "removeCareTeamMember", status: 204, run: () => remove(`/patients/${state.patientId}/care-team/${clinician.id}`), patient },
  { operationId: "archivePatient", status: 204, run: () => remove(`/patients/${state.patientId}`), patient },
];

beforeAll(async () => {
  tenant = await createTenant("Audit Walk Practice");
  owner = tenant.members.owner;
  clinician = tenant.members.clinician;
  for (const step of STEPS) {
    const response = await step.run();
    const requestId = response.headers.get("X-Request-ID") ?? "";
    await response.arrayBuffer();
    results.push({ operationId: step.operationId, status: response.status, requestId, patient: step.patient?.() });
  }
});

describe("every patient-data route writes its audit row, carrying the request id", () => {
  it("walks every operation the document marks x-tend-phi", async () => {
    const document = (await (await api("/api/v1/openapi.json")).json()) as { paths: Record<string, Record<string, { operationId: string; "x-tend-phi"?: boolean }>> };
    const marked = Object.values(document.paths)
      .flatMap((operations) => Object.values(operations))
      .filter((operation) => operation["x-tend-phi"] === true)
      .map((operation) => operation.operationId)
      .sort();
    expect(marked.length).toBeGreaterThan(20);
    expect(STEPS.map((step) => step.operationId).sort()).toEqual(marked);
  });

  it.each(STEPS.map((step) => [step.operationId, step] as const))("%s", async (operationId, step) => {
    const result = results.find((entry) => entry.operationId === operationId);
    expect(result?.status, operationId).toBe(step.status);
    expect(result?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const rows = await testDb().execute<{ action: string; patient_ids: string[] | string; organization_id: string | null }>(
      sql`select action, patient_ids::text[] as patient_ids, organization_id from audit_events where request_id = ${result?.requestId ?? ""}`,
    );
    expect(rows.rows.length, `${operationId}: an audit row with the request id`).toBeGreaterThan(0);
    expect(rows.rows.every((row) => row.organization_id === tenant.organizationId)).toBe(true);
    if (result?.patient) {
      const named = rows.rows.some((row) => (Array.isArray(row.patient_ids) ? row.patient_ids : String(row.patient_ids)).includes(result.patient ?? "?"));
      expect(named, `${operationId}: the audit row names the patient`).toBe(true);
    }
  });
});

/** The audit rows of one response's request. */
async function auditOf(response: Response) {
  const requestId = response.headers.get("X-Request-ID") ?? "";
  await response.arrayBuffer();
  const rows = await testDb().execute<{ action: string; metadata: Record<string, unknown> }>(
    sql`select action, metadata from audit_events where request_id = ${requestId}`,
  );
  return rows.rows;
}

describe("refused attempts at patient data are audited too", () => {

  it.each([
    ["getPatient", () => `/patients/${state.patientId}`],
    ["listCareTeam", () => `/patients/${state.patientId}/care-team`],
    ["getAppointment", () => `/appointments/${state.appointmentId}`],
    ["listPatientNotes", () => `/patients/${state.patientId}/notes`],
    ["getNote", () => `/notes/${state.noteId}`],
  ])("%s with another organization's id: 404, and the attempt is on record", async (_operationId, path) => {
    const foreign = await createTenant("Prying Practice");
    const response = await get(path(), foreign.members.owner);
    expect(response.status).toBe(404);
    const rows = await auditOf(response);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((row) => row.metadata.outcome === "not_found" || row.metadata.outcome === "denied")).toBe(true);
  });

  it("a role that may not read notes (front desk) gets 403, recorded as access.denied", async () => {
    const response = await get(`/notes/${state.noteId}`, tenant.members.staff);
    expect(response.status).toBe(403);
    const rows = await auditOf(response);
    expect(rows.map((row) => row.action)).toEqual(["access.denied"]);
  });
});
