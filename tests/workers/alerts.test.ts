import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { auditEvents, domainEvents } from "#src/db/schema/index.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { addMember, insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, patch, type Tenant } from "./fixtures.ts";
import { appOnClock, problemOf, roundTrips, testDb } from "./helpers.ts";

/** The alerts routes on a fixed clock: manual alerts, the list, acknowledge and resolve, and who may. */

let now = new Date("2046-05-04T09:00:00.000Z");
const call = appOnClock(() => now);

interface Alert {
  id: string;
  patientId: string;
  type: string;
  severity: string;
  status: string;
  message: string | null;
  createdAt: string;
  createdBy: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  escalationLevel: number;
  nextEscalationAt: string | null;
  timeToAcknowledgeSeconds: number | null;
  timeToResolveSeconds: number | null;
}

const raise = (headers: Record<string, string>, body: unknown) => call("/api/v1/alerts", jsonBody(body, headers));
const step = (id: string, verb: "acknowledge" | "resolve", headers: Record<string, string>) => call(`/api/v1/alerts/${id}/${verb}`, { method: "POST", headers });
const listed = async (query: string, headers: Record<string, string>) => {
  const response = await call(`/api/v1/alerts${query}`, { headers });
  expect(response.status).toBe(200);
  return (await response.json()) as { data: Alert[]; nextCursor: string | null };
};
const eventsOf = (alertId: string) => testDb().select().from(domainEvents).where(eq(domainEvents.subjectId, alertId));

