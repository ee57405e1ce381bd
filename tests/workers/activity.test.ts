import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { activityEvents, alerts, auditEvents, domainEvents, patients } from "#src/db/schema/index.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { addMember, insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Tenant } from "./fixtures.ts";
import { api, appOnClock, problemOf, roundTrips, testDb } from "./helpers.ts";

/**
 * POST /patients/{id}/heartbeat and GET /patients/{id}/activity, through the real app on a fixed
 * clock (far in the future, so no other file's cron scan at today's time sees these heartbeats).
 */

let now = new Date("2045-03-01T12:00:00.000Z");
const call = appOnClock(() => now);

const minutes = (n: number) => n * 60_000;
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString();
const beat = (patientId: string, headers: Record<string, string>, body: unknown = {}) => call(`/api/v1/patients/${patientId}/heartbeat`, jsonBody(body, headers));

async function issueKey(tenant: Tenant, scopes: string[]): Promise<Record<string, string>> {
  const response = await api("/api/v1/api-keys", jsonBody({ name: `device ${scopes.join(" ")}`, scopes }, tenant.members.admin.headers));
  expect(response.status).toBe(201);
  return { "X-API-Key": ((await response.json()) as { key: string }).key };
}

const patientRow = async (id: string) => (await testDb().select().from(patients).where(eq(patients.id, id)))[0];
const activityOf = (id: string) => testDb().select().from(activityEvents).where(eq(activityEvents.patientId, id));

