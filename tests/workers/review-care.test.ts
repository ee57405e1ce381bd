import { and, eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { alerts, auditEvents, reminders, schedules } from "#src/db/schema/index.ts";
import { encodeCursor } from "#src/lib/cursor.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { addMember, insertCaredPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, patch, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

/**
 * Security review of the care loop (issue 8): schedules, reminders, heartbeats and activity,
 * alerts, the in-app inbox, push devices, attacked from another organization and by each
 * low-privilege role or relationship (staff, a caregiver off the care team, another patient, a
 * narrowly scoped API key), and with hostile input. Every answer asserted exactly.
 */

type Headers = { headers: Record<string, string> };
const get = (path: string, who: Headers) => api(path, { headers: who.headers });
const post = (path: string, who: Headers, body?: unknown) => api(path, body === undefined ? { method: "POST", headers: who.headers } : jsonBody(body, who.headers));

/** A problem+json answer with this status, naming `field` when given. */
async function expectProblem(response: Response, status: number, field?: string) {
  const text = await response.clone().text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get("Content-Type") ?? "").toContain("application/problem+json");
  const problem = await problemOf(response);
  if (field) expect(JSON.stringify(problem), text).toContain(field);
  return problem;
}

let a: Tenant;
let b: Tenant;
let patientA: string;
let patientB: string;
let outsider: Member;
let scheduleA: string;
let scheduleB: string;
let reminderA: string;
let reminderB: string;
let alertA: string;
let alertB: string;

async function insertReminder(tenant: Tenant, patientId: string, scheduleId: string, status = "pending") {
  const id = uuidv7();
  const due = new Date(Date.UTC(2030, 0, 1, 8, 0) + Math.floor(Math.random() * 1e9));
  await testDb()
    .insert(reminders)
    .values({
      id,
      organizationId: tenant.organizationId,
      patientId,
      scheduleId,
      kind: "medication",
      occurrenceKey: `schedule:${scheduleId}:${id}`,
      dueAt: due,
      missedAfter: new Date(due.getTime() + 3_600_000),
      status,
    } as typeof reminders.$inferInsert);
  return id;
}

async function insertAlert(tenant: Tenant, patientId: string) {
  const id = uuidv7();
  await testDb()
    .insert(alerts)
    .values({ id, organizationId: tenant.organizationId, patientId, type: "manual", severity: "high", status: "open", message: "Fell in the garden" } as typeof alerts.$inferInsert);
  return id;
}

