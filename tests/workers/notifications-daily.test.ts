import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { sendDailySummaries } from "#src/features/notifications/notifications.sweep.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { insertCaredPatient } from "./clinical.ts";
import { createTenant, type Tenant } from "./fixtures.ts";
import { testDb } from "./helpers.ts";
import { bench, prefer, rowsOf } from "./notifications-harness.ts";

/**
 * The daily summary: each caregiver and clinician on a care team gets one a day once their
 * dailySummaryTime has passed in their zone, with counts only. (00:30 UTC: nobody on the default
 * 08:00 UTC is due, so other files' organizations are left alone.)
 */

const AT = new Date("2030-01-15T00:30:00Z"); // 14:30 on Kiritimati (UTC+14)

async function missedReminder(tenant: Tenant, patientId: string, missedAt: Date) {
  const scheduleId = uuidv7();
  await testDb().execute(sql`insert into schedules (id, organization_id, patient_id, kind, title, times_of_day)
    values (${scheduleId}::uuid, ${tenant.organizationId}::uuid, ${patientId}::uuid, 'medication', 'Secret drug name', '{08:00}')`);
  await testDb().execute(sql`insert into reminders (id, organization_id, patient_id, schedule_id, kind, occurrence_key, due_at, missed_after, status)
    values (${uuidv7()}::uuid, ${tenant.organizationId}::uuid, ${patientId}::uuid, ${scheduleId}::uuid, 'medication', ${`schedule:${scheduleId}:x`},
      ${new Date(missedAt.getTime() - 3600_000).toISOString()}::timestamptz, ${missedAt.toISOString()}::timestamptz, 'missed')`);
}

const openAlert = (tenant: Tenant, patientId: string, status = "open") =>
  testDb().execute(sql`insert into alerts (id, organization_id, patient_id, type, severity, status)
    values (${uuidv7()}::uuid, ${tenant.organizationId}::uuid, ${patientId}::uuid, 'manual', 'low', ${status})`);

describe("daily summary", () => {
  it("sends each care-team member one summary a day after their time, with counts only", async () => {
    const tenant = await createTenant("Daily Summary Practice");
    const patientId = await insertCaredPatient(tenant, "Philippa Quartermaine");
    await prefer(tenant.members.clinician.headers, { timezone: "Pacific/Kiritimati", dailySummaryTime: "14:00" });
    await prefer(tenant.members.caregiver.headers, { timezone: "Pacific/Kiritimati", dailySummaryTime: "15:00" });
    await openAlert(tenant, patientId);
    await openAlert(tenant, patientId);
    await openAlert(tenant, patientId, "resolved");
    await missedReminder(tenant, patientId, new Date(AT.getTime() - 3600_000));
    await missedReminder(tenant, patientId, new Date(AT.getTime() - 25 * 3600_000));

    const b = bench(AT);
    await sendDailySummaries(b.deps);
    const rows = (await rowsOf(tenant)).filter((row) => row.kind === "daily.summary");
    expect(rows.map((row) => [row.userId, row.channel, row.dedupeKey])).toEqual([[tenant.members.clinician.id, "email", `daily:${tenant.members.clinician.id}:2030-01-15`]]);
    expect(rows[0]?.title).toBe("Your Tend daily summary");
    expect(rows[0]?.body).toBe("Open alerts: 2. Missed reminders in the last 24 hours: 1. Open Tend for the details.");
    expect(b.enqueued.filter((job) => job.kind === "notifications.deliver" && job.notificationId === rows[0]?.id)).toHaveLength(1);

    await sendDailySummaries(b.deps);
    b.clock.at = new Date(AT.getTime() + 3600_000);
    await sendDailySummaries(b.deps);
    const later = (await rowsOf(tenant)).filter((row) => row.kind === "daily.summary");
    expect(later.map((row) => row.userId).sort()).toEqual([tenant.members.clinician.id, tenant.members.caregiver.id].sort());
    for (const row of later) expect(row.body).not.toMatch(/Philippa|Quartermaine|Secret drug/);
  });

  it("uses the member's first channel when email is off, and the inbox when every channel is", async () => {
    const tenant = await createTenant("Daily Channel Practice");
    await insertCaredPatient(tenant);
    await prefer(tenant.members.clinician.headers, { timezone: "Pacific/Kiritimati", dailySummaryTime: "00:00", channels: { email: false, sms: true }, phone: "+15005550001" });
    await prefer(tenant.members.caregiver.headers, { timezone: "Pacific/Kiritimati", dailySummaryTime: "00:00", channels: { email: false, push: false } });
    const b = bench(AT);
    await sendDailySummaries(b.deps);
    const rows = (await rowsOf(tenant)).filter((row) => row.kind === "daily.summary");
    const channelOf = (userId: string) => rows.find((row) => row.userId === userId);
    expect(channelOf(tenant.members.clinician.id)).toMatchObject({ channel: "sms", status: "pending" });
    expect(channelOf(tenant.members.caregiver.id)).toMatchObject({ channel: "in_app", status: "sent" });
    expect(rows.filter((row) => row.userId === tenant.members.patient.id || row.userId === tenant.members.owner.id)).toEqual([]);
  });
});
