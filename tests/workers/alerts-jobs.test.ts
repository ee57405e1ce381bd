import { env } from "cloudflare:test";
import { and, eq, inArray } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { alerts, auditEvents, domainEvents, organizations, patients } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { receiveHeartbeat } from "#src/features/activity/activity.service.ts";
import { changeAlertStatus, escalateDueAlerts, scanInactivity } from "#src/features/alerts/alerts.service.ts";
import type { Job } from "#src/jobs/job.ts";
import { jobs } from "#src/jobs/registry.ts";
import { backgroundDeps } from "#src/lib/deps.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { createLogger } from "#src/lib/logger.ts";
import type { AuthContext } from "#src/middleware/auth.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import { createMailer } from "#src/platform/mailer.ts";
import { ROLE_PERMISSIONS } from "#src/lib/permissions.ts";
import { insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, type Tenant } from "./fixtures.ts";
import { testDb } from "./helpers.ts";

/**
 * The alert cron jobs on a fixed clock: the inactivity scan (opens once, resolves on a heartbeat,
 * reopens after) and escalation (critical to the voice call, high to the managers, an
 * acknowledged alert stops). Runs are narrowed to the test's organization, on clocks far from
 * today, so other files' alerts and scans never meet these.
 */

const enqueued: Job[] = [];
function depsAt(iso: string) {
  const config = parseConfig(env);
  const logger = createLogger("error");
  const real = cloudflarePlatform.adapters(env);
  const adapters = { ...real, clock: { now: () => new Date(iso) }, jobs: { enqueue: async (job: Job) => void enqueued.push(job), ping: async () => undefined } };
  return backgroundDeps({ db: testDb(), config, logger, adapters, mailer: createMailer(config, logger), run: `test:alerts-jobs:${iso}` });
}

const alertsOf = (patientId: string) => testDb().select().from(alerts).where(eq(alerts.patientId, patientId)).orderBy(alerts.createdAt);
const minutes = (base: string, n: number) => new Date(Date.parse(base) + n * 60_000).toISOString();

async function setHeartbeat(patientId: string, at: string | null, threshold: number | null = null) {
  await testDb()
    .update(patients)
    .set({ lastHeartbeatAt: at ? new Date(at) : null, inactivityThresholdMinutes: threshold })
    .where(eq(patients.id, patientId));
}

function patientAuth(tenant: Tenant): AuthContext {
  return { kind: "user", userId: tenant.members.patient.id, apiKeyId: null, organizationId: tenant.organizationId, role: "patient", permissions: ROLE_PERMISSIONS.patient };
}

