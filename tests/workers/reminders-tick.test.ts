import { env } from "cloudflare:test";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import { alerts, appointments, domainEvents, reminders, schedules } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { generateDueReminders, markMissedReminders } from "#src/features/reminders/reminders.tick.ts";
import type { Job } from "#src/jobs/job.ts";
import { runMessage } from "#src/jobs/runner.ts";
import { backgroundDeps } from "#src/lib/deps.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { createLogger } from "#src/lib/logger.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import { createMailer } from "#src/platform/mailer.ts";
import { insertPatient } from "./clinical.ts";
import { createTenant, type Tenant } from "./fixtures.ts";
import { testDb } from "./helpers.ts";

/**
 * The reminder tick on a fixed clock (instants long past, so no other file's schedules, created
 * now, ever fire in these windows). Every count is of this file's own rows.
 */

const MINUTE = 60_000;
const at = (iso: string) => new Date(iso);

/** Tick deps whose queue records what the tick enqueues. */
function tickDeps(now: Date = at("2026-01-01T00:00:00Z")) {
  const config = parseConfig(env);
  const logger = createLogger("error");
  const enqueued: Job[] = [];
  const adapters = cloudflarePlatform.adapters(env);
  const jobs = { enqueue: async (job: Job) => void enqueued.push(job), ping: async () => undefined };
  const deps = backgroundDeps({ db: testDb(), config, logger, adapters: { ...adapters, clock: { now: () => now }, jobs }, mailer: createMailer(config, logger), run: "test:tick" });
  return { deps, enqueued };
}

const tick = (iso: string | Date) => generateDueReminders(tickDeps().deps, typeof iso === "string" ? at(iso) : iso);

/** Ticks every `stepMinutes` from `from` to `to` (inclusive), one after another. */
async function sweep(from: string, to: string, stepMinutes = 10): Promise<void> {
  for (let time = Date.parse(from); time <= Date.parse(to); time += stepMinutes * MINUTE) await tick(new Date(time));
}

interface ScheduleSeed {
  timesOfDay: string[];
  daysOfWeek?: number[];
  kind?: "medication" | "exercise" | "check_in";
  startDate?: string;
  endDate?: string;
  graceMinutes?: number;
  active?: boolean;
  deletedAt?: Date;
  createdAt?: Date;
}

async function insertSchedule(tenant: Tenant, patientId: string, seed: ScheduleSeed): Promise<string> {
  const id = uuidv7();
  await testDb()
    .insert(schedules)
    .values({
      id,
      organizationId: tenant.organizationId,
      patientId,
      kind: seed.kind ?? "medication",
      title: "Tablets",
      timesOfDay: seed.timesOfDay,
      daysOfWeek: seed.daysOfWeek ?? [1, 2, 3, 4, 5, 6, 7],
      startDate: seed.startDate ?? null,
      endDate: seed.endDate ?? null,
      graceMinutes: seed.graceMinutes ?? 60,
      active: seed.active ?? true,
      deletedAt: seed.deletedAt ?? null,
      createdAt: seed.createdAt ?? at("2025-01-01T00:00:00Z"),
    });
  return id;
}

const remindersOf = (scheduleId: string) =>
  testDb().select().from(reminders).where(eq(reminders.scheduleId, scheduleId)).orderBy(reminders.dueAt);

const keysOf = async (scheduleId: string) => (await remindersOf(scheduleId)).map((row) => `${row.occurrenceKey.split(":").slice(2).join(":")} ${row.dueAt.toISOString()}`);

