import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { memberships } from "#src/db/schema/index.ts";
import { liveRecipients } from "#src/features/realtime/realtime.consumers.ts";
import { domainEvent } from "#src/lib/events.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { addMember, insertPatient } from "./clinical.ts";
import { createTenant } from "./fixtures.ts";
import { testDb } from "./helpers.ts";
import { bench, emit, rowsOf } from "./notifications-harness.ts";

/**
 * Security review of the care loop: who the notification outbox tells. Staff hold none of the
 * care loop (SPEC "Who sees what"), so a care-team member whose role became staff (a role change
 * keeps their care_team_members rows) is told about no alert, and a primary who is no longer a
 * carer does not swallow the first step: the rest of the team is told instead.
 */

const NOW = new Date("2031-02-01T12:00:00Z");

describe("alert recipients are current carers", () => {
  it("tells no member whose role became staff, and falls back to the team when the primary is no longer a carer", async () => {
    const tenant = await createTenant("Review Care Recipients");
    const formerCarer = await addMember(tenant, "caregiver", "Former Carer");
    const carer = await addMember(tenant, "caregiver", "Current Carer");
    const patientId = await insertPatient(tenant, {
      careTeam: [
        { userId: formerCarer.id, relationship: "son", primary: true },
        { userId: carer.id, relationship: "daughter", primary: false },
      ],
    });
    await testDb()
      .update(memberships)
      .set({ role: "staff" })
      .where(and(eq(memberships.organizationId, tenant.organizationId), eq(memberships.userId, formerCarer.id)));
    const b = bench(NOW);
    const alert = await emit(b, tenant, "alert.created", { type: "alert" }, { patientId, severity: "high", type: "manual" });
    await emit(b, tenant, "alert.escalated", { type: "alert", id: alert }, { patientId, severity: "high", level: 1 });
    const told = new Set((await rowsOf(tenant)).map((row) => row.userId));
    expect(told.has(formerCarer.id)).toBe(false);
    expect(told.has(carer.id)).toBe(true);
  });
});

describe("live recipients are current carers", () => {
  it("sends no care-loop or appointment event to a care-team member whose role became patient", async () => {
    const tenant = await createTenant("Review Care Live");
    const formerCarer = await addMember(tenant, "caregiver", "Former Carer");
    const patientId = await insertPatient(tenant, { careTeam: [{ userId: tenant.members.clinician.id }, { userId: formerCarer.id, relationship: "son", primary: false }] });
    await testDb()
      .update(memberships)
      .set({ role: "patient" })
      .where(and(eq(memberships.organizationId, tenant.organizationId), eq(memberships.userId, formerCarer.id)));
    for (const [type, payload] of [
      ["alert.created", { patientId, severity: "high", type: "manual" }],
      ["appointment.scheduled", { appointmentId: uuidv7(), patientId, clinicianId: tenant.members.clinician.id, status: "scheduled" }],
    ] as const) {
      const event = { ...domainEvent(tenant.organizationId, type, { type: type.split(".")[0] ?? "alert", id: uuidv7() }, payload), attempts: 1 };
      const recipients = await liveRecipients({ db: testDb() }, event);
      expect(recipients).toContain(tenant.members.clinician.id);
      expect(recipients).not.toContain(formerCarer.id);
    }
  });
});