describe(`inactivity scan (${inject("databaseBackend")})`, () => {
  let tenant: Tenant;
  let patientId: string;

  beforeAll(async () => {
    tenant = await createTenant("Inactivity Practice");
    patientId = await insertCaredPatient(tenant, "Ida Idle");
  });

  it("opens one high inactivity alert past the threshold, never a second while it is open, and resolves it on a heartbeat", async () => {
    const T = "2047-01-10T12:00:00.000Z";
    await setHeartbeat(patientId, minutes(T, -240));
    expect(await scanInactivity(depsAt(T), tenant.organizationId)).toBe(0);
    expect(await alertsOf(patientId)).toEqual([]);

    enqueued.length = 0;
    expect(await scanInactivity(depsAt(minutes(T, 1)), tenant.organizationId)).toBe(1);
    const [opened] = await alertsOf(patientId);
    expect(opened).toMatchObject({ type: "inactivity", severity: "high", status: "open", escalationLevel: 0, createdBy: null, nextEscalationAt: new Date(minutes(T, 16)) });
    const [event] = await testDb().select().from(domainEvents).where(eq(domainEvents.subjectId, opened?.id ?? ""));
    expect(event).toMatchObject({ type: "alert.created", payload: { patientId, severity: "high", type: "inactivity" } });
    expect(enqueued).toEqual([{ kind: "events.dispatch", organizationId: tenant.organizationId, eventId: event?.id }]);
    const audit = await testDb().select().from(auditEvents).where(and(eq(auditEvents.targetId, opened?.id ?? ""), eq(auditEvents.action, "alert.created")));
    expect(audit).toEqual([expect.objectContaining({ actorUserId: null, patientIds: [patientId], metadata: { type: "inactivity", severity: "high", by: "inactivity_scan" } })]);

    // Repeated and overlapping ticks open nothing more.
    const again = await Promise.all([2, 3, 3, 60].map((n) => scanInactivity(depsAt(minutes(T, n)), tenant.organizationId)));
    expect(again).toEqual([0, 0, 0, 0]);
    expect(await alertsOf(patientId)).toHaveLength(1);

    const receipt = await receiveHeartbeat(depsAt(minutes(T, 90)), patientAuth(tenant), patientId, {});
    expect(receipt.resolvedAlertIds).toEqual([opened?.id]);
    expect((await alertsOf(patientId))[0]).toMatchObject({ status: "resolved", resolvedBy: null, resolvedAt: new Date(minutes(T, 90)) });
    expect(await scanInactivity(depsAt(minutes(T, 91)), tenant.organizationId)).toBe(0);

    // Silent again past the threshold: a new alert opens.
    expect(await scanInactivity(depsAt(minutes(T, 90 + 241)), tenant.organizationId)).toBe(1);
    expect((await alertsOf(patientId)).map((alert) => alert.status)).toEqual(["resolved", "open"]);
  });

  it("takes the patient's own threshold over the organization's, and skips patients never heard from or not active", async () => {
    const T = "2047-02-01T08:00:00.000Z";
    await testDb().update(organizations).set({ inactivityThresholdMinutes: 60 }).where(eq(organizations.id, tenant.organizationId));
    const patient = await insertPatient(tenant);
    const overridden = await insertPatient(tenant);
    const silent = await insertPatient(tenant);
    const discharged = await insertPatient(tenant, { status: "discharged" });
    await setHeartbeat(patient, minutes(T, -61));
    await setHeartbeat(overridden, minutes(T, -61), 120);
    await setHeartbeat(discharged, minutes(T, -600));
    expect(await scanInactivity(depsAt(T), tenant.organizationId)).toBe(1);
    const opened = await testDb().select().from(alerts).where(inArray(alerts.patientId, [patient, overridden, silent, discharged]));
    expect(opened.map((alert) => alert.patientId)).toEqual([patient]);
    expect(await scanInactivity(depsAt(minutes(T, 60)), tenant.organizationId)).toBe(1);
    expect((await alertsOf(overridden)).map((alert) => alert.type)).toEqual(["inactivity"]);
  });

  it("runs as the scheduled jobs cron enqueues, across organizations", async () => {
    const definitions = ["alerts.inactivity-scan", "alerts.escalate"].map((kind) => jobs.get(kind));
    expect(definitions.map((definition) => definition?.scheduled?.("2000-01-01T00:00:00.000Z"))).toEqual([
      { kind: "alerts.inactivity-scan", occurrence: "2000-01-01T00:00:00.000Z" },
      { kind: "alerts.escalate", occurrence: "2000-01-01T00:00:00.000Z" },
    ]);
    // A clock in 2000: only this patient's heartbeat (1999) is older than any threshold there.
    const patient = await insertPatient(tenant);
    await setHeartbeat(patient, "1999-12-31T00:00:00.000Z");
    const accepted = definitions[0]?.accept({ kind: "alerts.inactivity-scan", occurrence: "2000-01-01T00:00:00.000Z" });
    if (!accepted?.ok) throw new Error("the scan's message was refused");
    await accepted.run(depsAt("2000-01-01T00:00:00.000Z"));
    expect((await alertsOf(patient)).map((alert) => alert.status)).toEqual(["open"]);
  });
});

const alertRow = async (id: string) => (await testDb().select().from(alerts).where(eq(alerts.id, id)))[0];
const escalatedEvents = async (id: string) =>
  (await testDb().select().from(domainEvents).where(and(eq(domainEvents.subjectId, id), eq(domainEvents.type, "alert.escalated")))).map((event) => event.payload);