describe(`reminder generator (${inject("databaseBackend")})`, () => {
  it("fires each local time through the patient's timezone: Auckland, New York, Kolkata", async () => {
    const tenant = await createTenant("Tick Zones Practice");
    const zones = { "Pacific/Auckland": "", "America/New_York": "", "Asia/Kolkata": "" } as Record<string, string>;
    for (const zone of Object.keys(zones)) zones[zone] = await insertSchedule(tenant, await insertPatient(tenant, { timezone: zone }), { timesOfDay: ["08:00", "20:30"] });
    await sweep("2025-06-09T00:00:00Z", "2025-06-10T00:00:00Z");
    expect(await keysOf(zones["Pacific/Auckland"] ?? "")).toEqual([
      "2025-06-09T20:30 2025-06-09T08:30:00.000Z",
      "2025-06-10T08:00 2025-06-09T20:00:00.000Z",
    ]);
    expect(await keysOf(zones["America/New_York"] ?? "")).toEqual([
      "2025-06-08T20:30 2025-06-09T00:30:00.000Z",
      "2025-06-09T08:00 2025-06-09T12:00:00.000Z",
    ]);
    expect(await keysOf(zones["Asia/Kolkata"] ?? "")).toEqual([
      "2025-06-09T08:00 2025-06-09T02:30:00.000Z",
      "2025-06-09T20:30 2025-06-09T15:00:00.000Z",
    ]);
  });

  it("fires a 02:30 dose once on the spring-forward day (America/New_York, 2026-03-08)", async () => {
    const tenant = await createTenant("Tick Spring Practice");
    const id = await insertSchedule(tenant, await insertPatient(tenant, { timezone: "America/New_York" }), { timesOfDay: ["01:30", "02:30", "03:30"] });
    await sweep("2026-03-08T04:00:00Z", "2026-03-08T10:00:00Z", 5);
    const keys = await keysOf(id);
    expect(keys.filter((key) => key.startsWith("2026-03-08T02:30"))).toHaveLength(1);
    // 02:30 does not exist that night: Postgres reads it as standard time, 07:30Z (03:30 EDT).
    expect(keys).toEqual(["2026-03-08T01:30 2026-03-08T06:30:00.000Z", "2026-03-08T02:30 2026-03-08T07:30:00.000Z", "2026-03-08T03:30 2026-03-08T07:30:00.000Z"]);
  });

  it("fires a 01:30 dose once on the fall-back day (America/New_York, 2026-11-01)", async () => {
    const tenant = await createTenant("Tick Fall Practice");
    const id = await insertSchedule(tenant, await insertPatient(tenant, { timezone: "America/New_York" }), { timesOfDay: ["01:30"] });
    await sweep("2026-11-01T04:00:00Z", "2026-11-01T08:00:00Z", 5);
    const keys = await keysOf(id);
    // 01:30 happens twice that night (EDT, then EST): one reminder, at the standard-time instant.
    expect(keys).toEqual(["2026-11-01T01:30 2026-11-01T06:30:00.000Z"]);
  });

  it("keeps to the days of the week and to startDate..endDate", async () => {
    const tenant = await createTenant("Tick Days Practice");
    const patientId = await insertPatient(tenant, { timezone: "UTC" });
    const weekdays = await insertSchedule(tenant, patientId, { timesOfDay: ["09:00"], daysOfWeek: [1, 3] });
    const dated = await insertSchedule(tenant, patientId, { timesOfDay: ["09:00"], startDate: "2025-09-02", endDate: "2025-09-03" });
    // 2025-09-01 is a Monday: one tick just after 09:00 on each day of that week.
    for (let day = 1; day <= 7; day++) await tick(`2025-09-0${day}T09:05:00Z`);
    expect(await keysOf(weekdays)).toEqual(["2025-09-01T09:00 2025-09-01T09:00:00.000Z", "2025-09-03T09:00 2025-09-03T09:00:00.000Z"]);
    expect(await keysOf(dated)).toEqual(["2025-09-02T09:00 2025-09-02T09:00:00.000Z", "2025-09-03T09:00 2025-09-03T09:00:00.000Z"]);
  });

  it("fires nothing for a paused, deleted or newer schedule, or a patient who is not active", async () => {
    const tenant = await createTenant("Tick Quiet Practice");
    const patientId = await insertPatient(tenant);
    const inactivePatient = await insertPatient(tenant, { status: "inactive" });
    const quiet = [
      await insertSchedule(tenant, patientId, { timesOfDay: ["10:00"], active: false }),
      await insertSchedule(tenant, patientId, { timesOfDay: ["10:00"], active: false, deletedAt: at("2025-01-02T00:00:00Z") }),
      await insertSchedule(tenant, patientId, { timesOfDay: ["10:00"], createdAt: at("2025-10-01T10:02:00Z") }),
      await insertSchedule(tenant, inactivePatient, { timesOfDay: ["10:00"] }),
    ];
    await sweep("2025-10-01T09:55:00Z", "2025-10-01T10:15:00Z", 5);
    for (const id of quiet) expect(await remindersOf(id)).toEqual([]);
  });

  it("inserts each occurrence once under overlapping and concurrent ticks, and enqueues its event once", async () => {
    const tenant = await createTenant("Tick Once Practice");
    const id = await insertSchedule(tenant, await insertPatient(tenant), { timesOfDay: ["11:00"], kind: "exercise", graceMinutes: 30 });
    const runs = await Promise.all(["2025-11-03T11:00:00Z", "2025-11-03T11:00:00Z", "2025-11-03T11:05:00Z", "2025-11-03T11:10:00Z"].map((time) => tick(time)));
    await tick("2025-11-03T11:14:00Z");
    const rows = await remindersOf(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "pending", kind: "exercise", dueAt: at("2025-11-03T11:00:00Z"), missedAfter: at("2025-11-03T11:30:00Z") });
    const dueEvents = await testDb().select().from(domainEvents).where(and(eq(domainEvents.organizationId, tenant.organizationId), eq(domainEvents.type, "reminder.due")));
    expect(dueEvents).toHaveLength(1);
    expect(dueEvents[0]).toMatchObject({ subjectType: "reminder", subjectId: rows[0]?.id, payload: { patientId: rows[0]?.patientId, kind: "exercise", dueAt: "2025-11-03T11:00:00.000Z" } });
    const returned = runs.flat().filter((event) => event.id === dueEvents[0]?.id);
    expect(returned).toHaveLength(1);
  });

  it("a redelivered tick job is one run; another tick's overlapping window adds nothing", async () => {
    const tenant = await createTenant("Tick Redelivery Practice");
    const id = await insertSchedule(tenant, await insertPatient(tenant), { timesOfDay: ["12:00"] });
    const { deps, enqueued } = tickDeps();
    const job = { kind: "reminders.generate", occurrence: "2025-11-04T12:00:00.000Z" } as const;
    expect(await runMessage(job, deps)).toBe("done");
    expect(await runMessage(job, deps)).toBe("duplicate");
    expect(await runMessage({ ...job, occurrence: "2025-11-04T12:01:00.000Z" }, deps)).toBe("done");
    expect(await remindersOf(id)).toHaveLength(1);
    const [event] = await testDb().select().from(domainEvents).where(and(eq(domainEvents.organizationId, tenant.organizationId), eq(domainEvents.type, "reminder.due")));
    expect(enqueued.filter((message) => message.kind === "events.dispatch" && message.eventId === event?.id)).toEqual([
      { kind: "events.dispatch", organizationId: tenant.organizationId, eventId: event?.id },
    ]);
  });
});

