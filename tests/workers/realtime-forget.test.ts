import { describe, expect, it } from "vitest";
import { uuidv7 } from "#src/lib/ids.ts";
import { memoryRealtime } from "#src/platform/memory/realtime.ts";
import type { Realtime } from "#src/platform/ports.ts";
import { insertPatient } from "./clinical.ts";
import { createTenant, type Tenant } from "./fixtures.ts";
import { api } from "./helpers.ts";
import { connect, type LiveMessage, realtime } from "./realtime-client.ts";

/**
 * Taken off one patient's care team, a member keeps their sockets (they follow other patients)
 * but their hub forgets what it kept of that patient: a reconnect's replay no longer sends it.
 * The appointments they are the clinician of stay (they still see those).
 */

async function twoPatients(name: string) {
  const tenant = await createTenant(name);
  const { clinician, caregiver } = tenant.members;
  const team = [
    { userId: clinician.id, relationship: "therapist", primary: true },
    { userId: caregiver.id, relationship: "son", primary: false },
  ];
  const left = await insertPatient(tenant, { careTeam: team });
  const kept = await insertPatient(tenant, { careTeam: team });
  return { tenant, left, kept };
}

/** An alert about each patient, and an appointment about `left` whose clinician is the clinician. */
async function publishAbout(hubs: Realtime, tenant: Tenant, left: string, kept: string) {
  const { clinician, caregiver } = tenant.members;
  const organizationId = tenant.organizationId;
  const users = [clinician.id, caregiver.id];
  await hubs.publish(users, { id: uuidv7(), type: "alert.created", organizationId, data: { patientId: left, severity: "high" } });
  await hubs.publish(users, { id: uuidv7(), type: "alert.created", organizationId, data: { patientId: kept, severity: "high" } });
  await hubs.publish(users, { id: uuidv7(), type: "appointment.updated", organizationId, data: { patientId: left, clinicianId: clinician.id } });
}

/** `type:patientId` of each message; a replay with a gap starts with its `replay.truncated` notice. */
const about = (messages: unknown[]) =>
  messages.flatMap((message) => {
    if (typeof message !== "object" || message === null) return [];
    const { type, data } = message as LiveMessage;
    return [type === "replay.truncated" ? type : `${type}:${String(data.patientId)}`];
  });

async function replayed(member: Tenant["members"]["caregiver"]) {
  const client = await connect(member, 0);
  const messages = await client.drain(300);
  client.socket.close(1000, "done");
  return about(messages);
}

describe("leaving a patient's care team", () => {
  it("drops that patient's kept events from the member's replay, through DELETE /patients/{id}/care-team/{userId}", async () => {
    const { tenant, left, kept } = await twoPatients("Forget Route Practice");
    await publishAbout(realtime(), tenant, left, kept);
    const { caregiver, admin } = tenant.members;
    expect(await replayed(caregiver)).toEqual([`alert.created:${left}`, `alert.created:${kept}`, `appointment.updated:${left}`]);

    const removed = await api(`/api/v1/patients/${left}/care-team/${caregiver.id}`, { method: "DELETE", headers: admin.headers });
    expect(removed.status).toBe(204);
    // The hub forgets after the answer (waitUntil): wait for it, within a bound.
    let after = await replayed(caregiver);
    for (let tries = 0; tries < 20 && after.length !== 2; tries++) after = await replayed(caregiver);
    // The forgotten events leave a gap in the sequence, which the replay says.
    expect(after).toEqual(["replay.truncated", `alert.created:${kept}`]);
  });

  it("keeps the appointments the member is the clinician of", async () => {
    const { tenant, left, kept } = await twoPatients("Forget Clinician Practice");
    const hubs = realtime();
    await publishAbout(hubs, tenant, left, kept);
    await hubs.forget(tenant.members.clinician.id, tenant.organizationId, left);
    expect(await replayed(tenant.members.clinician)).toEqual(["replay.truncated", `alert.created:${kept}`, `appointment.updated:${left}`]);
  });

  it("forgets only that organization's events about the patient (the memory adapter, Deno's, the same)", async () => {
    const hubs = memoryRealtime();
    const organizationId = uuidv7();
    const other = uuidv7();
    const [userId, left, kept] = [uuidv7(), uuidv7(), uuidv7()];
    await hubs.publish([userId], { id: uuidv7(), type: "alert.created", organizationId, data: { patientId: left } });
    await hubs.publish([userId], { id: uuidv7(), type: "alert.created", organizationId, data: { patientId: kept } });
    await hubs.publish([userId], { id: uuidv7(), type: "alert.created", organizationId: other, data: { patientId: left } });
    await hubs.publish([userId], { id: uuidv7(), type: "appointment.updated", organizationId, data: { patientId: left, clinicianId: userId } });
    await hubs.forget(userId, organizationId, left);
    expect(hubs.events(userId).map((event) => `${event.organizationId === other ? "other" : "this"}:${event.type}:${String(event.data.patientId === left ? "left" : "kept")}`)).toEqual([
      "this:alert.created:kept",
      "other:alert.created:left",
      "this:appointment.updated:left",
    ]);
  });
});