async function createSchedule(tenant: Tenant, patientId: string) {
  const response = await post(`/api/v1/patients/${patientId}/schedules`, tenant.members.clinician, { kind: "medication", title: "Tablets", dose: "5 mg", timesOfDay: ["08:00"] });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

beforeAll(async () => {
  [a, b] = await Promise.all([createTenant("Review Care A"), createTenant("Review Care B")]);
  [patientA, patientB] = await Promise.all([insertCaredPatient(a, "Ana Care"), insertCaredPatient(b, "Bea Care")]);
  outsider = await addMember(a, "caregiver", "Off-team Carer");
  [scheduleA, scheduleB] = await Promise.all([createSchedule(a, patientA), createSchedule(b, patientB)]);
  [reminderA, reminderB] = await Promise.all([insertReminder(a, patientA, scheduleA), insertReminder(b, patientB, scheduleB)]);
  [alertA, alertB] = await Promise.all([insertAlert(a, patientA), insertAlert(b, patientB)]);
});

describe("another organization's ids are out of reach (404), and nothing is written", () => {
  it("schedules: list, create, patch and delete on org B's patient or schedule", async () => {
    const owner = a.members.owner;
    await expectProblem(await get(`/api/v1/patients/${patientB}/schedules`, owner), 404);
    await expectProblem(await post(`/api/v1/patients/${patientB}/schedules`, owner, { kind: "exercise", title: "Walk", timesOfDay: ["09:00"] }), 404);
    await expectProblem(await api(`/api/v1/schedules/${scheduleB}`, patch({ title: "Mine now" }, { ...owner.headers, "If-Match": '"1"' })), 404);
    await expectProblem(await api(`/api/v1/schedules/${scheduleB}`, { method: "DELETE", headers: owner.headers }), 404);
    const [row] = await testDb().select().from(schedules).where(eq(schedules.id, scheduleB));
    expect(row?.title).toBe("Tablets");
    expect(row?.deletedAt).toBeNull();
    const created = await testDb().select().from(schedules).where(and(eq(schedules.patientId, patientB), eq(schedules.organizationId, a.organizationId)));
    expect(created).toHaveLength(0);
  });

  it("reminders: org B's patientId filters to nothing; acknowledging org B's reminder is a 404", async () => {
    const response = await get(`/api/v1/reminders?patientId=${patientB}`, a.members.owner);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: unknown[] }).data).toEqual([]);
    await expectProblem(await post(`/api/v1/reminders/${reminderB}/ack`, a.members.owner, { response: "taken" }), 404);
    const [row] = await testDb().select().from(reminders).where(eq(reminders.id, reminderB));
    expect(row?.status).toBe("pending");
  });

  it("alerts: read, list filter, create, acknowledge and resolve across organizations", async () => {
    const owner = a.members.owner;
    await expectProblem(await get(`/api/v1/alerts/${alertB}`, owner), 404);
    const listed = await get(`/api/v1/alerts?patientId=${patientB}`, owner);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { data: unknown[] }).data).toEqual([]);
    await expectProblem(await post("/api/v1/alerts", owner, { patientId: patientB, severity: "low", message: "x" }), 404);
    await expectProblem(await post(`/api/v1/alerts/${alertB}/acknowledge`, owner), 404);
    await expectProblem(await post(`/api/v1/alerts/${alertB}/resolve`, owner), 404);
    const [row] = await testDb().select().from(alerts).where(eq(alerts.id, alertB));
    expect(row?.status).toBe("open");
    expect(await testDb().select().from(alerts).where(and(eq(alerts.patientId, patientB), eq(alerts.organizationId, a.organizationId)))).toHaveLength(0);
  });

  it("activity and heartbeat: org B's patient is a 404, for a member and for a key with heartbeats:write", async () => {
    await expectProblem(await get(`/api/v1/patients/${patientB}/activity`, a.members.owner), 404);
    const keyResponse = await post("/api/v1/api-keys", a.members.admin, { name: "device", scopes: ["heartbeats:write"] });
    expect(keyResponse.status).toBe(201);
    const key = { headers: { "X-API-Key": ((await keyResponse.json()) as { key: string }).key } };
    await expectProblem(await post(`/api/v1/patients/${patientB}/heartbeat`, key, {}), 404);
    await expectProblem(await post(`/api/v1/patients/${patientB}/heartbeat`, a.members.patient, {}), 404);
    const ok = await post(`/api/v1/patients/${patientA}/heartbeat`, key, {});
    expect(ok.status, await ok.clone().text()).toBe(200);
  });

  it("a heartbeat naming org B's reminder is a 422 on the field and writes nothing", async () => {
    const response = await post(`/api/v1/patients/${patientA}/heartbeat`, a.members.patient, {
      events: [{ type: "reminder_interaction", at: new Date().toISOString(), reminderId: reminderB }],
    });
    await expectProblem(response, 422, "body.events.0.reminderId");
  });

  it("audits the refused PHI reads and writes", async () => {
    const requests = [
      await get(`/api/v1/patients/${patientB}/schedules`, a.members.admin),
      await post(`/api/v1/reminders/${reminderB}/ack`, a.members.admin, { response: "skipped" }),
      await get(`/api/v1/alerts/${alertB}`, a.members.admin),
    ];
    for (const response of requests) expect(response.status).toBe(404);
    const rows = await testDb()
      .select({ action: auditEvents.action })
      .from(auditEvents)
      .where(and(eq(auditEvents.actorUserId, a.members.admin.id), eq(auditEvents.organizationId, a.organizationId)));
    const actions = rows.map((row) => row.action);
    expect(actions).toEqual(expect.arrayContaining(["schedule.listed", "reminder.acknowledged", "alert.read"]));
  });
});