async function insertAppointment(tenant: Tenant, patientId: string, startsAt: string, extra: { createdAt?: Date; status?: "scheduled" | "cancelled" } = {}) {
  const id = uuidv7();
  const start = at(startsAt);
  await testDb()
    .insert(appointments)
    .values({
      id,
      organizationId: tenant.organizationId,
      patientId,
      clinicianId: tenant.members.clinician.id,
      startsAt: start,
      endsAt: new Date(start.getTime() + 50 * MINUTE),
      status: extra.status ?? "scheduled",
      createdAt: extra.createdAt ?? at("2025-01-01T00:00:00Z"),
    });
  return id;
}

describe(`appointment reminders (${inject("databaseBackend")})`, () => {
  it("reminds 24 h and 1 h before a live appointment, once each, only of what existed by then", async () => {
    const tenant = await createTenant("Tick Appointment Practice");
    const patientId = await insertPatient(tenant);
    const early = await insertAppointment(tenant, patientId, "2025-12-10T15:00:00Z");
    const late = await insertAppointment(tenant, patientId, "2025-12-10T17:00:00Z", { createdAt: at("2025-12-10T02:00:00Z") });
    const cancelled = await insertAppointment(tenant, patientId, "2025-12-10T19:00:00Z", { status: "cancelled" });
    await sweep("2025-12-09T14:50:00Z", "2025-12-09T19:10:00Z");
    await sweep("2025-12-10T13:50:00Z", "2025-12-10T18:10:00Z");
    const rows = await testDb().select().from(reminders).where(eq(reminders.patientId, patientId)).orderBy(reminders.dueAt);
    expect(rows.map((row) => [row.appointmentId, row.occurrenceKey.split(":").at(-1), row.dueAt.toISOString(), row.kind, row.missedAfter])).toEqual([
      [early, "24h", "2025-12-09T15:00:00.000Z", "appointment", null],
      [early, "1h", "2025-12-10T14:00:00.000Z", "appointment", null],
      [late, "1h", "2025-12-10T16:00:00.000Z", "appointment", null],
    ]);
    expect(rows.some((row) => row.appointmentId === cancelled)).toBe(false);

    // Rescheduled a day later: its new start is reminded again, 24 h before it.
    await testDb().update(appointments).set({ startsAt: at("2025-12-11T15:00:00Z"), endsAt: at("2025-12-11T16:00:00Z") }).where(eq(appointments.id, early));
    await sweep("2025-12-10T14:50:00Z", "2025-12-10T15:10:00Z");
    const moved = await testDb().select().from(reminders).where(eq(reminders.appointmentId, early)).orderBy(reminders.dueAt);
    expect(moved.map((row) => row.dueAt.toISOString())).toEqual(["2025-12-09T15:00:00.000Z", "2025-12-10T14:00:00.000Z", "2025-12-10T15:00:00.000Z"]);
  });
});

