import { describe, expect, it } from "vitest";
import { deliverNotification, NOT_FOLLOWING } from "#src/features/notifications/notifications.deliver.ts";
import { insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Tenant } from "./fixtures.ts";
import { api } from "./helpers.ts";
import { type Bench, bench, emit, prefer, rowOf, rowsOf } from "./notifications-harness.ts";

/**
 * A notification is written when its event happens and sent later (quiet hours, retries). Who may
 * be told is checked again when it is sent: a recipient taken off the patient's care team, or
 * whose role changed since, gets nothing; the row is `suppressed`, never sent.
 */

const NIGHT = new Date("2030-01-16T04:30:00Z"); // 23:30 in New York
const MORNING = new Date("2030-01-16T12:05:00Z"); // after 07:00 there

async function deferredAlert(name: string, recipient: "clinician" | "caregiver" | "owner" | "admin", level = 0) {
  const tenant = await createTenant(name);
  const patientId = await insertCaredPatient(tenant);
  const member = tenant.members[recipient];
  await prefer(member.headers, { quietHours: { enabled: true, start: "22:00", end: "07:00" }, timezone: "America/New_York" });
  const b = bench(NIGHT);
  const type = level === 0 ? "alert.created" : "alert.escalated";
  await emit(b, tenant, type, { type: "alert" }, { patientId, severity: "high", type: "inactivity", ...(level > 0 ? { level } : {}) });
  const row = (await rowsOf(tenant)).find((r) => r.channel !== "in_app" && r.userId === member.id);
  if (!row) throw new Error(`no external row for the ${recipient}`);
  expect(await deliverNotification(b.deps, tenant.organizationId, row.id)).toBe("deferred");
  return { tenant, patientId, b, row, member };
}

async function morningDelivery(b: Bench, tenant: Tenant, id: string) {
  b.clock.at = MORNING;
  return deliverNotification(b.deps, tenant.organizationId, id);
}

describe("a deferred notification is checked again when it is sent", () => {
  it("is suppressed for a clinician taken off the patient's care team meanwhile", async () => {
    const { tenant, patientId, b, row, member } = await deferredAlert("Suppress Removed Practice", "clinician");
    const removed = await api(`/api/v1/patients/${patientId}/care-team/${member.id}`, { method: "DELETE", headers: tenant.members.admin.headers });
    expect(removed.status).toBe(204);
    expect(await morningDelivery(b, tenant, row.id)).toBe("suppressed");
    expect(b.sent("email")).toEqual([]);
    expect(await rowOf(row.id)).toMatchObject({ status: "suppressed", lastError: NOT_FOLLOWING, attempts: 0 });
    // A later delivery of the same row does nothing either.
    expect(await deliverNotification(b.deps, tenant.organizationId, row.id)).toBe("skipped");
    expect(b.sent("email")).toEqual([]);
  });

  it("is suppressed for a caregiver whose role became staff meanwhile", async () => {
    const { tenant, b, row, member } = await deferredAlert("Suppress Demoted Practice", "caregiver", 1);
    const changed = await api(`/api/v1/members/${member.id}`, jsonBody({ role: "staff" }, tenant.members.admin.headers, "PATCH"));
    expect(changed.status).toBe(200);
    expect(await morningDelivery(b, tenant, row.id)).toBe("suppressed");
    expect(b.sent("email")).toEqual([]);
    expect((await rowOf(row.id))?.status).toBe("suppressed");
  });

  it("is sent to a care-team member who still is one, and to an owner (the organization's whole reach)", async () => {
    const kept = await deferredAlert("Suppress Kept Practice", "clinician");
    expect(await morningDelivery(kept.b, kept.tenant, kept.row.id)).toBe("sent");
    expect(kept.b.sent("email")).toHaveLength(1);

    const owner = await deferredAlert("Suppress Owner Practice", "owner", 2);
    expect(await morningDelivery(owner.b, owner.tenant, owner.row.id)).toBe("sent");
    expect((await rowOf(owner.row.id))?.status).toBe("sent");
  });

  it("is suppressed for an admin made a clinician who is not on the care team", async () => {
    const { tenant, b, row, member } = await deferredAlert("Suppress Admin Demoted Practice", "admin", 2);
    const changed = await api(`/api/v1/members/${member.id}`, jsonBody({ role: "clinician" }, tenant.members.owner.headers, "PATCH"));
    expect(changed.status).toBe(200);
    expect(await morningDelivery(b, tenant, row.id)).toBe("suppressed");
    expect(b.sent("email")).toEqual([]);
  });
});

describe("the in-app inbox", () => {
  it("drops notifications about a patient the member no longer follows, and reading one is a 404", async () => {
    const tenant = await createTenant("Inbox Unfollowed Practice");
    const team = [{ userId: tenant.members.clinician.id, relationship: "therapist", primary: true }];
    const left = await insertPatient(tenant, { careTeam: team });
    const kept = await insertPatient(tenant, { careTeam: team });
    const b = bench(MORNING);
    for (const patientId of [left, kept]) await emit(b, tenant, "alert.created", { type: "alert" }, { patientId, severity: "high", type: "inactivity" });
    const { clinician, admin } = tenant.members;
    const inbox = async () => {
      const response = await api("/api/v1/notifications", { headers: clinician.headers });
      expect(response.status).toBe(200);
      return ((await response.json()) as { data: { id: string; subjectId: string }[] }).data;
    };
    const before = await inbox();
    expect(before).toHaveLength(2);
    const rows = await rowsOf(tenant);
    const aboutLeft = rows.find((row) => row.channel === "in_app" && row.userId === clinician.id && row.patientId === left);
    if (!aboutLeft) throw new Error("no in-app row about the patient");

    const removed = await api(`/api/v1/patients/${left}/care-team/${clinician.id}`, { method: "DELETE", headers: admin.headers });
    expect(removed.status).toBe(204);
    expect((await inbox()).map((item) => item.id)).toEqual(before.filter((item) => item.id !== aboutLeft.id).map((item) => item.id));
    const read = await api(`/api/v1/notifications/${aboutLeft.id}/read`, { method: "POST", headers: clinician.headers });
    expect(read.status).toBe(404);
  });
});