describe("who sees what inside the organization", () => {
  it("staff get nothing of the care loop (403)", async () => {
    const staff = a.members.staff;
    await expectProblem(await get(`/api/v1/patients/${patientA}/schedules`, staff), 403);
    await expectProblem(await get("/api/v1/reminders", staff), 403);
    await expectProblem(await get("/api/v1/alerts", staff), 403);
    await expectProblem(await get(`/api/v1/alerts/${alertA}`, staff), 403);
    await expectProblem(await get(`/api/v1/patients/${patientA}/activity`, staff), 403);
    await expectProblem(await post(`/api/v1/reminders/${reminderA}/ack`, staff, { response: "taken" }), 403);
    await expectProblem(await post(`/api/v1/alerts/${alertA}/acknowledge`, staff), 403);
    await expectProblem(await post("/api/v1/alerts", staff, { patientId: patientA, severity: "low", message: "x" }), 403);
    await expectProblem(await post(`/api/v1/patients/${patientA}/heartbeat`, staff, {}), 403);
  });

  it("a caregiver off the care team reaches none of the patient's care loop (404), lists nothing", async () => {
    await expectProblem(await get(`/api/v1/patients/${patientA}/schedules`, outsider), 404);
    await expectProblem(await get(`/api/v1/patients/${patientA}/activity`, outsider), 404);
    await expectProblem(await post(`/api/v1/reminders/${reminderA}/ack`, outsider, { response: "taken" }), 404);
    await expectProblem(await get(`/api/v1/alerts/${alertA}`, outsider), 404);
    await expectProblem(await post(`/api/v1/alerts/${alertA}/acknowledge`, outsider), 404);
    await expectProblem(await post("/api/v1/alerts", outsider, { patientId: patientA, severity: "low", message: "x" }), 404);
    for (const path of ["/api/v1/reminders", "/api/v1/alerts", `/api/v1/alerts?patientId=${patientA}`, `/api/v1/reminders?patientId=${patientA}`]) {
      const response = await get(path, outsider);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: unknown[] }).data).toEqual([]);
    }
  });

  it("caregivers on the team read schedules but do not write them (403)", async () => {
    const caregiver = a.members.caregiver;
    expect((await get(`/api/v1/patients/${patientA}/schedules`, caregiver)).status).toBe(200);
    await expectProblem(await post(`/api/v1/patients/${patientA}/schedules`, caregiver, { kind: "exercise", title: "Walk", timesOfDay: ["09:00"] }), 403);
    await expectProblem(await api(`/api/v1/schedules/${scheduleA}`, patch({ title: "x" }, { ...caregiver.headers, "If-Match": '"1"' })), 403);
    await expectProblem(await api(`/api/v1/schedules/${scheduleA}`, { method: "DELETE", headers: caregiver.headers }), 403);
  });

  it("a patient reads their own, never writes schedules or alerts, and reaches no other patient's", async () => {
    const patient = a.members.patient;
    const other = await addMember(a, "patient", "Other Patient");
    expect((await get(`/api/v1/patients/${patientA}/schedules`, patient)).status).toBe(200);
    await expectProblem(await get(`/api/v1/patients/${patientA}/schedules`, other), 404);
    await expectProblem(await post(`/api/v1/reminders/${reminderA}/ack`, other, { response: "taken" }), 404);
    await expectProblem(await get(`/api/v1/alerts/${alertA}`, other), 404);
    await expectProblem(await post(`/api/v1/patients/${patientA}/heartbeat`, other, {}), 404);
    await expectProblem(await post(`/api/v1/alerts/${alertA}/acknowledge`, patient), 403);
    await expectProblem(await post(`/api/v1/alerts/${alertA}/resolve`, patient), 403);
    await expectProblem(await post(`/api/v1/patients/${patientA}/schedules`, patient, { kind: "exercise", title: "Walk", timesOfDay: ["09:00"] }), 403);
  });

  it("heartbeats: a member's session is refused (403), a key without heartbeats:write too", async () => {
    for (const role of ["owner", "admin", "clinician", "caregiver"] as const) {
      await expectProblem(await post(`/api/v1/patients/${patientA}/heartbeat`, a.members[role], {}), 403);
    }
    const keyResponse = await post("/api/v1/api-keys", a.members.admin, { name: "reader", scopes: ["alerts:read", "activity:read"] });
    expect(keyResponse.status).toBe(201);
    const key = { headers: { "X-API-Key": ((await keyResponse.json()) as { key: string }).key } };
    await expectProblem(await post(`/api/v1/patients/${patientA}/heartbeat`, key, {}), 403);
    await expectProblem(await post(`/api/v1/alerts/${alertA}/acknowledge`, key), 403);
    await expectProblem(await get("/api/v1/reminders", key), 403);
  });
});

