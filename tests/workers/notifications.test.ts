import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { eventConsumptions, notifications } from "#src/db/schema/index.ts";
import { dispatchEvent } from "#src/features/events/events.service.ts";
import { notificationsOutboxConsumer } from "#src/features/notifications/notifications.consumers.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";
import { bench, emit, prefer, registerDevice, rowsOf } from "./notifications-harness.ts";

/**
 * The outbox consumer: reminder and alert events become one in-app row and one external row per
 * recipient (the first channel they can get), filtered by threshold, once whatever the replays;
 * and the in-app inbox the rows land in.
 */

const NOW = new Date("2030-01-15T12:00:00Z");
const PATIENT_NAME = "Marguerite Okonkwo-Baptiste";
const external = <R extends { channel: string }>(rows: R[]) => rows.filter((row) => row.channel !== "in_app");

async function caredTenant(name: string): Promise<{ tenant: Tenant; patientId: string }> {
  const tenant = await createTenant(name);
  return { tenant, patientId: await insertCaredPatient(tenant, PATIENT_NAME) };
}

describe("reminder.due", () => {
  it("notifies the patient's linked user in-app and on their first channel, once whatever the replays", async () => {
    const { tenant, patientId } = await caredTenant("Outbox Reminder Practice");
    const b = bench(NOW);
    const reminderId = await emit(b, tenant, "reminder.due", { type: "reminder" }, { patientId, kind: "medication", dueAt: NOW.toISOString() });
    const rows = await rowsOf(tenant);
    expect(rows.map((row) => [row.userId, row.channel, row.status])).toEqual([
      [tenant.members.patient.id, "email", "pending"],
      [tenant.members.patient.id, "in_app", "sent"],
    ]);
    expect(rows[0]).toMatchObject({ kind: "reminder.due", subjectType: "reminder", subjectId: reminderId, patientId, title: "Tend reminder" });
    expect(rows[0]?.body).toBe("It's time for your medication. Open Tend to confirm.");
    expect(b.enqueued).toEqual([expect.objectContaining({ kind: "notifications.deliver", organizationId: tenant.organizationId, notificationId: rows[0]?.id })]);
    const inApp = rows.find((row) => row.channel === "in_app");
    expect(b.published).toEqual([
      { userIds: [tenant.members.patient.id], event: { type: "notification.created", organizationId: tenant.organizationId, data: { id: inApp?.id, kind: "reminder.due", title: "Tend reminder" } } },
    ]);

    // The claim released (as after a failed outside step): the insert runs again and adds nothing.
    const [event] = await testDb().execute(sql`select event_id from event_consumptions where organization_id = ${tenant.organizationId}::uuid`).then((r) => r.rows as { event_id: string }[]);
    await testDb().delete(eventConsumptions).where(eq(eventConsumptions.eventId, event?.event_id ?? ""));
    await testDb().execute(sql`update domain_events set dispatched_at = null where id = ${event?.event_id}::uuid`);
    await dispatchEvent(b.deps, tenant.organizationId, event?.event_id ?? "", [notificationsOutboxConsumer]);
    expect(await rowsOf(tenant)).toHaveLength(2);
  });

  it("marks the reminder sent once its notifications exist (and only a pending one)", async () => {
    const { tenant, patientId } = await caredTenant("Outbox Reminder Sent Practice");
    const [scheduleId, pendingId, ackedId] = [uuidv7(), uuidv7(), uuidv7()];
    await testDb().execute(sql`insert into schedules (id, organization_id, patient_id, kind, title, times_of_day)
      values (${scheduleId}::uuid, ${tenant.organizationId}::uuid, ${patientId}::uuid, 'exercise', 'Walk', '{08:00}')`);
    await testDb().execute(sql`insert into reminders (id, organization_id, patient_id, schedule_id, kind, occurrence_key, due_at, status, response)
      values (${pendingId}::uuid, ${tenant.organizationId}::uuid, ${patientId}::uuid, ${scheduleId}::uuid, 'exercise', 'a', now(), 'pending', null),
             (${ackedId}::uuid, ${tenant.organizationId}::uuid, ${patientId}::uuid, ${scheduleId}::uuid, 'exercise', 'b', now(), 'acknowledged', 'taken')`);
    for (const id of [pendingId, ackedId]) await emit(bench(NOW), tenant, "reminder.due", { type: "reminder", id }, { patientId, kind: "exercise", dueAt: NOW.toISOString() });
    const statuses = await testDb().execute(sql`select id::text, status from reminders where schedule_id = ${scheduleId}::uuid`);
    expect(Object.fromEntries((statuses.rows as { id: string; status: string }[]).map((row) => [row.id, row.status]))).toEqual({ [pendingId]: "sent", [ackedId]: "acknowledged" });
  });

  it("notifies no one when the patient has no linked user", async () => {
    const tenant = await createTenant("Outbox Unlinked Practice");
    const patientId = await insertPatient(tenant, { careTeam: [{ userId: tenant.members.caregiver.id }] });
    await emit(bench(NOW), tenant, "reminder.due", { type: "reminder" }, { patientId, kind: "exercise", dueAt: NOW.toISOString() });
    expect(await rowsOf(tenant)).toEqual([]);
  });
});

