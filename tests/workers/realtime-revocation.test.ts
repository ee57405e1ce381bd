import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { domainEvents } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { dispatchEvent } from "#src/features/events/events.service.ts";
import { liveRecipients, liveUpdatesConsumer } from "#src/features/realtime/realtime.consumers.ts";
import { backgroundDeps } from "#src/lib/deps.ts";
import { domainEvent, type EventType } from "#src/lib/events.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { createLogger } from "#src/lib/logger.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import { createMailer } from "#src/platform/mailer.ts";
import type { Realtime, RealtimeEvent } from "#src/platform/ports.ts";
import { addMember, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, type Tenant } from "./fixtures.ts";
import { api, testDb } from "./helpers.ts";
import { connect, type LiveMessage, realtime, ticketFor, upgrade } from "./realtime-client.ts";

/**
 * Revocation closes live sockets (removal and role change: 4003 in that organization; logout-all:
 * 4001 everywhere), and the domain-event consumer publishes alerts, reminders and appointment
 * changes to exactly the users who may see the patient.
 */

function jobDeps(realtimeOverride?: Realtime) {
  const config = parseConfig(env);
  const logger = createLogger("error");
  const adapters = cloudflarePlatform.adapters(env);
  return backgroundDeps({
    db: testDb(),
    config,
    logger,
    adapters: realtimeOverride ? { ...adapters, realtime: realtimeOverride } : adapters,
    mailer: createMailer(config, logger),
    run: "test:realtime",
  });
}

describe("closing sockets on revocation", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Revocation Practice");
  });

  it("closes a removed member's sockets with 4003, and their next ticket request fails", async () => {
    const member = await addMember(tenant, "caregiver");
    const client = await connect(member);
    const removed = await api(`/api/v1/members/${member.id}`, { method: "DELETE", headers: tenant.members.owner.headers });
    expect(removed.status).toBe(204);
    expect(await client.closed).toEqual({ code: 4003, reason: expect.stringMatching(/membership changed/) });
    const ticket = await api("/api/v1/realtime/ticket", { method: "POST", headers: member.headers });
    expect(ticket.status).toBe(401);
  });

  it("closes a member's sockets with 4003 when their role changes", async () => {
    const member = await addMember(tenant, "clinician");
    const client = await connect(member);
    const changed = await api(`/api/v1/members/${member.id}`, jsonBody({ role: "staff" }, tenant.members.owner.headers, "PATCH"));
    expect(changed.status).toBe(200);
    expect((await client.closed).code).toBe(4003);
  });

  it("closes every socket of the user, in every organization, with 4001 on logout-all", async () => {
    const member = await addMember(tenant, "admin");
    const [one, two] = await Promise.all([connect(member), connect(member)]);
    const response = await api("/api/v1/auth/logout-all", { method: "POST", headers: member.headers });
    expect(response.status).toBe(204);
    expect(await one.closed).toEqual({ code: 4001, reason: "signed out everywhere" });
    expect((await two.closed).code).toBe(4001);
  });

  it("refuses a ticket bought before a removal once the member is removed", async () => {
    const member = await addMember(tenant, "caregiver");
    const ticket = await ticketFor(member);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await api(`/api/v1/members/${member.id}`, { method: "DELETE", headers: tenant.members.owner.headers })).status).toBe(204);
    expect((await upgrade(ticket)).status).toBe(401);
  });
});