async function insertReminder(tenant: Tenant, patientId: string, scheduleId: string, kind: "medication" | "exercise", dueAt: string, status: "pending" | "acknowledged" = "pending") {
  const id = uuidv7();
  const due = at(dueAt);
  await testDb()
    .insert(reminders)
    .values({
      id,
      organizationId: tenant.organizationId,
      patientId,
      scheduleId,
      kind,
      occurrenceKey: `schedule:${scheduleId}:${dueAt.slice(0, 16)}`,
      dueAt: due,
      missedAfter: new Date(due.getTime() + 30 * MINUTE),
      status,
      response: status === "acknowledged" ? "taken" : null,
    });
  return id;
}

describe(`missed reminders (${inject("databaseBackend")})`, () => {
  it("marks an open reminder past its grace missed and opens one high missed_medication alert, with events, once", async () => {
    const tenant = await createTenant("Tick Missed Practice");
    await testDb().execute(sql`update organizations set escalation_minutes = 20 where id = ${tenant.organizationId}`);
    const patientId = await insertPatient(tenant);
    const meds = await insertSchedule(tenant, patientId, { timesOfDay: ["08:00"] });
    const walk = await insertSchedule(tenant, patientId, { timesOfDay: ["08:00"], kind: "exercise" });
    const dose = await insertReminder(tenant, patientId, meds, "medication", "2025-12-01T08:00:00Z");
    const exercise = await insertReminder(tenant, patientId, walk, "exercise", "2025-12-01T08:00:00Z");
    const taken = await insertReminder(tenant, patientId, meds, "medication", "2025-11-30T08:00:00Z", "acknowledged");
    const notYet = await insertReminder(tenant, patientId, meds, "medication", "2025-12-01T08:10:00Z");
    const now = at("2025-12-01T08:31:00Z");
    const { deps, enqueued } = tickDeps(now);
    const results = await Promise.all([markMissedReminders(deps, now), markMissedReminders(deps, now)]);
    await markMissedReminders(deps, now);
    const statuses = Object.fromEntries(
      (await testDb().select().from(reminders).where(eq(reminders.patientId, patientId))).map((row) => [row.id, row.status]),
    );
    expect(statuses).toEqual({ [dose]: "missed", [exercise]: "missed", [taken]: "acknowledged", [notYet]: "pending" });
    const opened = await testDb().select().from(alerts).where(eq(alerts.organizationId, tenant.organizationId));
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ patientId, type: "missed_medication", severity: "high", status: "open", reminderId: dose, escalationLevel: 0, createdAt: now, nextEscalationAt: at("2025-12-01T08:51:00Z") });
    const events = await testDb().select().from(domainEvents).where(eq(domainEvents.organizationId, tenant.organizationId));
    const byType = events.map((event) => [event.type, event.subjectId, event.payload]).sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])));
    expect(byType).toEqual(
      [
        ["alert.created", opened[0]?.id, { patientId, severity: "high", type: "missed_medication" }],
        ["reminder.missed", dose, { patientId, kind: "medication" }],
        ["reminder.missed", exercise, { patientId, kind: "exercise" }],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1]))),
    );
    expect(results.flat().filter((event) => event.organization_id === tenant.organizationId)).toHaveLength(3);
    const dispatched = enqueued.filter((job) => job.kind === "events.dispatch" && job.organizationId === tenant.organizationId);
    expect(dispatched).toHaveLength(3);
  });

  it("cancels, rather than misses, an open reminder of a schedule deleted meanwhile", async () => {
    const tenant = await createTenant("Tick Orphan Practice");
    const patientId = await insertPatient(tenant);
    const id = await insertSchedule(tenant, patientId, { timesOfDay: ["08:00"], active: false, deletedAt: at("2025-12-02T08:05:00Z") });
    const reminder = await insertReminder(tenant, patientId, id, "medication", "2025-12-02T08:00:00Z");
    const now = at("2025-12-02T09:00:00Z");
    await markMissedReminders(tickDeps(now).deps, now);
    const [row] = await testDb().select().from(reminders).where(eq(reminders.id, reminder));
    expect(row?.status).toBe("cancelled");
    expect(await testDb().select().from(alerts).where(eq(alerts.organizationId, tenant.organizationId))).toEqual([]);
  });
});