describe("alert recipients", () => {
  it("tells the primary at creation, on push when they have a device, naming no patient", async () => {
    const { tenant, patientId } = await caredTenant("Outbox Primary Practice");
    await registerDevice(tenant.members.clinician.headers);
    await emit(bench(NOW), tenant, "alert.created", { type: "alert" }, { patientId, severity: "high", type: "missed_medication" });
    const rows = await rowsOf(tenant);
    expect(rows.map((row) => [row.userId, row.channel])).toEqual([
      [tenant.members.clinician.id, "in_app"],
      [tenant.members.clinician.id, "push"],
    ]);
    expect(rows[0]).toMatchObject({ title: "Tend alert", body: "A high-priority alert needs your attention. Open Tend to see it.", severity: "high" });
    for (const row of rows) expect(`${row.title} ${row.body}`).not.toMatch(/Marguerite|Okonkwo|medication|M\. ?O\./i);
  });

  it("tells the whole care team when the patient has no primary", async () => {
    const tenant = await createTenant("Outbox No Primary Practice");
    const patientId = await insertPatient(tenant, {
      careTeam: [
        { userId: tenant.members.clinician.id, primary: false },
        { userId: tenant.members.caregiver.id, primary: false },
      ],
    });
    await emit(bench(NOW), tenant, "alert.created", { type: "alert" }, { patientId, severity: "medium", type: "manual" });
    const users = new Set((await rowsOf(tenant)).map((row) => row.userId));
    expect(users).toEqual(new Set([tenant.members.clinician.id, tenant.members.caregiver.id]));
  });

  it("filters each recipient by their alertThreshold", async () => {
    const { tenant, patientId } = await caredTenant("Outbox Threshold Practice");
    await prefer(tenant.members.clinician.headers, { alertThreshold: "critical" });
    const b = bench(NOW);
    await emit(b, tenant, "alert.created", { type: "alert" }, { patientId, severity: "high", type: "inactivity" });
    expect(await rowsOf(tenant)).toEqual([]);
    await emit(b, tenant, "alert.created", { type: "alert" }, { patientId, severity: "critical", type: "inactivity" });
    expect((await rowsOf(tenant)).map((row) => row.userId)).toEqual([tenant.members.clinician.id, tenant.members.clinician.id]);
  });

  it("escalates to the rest of the care team, then to owners and admins, then calls the primary", async () => {
    const { tenant, patientId } = await caredTenant("Outbox Escalation Practice");
    await prefer(tenant.members.clinician.headers, { phone: "+447700900123" });
    const b = bench(NOW);
    const alertId = uuidv7();
    const alert = { type: "alert", id: alertId };
    await emit(b, tenant, "alert.created", alert, { patientId, severity: "critical", type: "inactivity" });
    await emit(b, tenant, "alert.escalated", alert, { patientId, severity: "critical", level: 1 });
    const level1 = (await rowsOf(tenant)).filter((row) => row.kind === "alert.escalated");
    expect(new Set(level1.map((row) => row.userId))).toEqual(new Set([tenant.members.caregiver.id]));

    await emit(b, tenant, "alert.escalated", alert, { patientId, severity: "critical", level: 2 });
    const level2 = (await rowsOf(tenant)).filter((row) => row.kind === "alert.escalated" && row.userId !== tenant.members.caregiver.id);
    expect(new Set(level2.map((row) => row.userId))).toEqual(new Set([tenant.members.owner.id, tenant.members.admin.id]));

    await emit(b, tenant, "alert.escalated", alert, { patientId, severity: "critical", level: 3 });
    const voice = (await rowsOf(tenant)).filter((row) => row.channel === "voice");
    expect(voice.map((row) => [row.userId, row.status])).toEqual([[tenant.members.clinician.id, "pending"]]);
    expect(voice[0]?.body).toMatch(/^This is Tend\. A critical alert .* acknowledge it\.$/);
  });

  it("calls no one at level 3 for an alert that is not critical, and uses the first channel when the primary has no phone", async () => {
    const { tenant, patientId } = await caredTenant("Outbox Voice Practice");
    const b = bench(NOW);
    await emit(b, tenant, "alert.escalated", { type: "alert" }, { patientId, severity: "high", level: 3 });
    expect(await rowsOf(tenant)).toEqual([]);
    await emit(b, tenant, "alert.escalated", { type: "alert" }, { patientId, severity: "critical", level: 3 });
    expect(external(await rowsOf(tenant)).map((row) => row.channel)).toEqual(["email"]);
  });

  it("chooses SMS when push has no device and SMS is on with a phone, and nothing external when every channel is off", async () => {
    const { tenant, patientId } = await caredTenant("Outbox Channel Practice");
    await prefer(tenant.members.clinician.headers, { channels: { sms: true }, phone: "+15005550001" });
    await prefer(tenant.members.caregiver.headers, { channels: { push: false, sms: false, email: false } });
    const b = bench(NOW);
    const alert = { type: "alert", id: uuidv7() };
    await emit(b, tenant, "alert.created", alert, { patientId, severity: "high", type: "manual" });
    await emit(b, tenant, "alert.escalated", alert, { patientId, severity: "high", level: 1 });
    const rows = await rowsOf(tenant);
    expect(external(rows).map((row) => [row.userId, row.channel])).toEqual([[tenant.members.clinician.id, "sms"]]);
    expect(rows.filter((row) => row.userId === tenant.members.caregiver.id).map((row) => row.channel)).toEqual(["in_app"]);
  });
});