describe("the live-updates consumer", () => {
  let tenant: Tenant;
  let outsider: Member;
  let staffOnTeam: Member;
  let otherClinician: Member;
  let patientId: string;

  beforeAll(async () => {
    tenant = await createTenant("Consumer Practice");
    outsider = await addMember(tenant, "caregiver");
    staffOnTeam = tenant.members.staff;
    otherClinician = await addMember(tenant, "clinician");
    patientId = await insertPatient(tenant, {
      userId: tenant.members.patient.id,
      careTeam: [
        { userId: tenant.members.clinician.id, relationship: "therapist", primary: true },
        { userId: tenant.members.caregiver.id, relationship: "daughter" },
        { userId: staffOnTeam.id, relationship: "coordinator" },
      ],
    });
  });

  const delivered = (type: EventType, payload: Record<string, string>) => ({
    ...domainEvent(tenant.organizationId, type, { type: type.split(".")[0] ?? "alert", id: uuidv7() }, payload),
    attempts: 1,
  });

  it("handles alerts, reminders and appointment changes, nothing else", () => {
    for (const type of ["alert.created", "alert.escalated", "reminder.due", "reminder.missed", "appointment.updated"]) expect(liveUpdatesConsumer.handles(type)).toBe(true);
    for (const type of ["patient.updated", "note.signed", "schedule.created"]) expect(liveUpdatesConsumer.handles(type)).toBe(false);
  });

  it("sends a care-loop event to the care team (not staff), the owners and admins, and the patient", async () => {
    const recipients = await liveRecipients(jobDeps(), delivered("alert.created", { patientId, severity: "high", type: "inactivity" }));
    const m = tenant.members;
    expect(recipients.sort()).toEqual([m.owner.id, m.admin.id, m.clinician.id, m.caregiver.id, m.patient.id].sort());
    expect(recipients).not.toContain(staffOnTeam.id);
    expect(recipients).not.toContain(outsider.id);
  });

  it("sends an appointment event to its clinician too, and to the whole care team", async () => {
    const recipients = await liveRecipients(jobDeps(), delivered("appointment.scheduled", { appointmentId: uuidv7(), patientId, clinicianId: otherClinician.id, status: "scheduled" }));
    expect(recipients).toContain(otherClinician.id);
    expect(recipients).toContain(staffOnTeam.id);
    expect(recipients).toContain(tenant.members.patient.id);
    expect(recipients).not.toContain(outsider.id);
  });

  it("sends an event about another organization's patient to nobody but this organization's managers", async () => {
    const other = await createTenant("Elsewhere");
    const foreignPatient = await insertPatient(other, { careTeam: [{ userId: other.members.clinician.id }] });
    const recipients = await liveRecipients(jobDeps(), delivered("alert.created", { patientId: foreignPatient, severity: "high" }));
    expect(recipients.sort()).toEqual([tenant.members.owner.id, tenant.members.admin.id].sort());
  });

  it("publishes the payload (ids and states) with the event id, once per redelivery at most", async () => {
    const published: { userIds: readonly string[]; event: RealtimeEvent }[] = [];
    const recording: Realtime = { ...realtime(), publish: async (userIds, event) => void published.push({ userIds, event }) };
    const event = delivered("reminder.missed", { patientId, kind: "medication" });
    await liveUpdatesConsumer.outside?.(event, jobDeps(recording));
    expect(published).toHaveLength(1);
    expect(published[0]?.event).toEqual({ id: event.id, type: "reminder.missed", organizationId: tenant.organizationId, data: { patientId, kind: "medication" } });
  });

  it("reaches a caregiver's open socket through the outbox, and a redelivery sends nothing new", async () => {
    const client = await connect(tenant.members.caregiver);
    const event = domainEvent(tenant.organizationId, "alert.created", { type: "alert", id: uuidv7() }, { patientId, severity: "critical", type: "missed_medication" });
    await testDb()
      .insert(domainEvents)
      .values({ id: event.id, organizationId: event.organizationId, type: event.type, subjectType: event.subjectType, subjectId: event.subjectId, payload: event.payload });
    await dispatchEvent(jobDeps(), tenant.organizationId, event.id, [liveUpdatesConsumer]);
    const message = (await client.next()) as LiveMessage;
    expect(message).toMatchObject({ type: "alert.created", organizationId: tenant.organizationId, data: { patientId, severity: "critical", type: "missed_medication" } });
    await liveUpdatesConsumer.outside?.({ ...event, attempts: 2 }, jobDeps());
    expect(await client.drain()).toEqual([]);
  });
});