describe(`escalation (${inject("databaseBackend")})`, () => {
  let tenant: Tenant;
  let patientId: string;
  const T = "2048-06-01T09:00:00.000Z";

  beforeAll(async () => {
    tenant = await createTenant("Escalation Practice");
    patientId = await insertCaredPatient(tenant, "Esme Escalate");
  });

  async function insertAlert(severity: "low" | "medium" | "high" | "critical", status: "open" | "acknowledged" = "open", type: "manual" | "missed_medication" = "manual") {
    const id = uuidv7();
    const escalates = severity === "high" || severity === "critical";
    await testDb()
      .insert(alerts)
      .values({ id, organizationId: tenant.organizationId, patientId, type, severity, status, createdAt: new Date(T), nextEscalationAt: escalates && status === "open" ? new Date(minutes(T, 15)) : null });
    return id;
  }

  it("steps a critical alert every escalation interval up to the voice call, a high one to the owners and admins, a low one never", async () => {
    const critical = await insertAlert("critical", "open", "missed_medication");
    const high = await insertAlert("high");
    const low = await insertAlert("low");
    const acknowledged = await insertAlert("high", "acknowledged");
    const run = (n: number) => escalateDueAlerts(depsAt(minutes(T, n)), tenant.organizationId);

    expect(await run(14)).toBe(0);
    expect(await run(15)).toBe(2);
    expect(await alertRow(critical)).toMatchObject({ escalationLevel: 1, nextEscalationAt: new Date(minutes(T, 30)) });
    expect(await run(16)).toBe(0);
    expect(await run(30)).toBe(2);
    expect(await alertRow(high)).toMatchObject({ escalationLevel: 2, nextEscalationAt: null });
    expect(await run(45)).toBe(1);
    expect(await alertRow(critical)).toMatchObject({ escalationLevel: 3, nextEscalationAt: null });
    expect(await run(600)).toBe(0);

    expect(await escalatedEvents(critical)).toEqual([1, 2, 3].map((level) => ({ patientId, severity: "critical", level })));
    expect(await escalatedEvents(high)).toEqual([1, 2].map((level) => ({ patientId, severity: "high", level })));
    expect(await escalatedEvents(low)).toEqual([]);
    expect(await escalatedEvents(acknowledged)).toEqual([]);
    expect(await alertRow(low)).toMatchObject({ escalationLevel: 0 });
    const audit = await testDb().select().from(auditEvents).where(and(eq(auditEvents.targetId, critical), eq(auditEvents.action, "alert.escalated")));
    expect(audit.map((row) => [row.actorUserId, row.metadata]).sort()).toEqual([1, 2, 3].map((level) => [null, { level, severity: "critical" }]));
  });

  it("stops when the alert is acknowledged, and follows the organization's escalation minutes", async () => {
    await testDb().update(organizations).set({ escalationMinutes: 5 }).where(eq(organizations.id, tenant.organizationId));
    const id = await insertAlert("critical");
    expect(await escalateDueAlerts(depsAt(minutes(T, 15)), tenant.organizationId)).toBe(1);
    expect(await alertRow(id)).toMatchObject({ escalationLevel: 1, nextEscalationAt: new Date(minutes(T, 20)) });
    const owner: AuthContext = { kind: "user", userId: tenant.members.owner.id, apiKeyId: null, organizationId: tenant.organizationId, role: "owner", permissions: ROLE_PERMISSIONS.owner };
    const acknowledged = await changeAlertStatus(depsAt(minutes(T, 17)), owner, id, "acknowledge");
    expect(acknowledged).toMatchObject({ status: "acknowledged", escalationLevel: 1, nextEscalationAt: null, timeToAcknowledgeSeconds: 17 * 60 });
    expect(await escalateDueAlerts(depsAt(minutes(T, 20)), tenant.organizationId)).toBe(0);
    expect(await alertRow(id)).toMatchObject({ escalationLevel: 1 });
  });
});