async function inboxTenant() {
  const { tenant, patientId } = await caredTenant("Inbox Practice");
  const b = bench(NOW);
  for (const kind of ["medication", "exercise", "check_in"]) {
    await emit(b, tenant, "reminder.due", { type: "reminder" }, { patientId, kind, dueAt: NOW.toISOString() });
  }
  return tenant;
}

describe("the in-app inbox", () => {
  it("lists the caller's own in-app notifications, newest first, page by page, unread only on request", async () => {
    const tenant = await inboxTenant();
    const headers = tenant.members.patient.headers;
    const first = await api("/api/v1/notifications?limit=2", { headers });
    expect(first.status).toBe(200);
    const page = (await first.json()) as { data: { id: string; body: string; readAt: string | null }[]; nextCursor: string };
    expect(page.data.map((n) => n.body)).toEqual(["It's time to check in. Open Tend to confirm.", "It's time for your exercise. Open Tend to confirm."]);
    const second = (await (await api(`/api/v1/notifications?limit=2&cursor=${page.nextCursor}`, { headers })).json()) as { data: { id: string }[]; nextCursor: null };
    expect(second.data).toHaveLength(1);
    expect(second.nextCursor).toBeNull();

    const read = await api(`/api/v1/notifications/${page.data[0]?.id}/read`, { method: "POST", headers });
    expect(read.status).toBe(200);
    const readAt = ((await read.json()) as { readAt: string }).readAt;
    expect(readAt).toMatch(/Z$/);
    const again = (await (await api(`/api/v1/notifications/${page.data[0]?.id}/read`, { method: "POST", headers })).json()) as { readAt: string };
    expect(again.readAt).toBe(readAt);
    const unread = (await (await api("/api/v1/notifications?unread=true", { headers })).json()) as { data: { id: string }[] };
    expect(unread.data).toHaveLength(2);
    expect(unread.data.map((n) => n.id)).not.toContain(page.data[0]?.id);

    const others = (await (await api("/api/v1/notifications", { headers: tenant.members.caregiver.headers })).json()) as { data: unknown[] };
    expect(others.data).toEqual([]);
  });

  it("refuses another person's notification (404), a bad id or cursor (422), and API keys (403)", async () => {
    const tenant = await inboxTenant();
    const [row] = await testDb().select().from(notifications).where(eq(notifications.organizationId, tenant.organizationId)).limit(1);
    const stranger = await api(`/api/v1/notifications/${row?.id}/read`, { method: "POST", headers: tenant.members.caregiver.headers });
    expect(stranger.status).toBe(404);
    expect((await problemOf(stranger)).status).toBe(404);
    expect((await api("/api/v1/notifications/not-a-uuid/read", { method: "POST", headers: tenant.members.patient.headers })).status).toBe(422);
    expect((await api("/api/v1/notifications?cursor=abc", { headers: tenant.members.patient.headers })).status).toBe(422);
    expect((await api("/api/v1/notifications?unread=yes", { headers: tenant.members.patient.headers })).status).toBe(422);
    const key = await api("/api/v1/api-keys", jsonBody({ name: "inbox", scopes: ["patients:read"] }, tenant.members.admin.headers));
    const apiKey = ((await key.json()) as { key: string }).key;
    const byKey = await api("/api/v1/notifications", { headers: { "X-API-Key": apiKey } });
    expect(byKey.status).toBe(403);
    expect((await api("/api/v1/notifications")).status).toBe(401);
  });
});

describe("the phone preference", () => {
  it("takes the person's own E.164 number for SMS and calls, refuses anything else, and forgets it on null", async () => {
    const tenant = await createTenant("Phone Preference Practice");
    const headers = tenant.members.caregiver.headers;
    const set = await api("/api/v1/me/preferences", jsonBody({ phone: "+447700900123" }, headers, "PATCH"));
    expect(((await set.json()) as { phone: string }).phone).toBe("+447700900123");
    for (const phone of ["07700 900123", "+0447700900123", "+44", 447700900123]) {
      expect((await api("/api/v1/me/preferences", jsonBody({ phone }, headers, "PATCH"))).status).toBe(422);
    }
    const cleared = await api("/api/v1/me/preferences", jsonBody({ phone: null }, headers, "PATCH"));
    expect(((await cleared.json()) as { phone: string | null }).phone).toBeNull();
    const other = (await (await api("/api/v1/me/preferences", { headers: tenant.members.clinician.headers })).json()) as Record<string, unknown>;
    expect(other).not.toHaveProperty("phone");
  });
});