describe(`heartbeats and activity (${inject("databaseBackend")})`, () => {
  let tenant: Tenant;
  let patientId: string;
  let otherPatientId: string;

  beforeAll(async () => {
    tenant = await createTenant("Heartbeat Practice");
    patientId = await insertCaredPatient(tenant, "Hedda Beat");
    otherPatientId = await insertPatient(tenant, { name: "Otto Other" });
  });

  it("answers the patient's own session 200 in one round trip, and records the heartbeat, its events and the app version", async () => {
    now = new Date("2045-03-01T12:00:00.000Z");
    const response = await beat(patientId, tenant.members.patient.headers, {
      appVersion: "2.4.1",
      batteryLevel: 81,
      events: [
        { type: "app_open", at: at(-minutes(30)) },
        { type: "battery", at: at(-minutes(20)), batteryLevel: 84 },
      ],
    });
    expect(response.status).toBe(200);
    expect(roundTrips(response)).toBe(1);
    expect(await response.json()).toEqual({ receivedAt: now.toISOString(), lastHeartbeatAt: now.toISOString(), recorded: 3, resolvedAlertIds: [] });
    expect(await patientRow(patientId)).toMatchObject({ lastHeartbeatAt: now, appVersion: "2.4.1" });
    const rows = await activityOf(patientId);
    expect(rows.map((row) => [row.type, row.batteryLevel]).sort()).toEqual([["app_open", null], ["battery", 84], ["heartbeat", 81]]);
    const [audit] = await testDb()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.organizationId, tenant.organizationId), eq(auditEvents.action, "activity.heartbeat")));
    expect(audit).toMatchObject({ actorUserId: tenant.members.patient.id, patientIds: [patientId], metadata: { outcome: "ok", events: 2 } });
  });

  it("takes an API key with heartbeats:write; refuses one without (403), every other member (403) and another patient's record (404)", async () => {
    now = new Date("2045-03-01T12:05:00.000Z");
    expect((await beat(patientId, await issueKey(tenant, ["heartbeats:write"]))).status).toBe(200);
    expect((await beat(patientId, await issueKey(tenant, ["activity:read", "patients:read"]))).status).toBe(403);
    for (const role of ["owner", "admin", "clinician", "staff", "caregiver"] as const) {
      const response = await beat(patientId, tenant.members[role].headers);
      expect({ role, status: response.status }).toEqual({ role, status: 403 });
      expect((await problemOf(response)).type).toMatch(/forbidden/);
    }
    const response = await beat(otherPatientId, tenant.members.patient.headers);
    expect(response.status).toBe(404);
    expect((await beat(uuidv7(), tenant.members.patient.headers)).status).toBe(404);
    expect((await call(`/api/v1/patients/${patientId}/heartbeat`, jsonBody({}))).status).toBe(401);
    expect(await activityOf(otherPatientId)).toEqual([]);
    const denied = await testDb()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.organizationId, tenant.organizationId), eq(auditEvents.action, "access.denied"), eq(auditEvents.targetId, "recordHeartbeat")));
    expect(denied.length).toBeGreaterThanOrEqual(5);
  });

  it("never moves last_heartbeat_at backwards", async () => {
    now = new Date("2045-03-01T13:00:00.000Z");
    expect((await beat(patientId, tenant.members.patient.headers)).status).toBe(200);
    now = new Date("2045-03-01T12:50:00.000Z");
    const late = await beat(patientId, tenant.members.patient.headers, { appVersion: "2.4.2" });
    expect(late.status).toBe(200);
    expect(await late.json()).toMatchObject({ receivedAt: "2045-03-01T12:50:00.000Z", lastHeartbeatAt: "2045-03-01T13:00:00.000Z" });
    expect(await patientRow(patientId)).toMatchObject({ lastHeartbeatAt: new Date("2045-03-01T13:00:00.000Z"), appVersion: "2.4.2" });
  });

  it("refuses bad bodies with a 422 naming the field, writing nothing", async () => {
    now = new Date("2045-03-02T09:00:00.000Z");
    const before = (await activityOf(patientId)).length;
    const cases: [unknown, string][] = [
      [{ events: [{ type: "app_open", at: at(minutes(6)) }] }, "body.events.0.at"],
      [{ events: [{ type: "app_open", at: at(-8 * 86_400_000) }] }, "body.events.0.at"],
      [{ batteryLevel: 101 }, "body.batteryLevel"],
      [{ events: [{ type: "battery", at: at(0) }] }, "body.events.0.batteryLevel"],
      [{ events: [{ type: "heartbeat", at: at(0) }] }, "body.events.0.type"],
      [{ events: Array.from({ length: 51 }, () => ({ type: "app_open", at: at(0) })) }, "body.events"],
      [{ deviceName: "Pixel" }, "body"],
      [{ events: [{ type: "reminder_interaction", at: at(0), reminderId: uuidv7() }] }, "body.events.0.reminderId"],
    ];
    for (const [body, path] of cases) {
      const response = await beat(patientId, tenant.members.patient.headers, body);
      expect({ path, status: response.status }).toEqual({ path, status: 422 });
      const problem = await problemOf(response);
      expect((problem.errors as { path: string }[]).map((error) => error.path).join(" ")).toContain(path);
    }
    expect((await activityOf(patientId)).length).toBe(before);
    expect((await patientRow(patientId))?.lastHeartbeatAt).toEqual(new Date("2045-03-01T13:00:00.000Z"));
  });

  it("resolves the patient's open inactivity alert, as the system, with alert.resolved", async () => {
    now = new Date("2045-03-03T08:00:00.000Z");
    const alertId = uuidv7();
    await testDb().insert(alerts).values({ id: alertId, organizationId: tenant.organizationId, patientId, type: "inactivity", severity: "high", nextEscalationAt: new Date(now.getTime() + minutes(5)) });
    const response = await beat(patientId, tenant.members.patient.headers);
    expect(response.status).toBe(200);
    expect(roundTrips(response)).toBe(1);
    expect((await response.json()) as object).toMatchObject({ resolvedAlertIds: [alertId] });
    const [alert] = await testDb().select().from(alerts).where(eq(alerts.id, alertId));
    expect(alert).toMatchObject({ status: "resolved", resolvedAt: now, resolvedBy: null, nextEscalationAt: null });
    const events = await testDb().select().from(domainEvents).where(and(eq(domainEvents.subjectId, alertId), eq(domainEvents.type, "alert.resolved")));
    expect(events.map((event) => event.payload)).toEqual([{ patientId, severity: "high" }]);
    expect((await (await beat(patientId, tenant.members.patient.headers)).json()) as object).toMatchObject({ resolvedAlertIds: [] });
  });

  it("lists activity newest first, in keyset pages, filtered by type and time, for the care team and the patient", async () => {
    const list = (query: string, headers = tenant.members.caregiver.headers) => call(`/api/v1/patients/${patientId}/activity${query}`, { headers });
    const first = await list("?limit=2");
    expect(first.status).toBe(200);
    expect(roundTrips(first)).toBe(1);
    const page = (await first.json()) as { data: { occurredAt: string; id: string }[]; nextCursor: string | null };
    expect(page.data).toHaveLength(2);
    const all: { occurredAt: string; id: string }[] = [...page.data];
    let cursor = page.nextCursor;
    while (cursor) {
      const next = (await (await list(`?limit=2&cursor=${cursor}`)).json()) as typeof page;
      all.push(...next.data);
      cursor = next.nextCursor;
    }
    expect(all).toHaveLength((await activityOf(patientId)).length);
    expect(new Set(all.map((row) => row.id)).size).toBe(all.length);
    expect(all.map((row) => row.occurredAt)).toEqual(all.map((row) => row.occurredAt).toSorted().toReversed());

    const batteries = (await (await list("?type=battery")).json()) as { data: { type: string; batteryLevel: number }[] };
    expect(batteries.data).toEqual([expect.objectContaining({ type: "battery", batteryLevel: 84 })]);
    const windowed = (await (await list("?from=2045-03-01T11:50:00Z&to=2045-03-01T12:01:00Z")).json()) as { data: { type: string }[] };
    expect(windowed.data.map((row) => row.type)).toEqual(["heartbeat"]);

    expect((await list("", tenant.members.patient.headers)).status).toBe(200);
    expect((await list("", tenant.members.clinician.headers)).status).toBe(200);
    expect((await list("", tenant.members.staff.headers)).status).toBe(403);
    const stranger = await addMember(tenant, "caregiver");
    expect((await list("", stranger.headers)).status).toBe(404);
    expect((await call(`/api/v1/patients/${otherPatientId}/activity`, { headers: tenant.members.patient.headers })).status).toBe(404);
    expect((await list("?type=nap")).status).toBe(422);
    expect((await list("?cursor=bm90LWEtY3Vyc29y")).status).toBe(422);
    expect((await list("?from=2045-03-02T00:00:00Z&to=2045-03-01T00:00:00Z")).status).toBe(422);
  });
});