const year0 = (key: string) => encodeCursor({ [key]: "0000-01-01T00:00:00Z", i: uuidv7() });

describe("forged and hostile cursors are a 422 on query.cursor, never a 500", () => {
  it("schedules, reminders, alerts, activity with a year-0 position", async () => {
    const owner = a.members.owner;
    await expectProblem(await get(`/api/v1/patients/${patientA}/schedules?cursor=${encodeCursor({ c: "0000-01-01T00:00:00Z", i: uuidv7() })}`, owner), 422, "query.cursor");
    await expectProblem(await get(`/api/v1/reminders?cursor=${encodeCursor({ d: "0000-01-01T00:00:00Z", i: uuidv7() })}`, owner), 422, "query.cursor");
    await expectProblem(await get(`/api/v1/alerts?cursor=${year0("c")}`, owner), 422, "query.cursor");
    await expectProblem(await get(`/api/v1/patients/${patientA}/activity?cursor=${year0("o")}`, owner), 422, "query.cursor");
    await expectProblem(await get(`/api/v1/appointments?cursor=${year0("s")}`, owner), 422, "query.cursor");
  });

  it("the inbox, with a position that is no timestamp or no uuid", async () => {
    const owner = a.members.owner;
    for (const position of [["not a time", uuidv7()], ["2026-01-01T00:00:00Z", "------------------------------------"], ["0000-01-01T00:00:00Z", uuidv7()]]) {
      await expectProblem(await get(`/api/v1/notifications?cursor=${encodeCursor(position)}`, owner), 422, "query.cursor");
    }
  });
});