describe(`alerts (${inject("databaseBackend")})`, () => {
  let tenant: Tenant;
  let patientId: string;
  let otherPatientId: string;

  beforeAll(async () => {
    tenant = await createTenant("Alerts Practice");
    patientId = await insertCaredPatient(tenant, "Alma Alert");
    otherPatientId = await insertPatient(tenant, { name: "Olaf Elsewhere" });
  });

  it("raises a manual alert (201): high escalates after the organization's escalation minutes, low never", async () => {
    now = new Date("2046-05-04T09:00:00.000Z");
    const response = await raise(tenant.members.caregiver.headers, { patientId, severity: "high", message: "Fell in the garden" });
    expect(response.status).toBe(201);
    expect(roundTrips(response)).toBe(1);
    const alert = (await response.json()) as Alert;
    expect(response.headers.get("Location")).toBe(`/api/v1/alerts/${alert.id}`);
    expect(alert).toMatchObject({
      patientId,
      type: "manual",
      severity: "high",
      status: "open",
      message: "Fell in the garden",
      createdAt: now.toISOString(),
      createdBy: tenant.members.caregiver.id,
      escalationLevel: 0,
      nextEscalationAt: "2046-05-04T09:15:00.000Z",
      timeToAcknowledgeSeconds: null,
    });
    const events = await eventsOf(alert.id);
    expect(events.map((event) => [event.type, event.payload])).toEqual([["alert.created", { patientId, severity: "high", type: "manual" }]]);

    expect((await call("/api/v1/organization", patch({ escalationMinutes: 5 }, tenant.members.owner.headers))).status).toBe(200);
    const critical = (await (await raise(tenant.members.owner.headers, { patientId: otherPatientId, severity: "critical", message: "No answer at the door" })).json()) as Alert;
    expect(critical.nextEscalationAt).toBe("2046-05-04T09:05:00.000Z");
    const low = (await (await raise(tenant.members.clinician.headers, { patientId, severity: "low", message: "Asked for a call back" })).json()) as Alert;
    expect(low.nextEscalationAt).toBeNull();

    const key = { ...tenant.members.caregiver.headers, "Idempotency-Key": uuidv7() };
    const body = { patientId, severity: "medium", message: "Sounded low on the phone" };
    const first = (await (await raise(key, body)).json()) as Alert;
    const replay = await raise(key, body);
    expect(replay.status).toBe(201);
    expect(((await replay.json()) as Alert).id).toBe(first.id);
    expect((await eventsOf(first.id)).length).toBe(1);
  });

  it("refuses who may not raise one: a patient and staff 403, a caregiver off the care team 404, bad bodies 422", async () => {
    const body = { patientId, severity: "medium", message: "x" };
    expect((await raise(tenant.members.patient.headers, body)).status).toBe(403);
    expect((await raise(tenant.members.staff.headers, body)).status).toBe(403);
    const stranger = await addMember(tenant, "caregiver");
    expect((await raise(stranger.headers, body)).status).toBe(404);
    expect((await raise(tenant.members.caregiver.headers, { ...body, patientId: uuidv7() })).status).toBe(404);
    for (const [bad, path] of [
      [{ ...body, severity: "urgent" }, "body.severity"],
      [{ ...body, message: "" }, "body.message"],
      [{ patientId, severity: "low" }, "body.message"],
      [{ ...body, status: "resolved" }, "body"],
    ] as const) {
      const response = await raise(tenant.members.caregiver.headers, bad);
      expect(response.status).toBe(422);
      expect(JSON.stringify((await problemOf(response)).errors)).toContain(path);
    }
  });

  it("acknowledges (open only) and resolves (open or acknowledged), timing each, and answers 409 naming the status otherwise", async () => {
    now = new Date("2046-05-04T10:00:00.000Z");
    const alert = (await (await raise(tenant.members.caregiver.headers, { patientId, severity: "critical", message: "Chest pain" })).json()) as Alert;
    now = new Date("2046-05-04T10:01:30.000Z");
    const acknowledged = await step(alert.id, "acknowledge", tenant.members.caregiver.headers);
    expect(acknowledged.status).toBe(200);
    expect(roundTrips(acknowledged)).toBe(1);
    expect(await acknowledged.json()).toMatchObject({
      status: "acknowledged",
      acknowledgedAt: now.toISOString(),
      acknowledgedBy: tenant.members.caregiver.id,
      nextEscalationAt: null,
      timeToAcknowledgeSeconds: 90,
      timeToResolveSeconds: null,
    });
    const again = await step(alert.id, "acknowledge", tenant.members.clinician.headers);
    expect(again.status).toBe(409);
    expect(await problemOf(again)).toMatchObject({ currentStatus: "acknowledged" });

    now = new Date("2046-05-04T10:20:00.000Z");
    const resolved = await step(alert.id, "resolve", tenant.members.clinician.headers);
    expect(resolved.status).toBe(200);
    expect(await resolved.json()).toMatchObject({ status: "resolved", resolvedBy: tenant.members.clinician.id, timeToAcknowledgeSeconds: 90, timeToResolveSeconds: 1200 });
    for (const verb of ["acknowledge", "resolve"] as const) {
      const response = await step(alert.id, verb, tenant.members.caregiver.headers);
      expect(response.status).toBe(409);
      expect(await problemOf(response)).toMatchObject({ currentStatus: "resolved" });
    }
    expect((await eventsOf(alert.id)).map((event) => event.type).sort()).toEqual(["alert.acknowledged", "alert.created", "alert.resolved"]);
    const audit = await testDb()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.organizationId, tenant.organizationId), eq(auditEvents.targetId, alert.id)));
    expect(audit.map((row) => [row.action, row.metadata]).sort()).toEqual([
      ["alert.acknowledged", {}],
      ["alert.acknowledged", { outcome: "status_acknowledged" }],
      ["alert.acknowledged", { outcome: "status_resolved" }],
      ["alert.created", { outcome: "ok", severity: "critical", type: "manual" }],
      ["alert.resolved", {}],
      ["alert.resolved", { outcome: "status_resolved" }],
    ]);

    now = new Date("2046-05-04T10:30:00.000Z");
    const open = (await (await raise(tenant.members.caregiver.headers, { patientId, severity: "medium", message: "Confused on the phone" })).json()) as Alert;
    now = new Date("2046-05-04T10:31:00.000Z");
    expect(await (await step(open.id, "resolve", tenant.members.caregiver.headers)).json()).toMatchObject({ status: "resolved", acknowledgedAt: null, timeToResolveSeconds: 60 });
  });

  it("refuses transitions to who may not: a patient 403, off the care team or unknown 404, a body 422", async () => {
    const alert = (await (await raise(tenant.members.caregiver.headers, { patientId, severity: "high", message: "Door open at night" })).json()) as Alert;
    expect((await step(alert.id, "acknowledge", tenant.members.patient.headers)).status).toBe(403);
    expect((await step(alert.id, "acknowledge", tenant.members.staff.headers)).status).toBe(403);
    const stranger = await addMember(tenant, "clinician");
    expect((await step(alert.id, "acknowledge", stranger.headers)).status).toBe(404);
    expect((await step(uuidv7(), "resolve", tenant.members.owner.headers)).status).toBe(404);
    expect((await call(`/api/v1/alerts/${alert.id}/acknowledge`, jsonBody({ note: "on my way" }, tenant.members.caregiver.headers))).status).toBe(422);
    expect((await call(`/api/v1/alerts/not-a-uuid/acknowledge`, { method: "POST", headers: tenant.members.caregiver.headers })).status).toBe(422);
  });

  it("lists the alerts the caller may see, newest first in keyset pages, with every filter", async () => {
    const mine = await listed("", tenant.members.caregiver.headers);
    expect(mine.data.length).toBeGreaterThanOrEqual(4);
    expect(mine.data.every((alert) => alert.patientId === patientId)).toBe(true);
    const all = await listed("?limit=100", tenant.members.owner.headers);
    expect(all.data.some((alert) => alert.patientId === otherPatientId)).toBe(true);
    expect(all.data.map((alert) => alert.createdAt)).toEqual(all.data.map((alert) => alert.createdAt).toSorted().toReversed());
    expect((await listed("", tenant.members.patient.headers)).data.map((alert) => alert.id)).toEqual(mine.data.map((alert) => alert.id));

    const paged: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page = await listed(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`, tenant.members.owner.headers);
      paged.push(...page.data.map((alert) => alert.id));
      cursor = page.nextCursor;
    }
    expect(paged).toEqual(all.data.map((alert) => alert.id));

    const critical = await listed("?severity=critical", tenant.members.owner.headers);
    expect(critical.data.length).toBeGreaterThan(0);
    expect(critical.data.every((alert) => alert.severity === "critical")).toBe(true);
    const resolved = await listed("?status=resolved", tenant.members.owner.headers);
    expect(resolved.data.every((alert) => alert.status === "resolved" && alert.resolvedAt !== null)).toBe(true);
    const other = await listed(`?patientId=${otherPatientId}`, tenant.members.owner.headers);
    expect(other.data.map((alert) => alert.message)).toEqual(["No answer at the door"]);
    const window = await listed("?from=2046-05-04T10:00:00Z&to=2046-05-04T10:30:00Z", tenant.members.owner.headers);
    expect(window.data.map((alert) => alert.message)).toEqual(["Chest pain"]);
    expect((await listed(`?patientId=${otherPatientId}`, tenant.members.caregiver.headers)).data).toEqual([]);

    const one = await call(`/api/v1/alerts/${other.data[0]?.id}`, { headers: tenant.members.admin.headers });
    expect(one.status).toBe(200);
    expect((await call(`/api/v1/alerts/${other.data[0]?.id}`, { headers: tenant.members.caregiver.headers })).status).toBe(404);
    expect((await call("/api/v1/alerts", { headers: tenant.members.staff.headers })).status).toBe(403);
    expect((await call("/api/v1/alerts?status=closed", { headers: tenant.members.owner.headers })).status).toBe(422);
    expect((await call("/api/v1/alerts?cursor=bm9wZQ", { headers: tenant.members.owner.headers })).status).toBe(422);
  });

  it("shows and sets the organization's care-loop defaults", async () => {
    const read = (await (await call("/api/v1/organization", { headers: tenant.members.caregiver.headers })).json()) as Record<string, unknown>;
    expect(read).toMatchObject({ inactivityThresholdMinutes: 240, escalationMinutes: 5 });
    const changed = await call("/api/v1/organization", patch({ inactivityThresholdMinutes: 90 }, tenant.members.admin.headers));
    expect(await changed.json()).toMatchObject({ inactivityThresholdMinutes: 90, escalationMinutes: 5 });
    for (const body of [{ inactivityThresholdMinutes: 4 }, { escalationMinutes: 0 }, { escalationMinutes: 1441 }, { inactivityThresholdMinutes: 1.5 }]) {
      expect((await call("/api/v1/organization", patch(body, tenant.members.owner.headers))).status).toBe(422);
    }
  });
});