describe("hostile input is a 422 naming the field, nothing written", () => {
  const base = { kind: "exercise", title: "Walk", timesOfDay: ["09:00"] };
  const cases: [string, Record<string, unknown>, string][] = [
    ["24:00", { ...base, timesOfDay: ["24:00"] }, "timesOfDay"],
    ["7:00", { ...base, timesOfDay: ["7:00"] }, "timesOfDay"],
    ["a repeated time", { ...base, timesOfDay: ["09:00", "09:00"] }, "timesOfDay"],
    ["no time", { ...base, timesOfDay: [] }, "timesOfDay"],
    ["25 times", { ...base, timesOfDay: Array.from({ length: 25 }, (_, i) => `${String(i % 24).padStart(2, "0")}:${i >= 24 ? "30" : "00"}`) }, "timesOfDay"],
    ["weekday 0", { ...base, daysOfWeek: [0] }, "daysOfWeek"],
    ["weekday 8", { ...base, daysOfWeek: [8] }, "daysOfWeek"],
    ["weekday 1.5", { ...base, daysOfWeek: [1.5] }, "daysOfWeek"],
    ["weekday as string", { ...base, daysOfWeek: ["1"] }, "daysOfWeek"],
    ["grace 4", { ...base, graceMinutes: 4 }, "graceMinutes"],
    ["grace 1441", { ...base, graceMinutes: 1441 }, "graceMinutes"],
    ["grace huge", { ...base, graceMinutes: 1e300 }, "graceMinutes"],
    ["NUL in title", { ...base, title: "Walk\u0000" }, "title"],
    ["lone surrogate", { ...base, title: "Walk \ud800" }, "title"],
    ["huge title", { ...base, title: "x".repeat(100_000) }, "title"],
    ["dose on exercise", { ...base, dose: "5 mg" }, "dose"],
    ["year 10000", { ...base, startDate: "10000-01-01" }, "startDate"],
    ["year 0", { ...base, startDate: "0000-01-01" }, "startDate"],
    ["Feb 30", { ...base, startDate: "2027-02-30" }, "startDate"],
    ["end before start", { ...base, startDate: "2027-02-02", endDate: "2027-02-01" }, "endDate"],
    ["unknown field", { ...base, patientId: uuidv7() }, "patientId"],
    ["wrong kind", { ...base, kind: "surgery" }, "kind"],
    ["active as string", { ...base, active: "true" }, "active"],
  ];
  it.each(cases)("a schedule with %s", async (_label, body, field) => {
    const before = await testDb().select({ n: sql<number>`count(*)::int` }).from(schedules).where(eq(schedules.patientId, patientA));
    await expectProblem(await post(`/api/v1/patients/${patientA}/schedules`, a.members.owner, body), 422, field);
    const after = await testDb().select({ n: sql<number>`count(*)::int` }).from(schedules).where(eq(schedules.patientId, patientA));
    expect(after[0]?.n).toBe(before[0]?.n);
  });

  it("a body that is no JSON object, or JSON with duplicate keys resolved to a bad value", async () => {
    const owner = a.members.owner;
    const raw = (body: string) => api(`/api/v1/patients/${patientA}/schedules`, { method: "POST", headers: { ...owner.headers, "Content-Type": "application/json" }, body });
    await expectProblem(await raw("[]"), 422);
    await expectProblem(await raw("null"), 422);
    await expectProblem(await raw('{"kind":"exercise","title":"Walk","timesOfDay":["09:00"],"graceMinutes":60,"graceMinutes":0}'), 422, "graceMinutes");
    expect((await raw("{")).status).toBe(400);
  });

  it("timestamps at the extremes in list filters", async () => {
    const owner = a.members.owner;
    for (const value of ["0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "2026-01-01T00:00:00+24:00", "2026-13-01T00:00:00Z", "NaN"]) {
      await expectProblem(await get(`/api/v1/reminders?from=${encodeURIComponent(value)}`, owner), 422, "from");
      await expectProblem(await get(`/api/v1/alerts?to=${encodeURIComponent(value)}`, owner), 422, "to");
      await expectProblem(await get(`/api/v1/patients/${patientA}/activity?from=${encodeURIComponent(value)}`, owner), 422, "from");
    }
    for (const value of ["0001-01-01T00:00:00+15:00", "9999-12-31T23:59:59.999-15:59"]) {
      expect((await get(`/api/v1/reminders?from=${encodeURIComponent(value)}`, owner)).status).toBe(200);
      expect((await get(`/api/v1/alerts?from=${encodeURIComponent(value)}`, owner)).status).toBe(200);
      expect((await get(`/api/v1/patients/${patientA}/activity?to=${encodeURIComponent(value)}`, owner)).status).toBe(200);
    }
  });

  it("heartbeats with bad events", async () => {
    const patient = a.members.patient;
    const now = Date.now();
    const bad: [unknown, string][] = [
      [{ events: [{ type: "app_open", at: "0000-01-01T00:00:00Z" }] }, "events.0.at"],
      [{ events: [{ type: "app_open", at: new Date(now + 3_600_000).toISOString() }] }, "events.0.at"],
      [{ events: [{ type: "app_open", at: new Date(now - 8 * 86_400_000).toISOString() }] }, "events.0.at"],
      [{ events: Array.from({ length: 51 }, () => ({ type: "app_open", at: new Date(now).toISOString() })) }, "events"],
      [{ events: [{ type: "heartbeat", at: new Date(now).toISOString() }] }, "events.0.type"],
      [{ events: [{ type: "battery", at: new Date(now).toISOString(), batteryLevel: 101 }] }, "batteryLevel"],
      [{ batteryLevel: -1 }, "batteryLevel"],
      [{ appVersion: "1.0\u0000" }, "appVersion"],
      [{ appVersion: "x".repeat(65) }, "appVersion"],
      [{ events: [{ type: "reminder_interaction", at: new Date(now).toISOString(), reminderId: "not-a-uuid" }] }, "reminderId"],
    ];
    for (const [body, field] of bad) await expectProblem(await post(`/api/v1/patients/${patientA}/heartbeat`, patient, body), 422, field);
  });

  it("alerts with bad bodies, ack with a bad response", async () => {
    const owner = a.members.owner;
    await expectProblem(await post("/api/v1/alerts", owner, { patientId: patientA, severity: "urgent", message: "x" }), 422, "severity");
    await expectProblem(await post("/api/v1/alerts", owner, { patientId: patientA, severity: "low", message: "   " }), 422, "message");
    await expectProblem(await post("/api/v1/alerts", owner, { patientId: patientA, severity: "low", message: "x\u0000" }), 422, "message");
    await expectProblem(await post("/api/v1/alerts", owner, { patientId: "nope", severity: "low", message: "x" }), 422, "patientId");
    await expectProblem(await post(`/api/v1/reminders/${reminderA}/ack`, owner, { response: "maybe" }), 422, "response");
    await expectProblem(await post(`/api/v1/reminders/${reminderA}/ack`, owner, { response: "taken", at: "now" }), 422, "at");
  });
});

describe("idempotency and races", () => {
  it("a retried schedule create with the same Idempotency-Key makes one schedule", async () => {
    const headers = { ...a.members.owner.headers, "Idempotency-Key": `review-${uuidv7()}` };
    const body = { kind: "check_in", title: "Call", timesOfDay: ["18:00"] };
    const first = await api(`/api/v1/patients/${patientA}/schedules`, jsonBody(body, headers));
    const second = await api(`/api/v1/patients/${patientA}/schedules`, jsonBody(body, headers));
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(((await second.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    await expectProblem(await api(`/api/v1/patients/${patientA}/schedules`, jsonBody({ ...body, title: "Other" }, headers)), 422);
  });

  it("a retried alert create with the same Idempotency-Key makes one alert", async () => {
    const headers = { ...a.members.caregiver.headers, "Idempotency-Key": `review-${uuidv7()}` };
    const body = { patientId: patientA, severity: "medium", message: "Sounded confused" };
    const [first, second] = [await api("/api/v1/alerts", jsonBody(body, headers)), await api("/api/v1/alerts", jsonBody(body, headers))];
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(((await second.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
  });

  it("racing acknowledge and resolve: one acknowledge wins, the other is a 409; resolve after ack works once", async () => {
    const id = await insertAlert(a, patientA);
    const answers = await Promise.all([post(`/api/v1/alerts/${id}/acknowledge`, a.members.caregiver), post(`/api/v1/alerts/${id}/acknowledge`, a.members.clinician)]);
    expect(answers.map((response) => response.status).sort()).toEqual([200, 409]);
    const resolves = await Promise.all([post(`/api/v1/alerts/${id}/resolve`, a.members.caregiver), post(`/api/v1/alerts/${id}/resolve`, a.members.owner)]);
    expect(resolves.map((response) => response.status).sort()).toEqual([200, 409]);
    await expectProblem(await post(`/api/v1/alerts/${id}/acknowledge`, a.members.caregiver), 409);
  });

  it("racing reminder acks: one 200, one 409", async () => {
    const id = await insertReminder(a, patientA, scheduleA);
    const answers = await Promise.all([post(`/api/v1/reminders/${id}/ack`, a.members.patient, { response: "taken" }), post(`/api/v1/reminders/${id}/ack`, a.members.caregiver, { response: "skipped" })]);
    expect(answers.map((response) => response.status).sort()).toEqual([200, 409]);
  });
});

const ifMatch = (version: string) => ({ ...a.members.owner.headers, "If-Match": version });

describe("schedule changes at the edges", () => {
  it("a PATCH with a bad If-Match, an empty body or a bad field is a 4xx naming it, nothing changed", async () => {
    const id = await createSchedule(a, patientA);
    const at = (body: unknown, version: string) => api(`/api/v1/schedules/${id}`, patch(body, ifMatch(version)));
    await expectProblem(await api(`/api/v1/schedules/${id}`, patch({ title: "x" }, a.members.owner.headers)), 428);
    await expectProblem(await at({ title: "x" }, '"2"'), 412);
    for (const version of ['"abc"', '"-1"', `"${"9".repeat(30)}"`, "*, *", '"1\u0000"'.replace("\u0000", "%00")]) {
      const response = await at({ title: "x" }, version);
      expect([412, 422], `${version}: ${await response.clone().text()}`).toContain(response.status);
    }
    await expectProblem(await at({}, '"1"'), 422);
    await expectProblem(await at({ timesOfDay: ["24:00"] }, '"1"'), 422, "timesOfDay");
    await expectProblem(await at({ daysOfWeek: [0, 1] }, '"1"'), 422, "daysOfWeek");
    await expectProblem(await at({ graceMinutes: 0 }, '"1"'), 422, "graceMinutes");
    await expectProblem(await at({ title: null }, '"1"'), 422, "title");
    await expectProblem(await at({ kind: "exercise", dose: "5 mg" }, '"1"'), 422, "dose");
    await expectProblem(await at({ dose: "10 mg", kind: "check_in" }, '"1"'), 422, "dose");
    const [row] = await testDb().select().from(schedules).where(eq(schedules.id, id));
    expect(row?.title).toBe("Tablets");
  });

  it("dates in the wrong order are a 422 on the field, checked against the stored row too", async () => {
    const id = await createSchedule(a, patientA);
    const response = await api(`/api/v1/schedules/${id}`, patch({ endDate: "2001-01-01", startDate: "2001-01-02" }, ifMatch('"1"')));
    await expectProblem(response, 422, "endDate");
    const stored = await api(`/api/v1/schedules/${id}`, patch({ startDate: "2031-01-02" }, ifMatch('"1"')));
    expect(stored.status).toBe(200);
    await expectProblem(await api(`/api/v1/schedules/${id}`, patch({ endDate: "2031-01-01" }, ifMatch('"2"'))), 422, "endDate");
  });

  it("delete twice: 204 then 404; a deleted schedule cannot be patched", async () => {
    const id = await createSchedule(a, patientA);
    expect((await api(`/api/v1/schedules/${id}`, { method: "DELETE", headers: a.members.owner.headers })).status).toBe(204);
    await expectProblem(await api(`/api/v1/schedules/${id}`, { method: "DELETE", headers: a.members.owner.headers }), 404);
    await expectProblem(await api(`/api/v1/schedules/${id}`, patch({ title: "Back" }, ifMatch('"2"'))), 404);
  });

  it("list query edge cases are 422s naming the parameter", async () => {
    const owner = a.members.owner;
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=abc", "limit"],
      ["active=yes", "active"],
      ["kind=surgery", "kind"],
      ["cursor=%00", "cursor"],
      [`cursor=${"A".repeat(600)}`, "cursor"],
    ] as const) {
      await expectProblem(await get(`/api/v1/patients/${patientA}/schedules?${query}`, owner), 422, field);
    }
    await expectProblem(await get(`/api/v1/patients/not-a-uuid/schedules`, owner), 422, "id");
    await expectProblem(await get(`/api/v1/reminders?status=done`, owner), 422, "status");
    await expectProblem(await get(`/api/v1/reminders?patientId=1`, owner), 422, "patientId");
    await expectProblem(await get(`/api/v1/alerts?severity=urgent`, owner), 422, "severity");
    await expectProblem(await get(`/api/v1/notifications?unread=1`, owner), 422, "unread");
  });
});

describe("Idempotency-Key replays stay with their caller", () => {
  it("another member, or a member of another organization, with the same key gets their own create", async () => {
    const key = `review-shared-${uuidv7()}`;
    const body = { patientId: patientA, severity: "low", message: "Check the fridge" };
    const first = await api("/api/v1/alerts", jsonBody(body, { ...a.members.caregiver.headers, "Idempotency-Key": key }));
    expect(first.status).toBe(201);
    const firstId = ((await first.json()) as { id: string }).id;
    const other = await api("/api/v1/alerts", jsonBody(body, { ...a.members.clinician.headers, "Idempotency-Key": key }));
    expect(other.status).toBe(201);
    expect(((await other.json()) as { id: string }).id).not.toBe(firstId);
    const foreign = await api("/api/v1/alerts", jsonBody(body, { ...b.members.owner.headers, "Idempotency-Key": key }));
    await expectProblem(foreign, 404);
  });

  it("a replay after the caller left the care team is a 404, not the stored alert", async () => {
    const carer = await addMember(a, "caregiver", "Leaving Carer");
    await testDb().execute(sql`insert into care_team_members (organization_id, patient_id, user_id, relationship, is_primary) values (${a.organizationId}::uuid, ${patientA}::uuid, ${carer.id}::uuid, 'friend', false)`);
    const headers = { ...carer.headers, "Idempotency-Key": `review-leave-${uuidv7()}` };
    const body = { patientId: patientA, severity: "low", message: "Left the door open" };
    expect((await api("/api/v1/alerts", jsonBody(body, headers))).status).toBe(201);
    await testDb().execute(sql`delete from care_team_members where organization_id = ${a.organizationId}::uuid and user_id = ${carer.id}::uuid`);
    await expectProblem(await api("/api/v1/alerts", jsonBody(body, headers)), 404);
  });
});

describe("a clinician off the care team", () => {
  it("cannot change, delete or list a schedule (404), and each refusal is audited as denied", async () => {
    const clinician = await addMember(a, "clinician", "Off-team Clinician");
    const headers = { ...clinician.headers, "If-Match": '"1"' };
    await expectProblem(await api(`/api/v1/schedules/${scheduleA}`, patch({ title: "Mine" }, headers)), 404);
    await expectProblem(await api(`/api/v1/schedules/${scheduleA}`, { method: "DELETE", headers: clinician.headers }), 404);
    await expectProblem(await post(`/api/v1/patients/${patientA}/schedules`, clinician, { kind: "exercise", title: "Walk", timesOfDay: ["09:00"] }), 404);
    await expectProblem(await post(`/api/v1/alerts/${alertA}/resolve`, clinician), 404);
    const rows = await testDb()
      .select({ action: auditEvents.action, metadata: auditEvents.metadata, patientIds: auditEvents.patientIds })
      .from(auditEvents)
      .where(and(eq(auditEvents.actorUserId, clinician.id), eq(auditEvents.organizationId, a.organizationId)));
    const byAction = new Map(rows.map((row) => [row.action, row]));
    for (const action of ["schedule.updated", "schedule.deleted", "schedule.created", "alert.resolved"]) {
      expect(byAction.get(action)?.metadata, action).toMatchObject({ outcome: "denied" });
      expect(byAction.get(action)?.patientIds, action).toEqual([patientA]);
    }
    const [row] = await testDb().select().from(schedules).where(eq(schedules.id, scheduleA));
    expect(row?.deletedAt).toBeNull();
    expect(row?.title).toBe("Tablets");
  });
});

describe("wrong types and malformed headers", () => {
  it("heartbeat, ack and alert bodies of the wrong shape are 422s naming the field", async () => {
    const patient = a.members.patient;
    await expectProblem(await post(`/api/v1/patients/${patientA}/heartbeat`, patient, { events: {} }), 422, "events");
    await expectProblem(await post(`/api/v1/patients/${patientA}/heartbeat`, patient, { appVersion: 123 }), 422, "appVersion");
    await expectProblem(await post(`/api/v1/patients/${patientA}/heartbeat`, patient, { batteryLevel: "50" }), 422, "batteryLevel");
    await expectProblem(await post(`/api/v1/patients/${patientA}/heartbeat`, patient, [{}]), 422);
    const raw = (path: string, body: string) => api(path, { method: "POST", headers: { ...patient.headers, "Content-Type": "application/json" }, body });
    await expectProblem(await raw(`/api/v1/reminders/${reminderA}/ack`, '{"response":"taken","response":"maybe"}'), 422, "response");
    await expectProblem(await post("/api/v1/alerts", a.members.caregiver, { patientId: patientA, severity: ["high"], message: "x" }), 422, "severity");
    await expectProblem(await post("/api/v1/alerts", a.members.caregiver, { patientId: patientA, severity: "high", message: "x".repeat(2001) }), 422, "message");
  });

  it("an Idempotency-Key that is too long or not visible ASCII is a 422 on the header, nothing created", async () => {
    const body = { patientId: patientA, severity: "low", message: "Key check" };
    for (const key of ["k".repeat(256), "caf\u00e9"]) {
      const headers = new Headers({ ...a.members.caregiver.headers, "Content-Type": "application/json" });
      headers.set("Idempotency-Key", key);
      await expectProblem(await api("/api/v1/alerts", { method: "POST", headers, body: JSON.stringify(body) }), 422, "Idempotency-Key");
    }
    const rows = await testDb().select().from(alerts).where(and(eq(alerts.patientId, patientA), eq(alerts.message, "Key check")));
    expect(rows).toHaveLength(0);
  });
});
