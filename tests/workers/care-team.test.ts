import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditEvents, careTeamMembers, domainEvents } from "#src/db/schema/index.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { addMember, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

interface TeamMember {
  userId: string;
  name: string;
  role: string;
  relationship: string;
  isPrimary: boolean;
  createdAt: string;
}

const teamOf = async (patientId: string, member: Member): Promise<TeamMember[]> => {
  const response = await api(`/api/v1/patients/${patientId}/care-team`, { headers: member.headers });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: TeamMember[] }).data;
};

const add = (patientId: string, member: Member, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  api(`/api/v1/patients/${patientId}/care-team`, jsonBody(body, { ...member.headers, ...headers }));

const remove = (patientId: string, userId: string, member: Member, headers: Record<string, string> = {}) =>
  api(`/api/v1/patients/${patientId}/care-team/${userId}`, { method: "DELETE", headers: { ...member.headers, ...headers } });

const auditFor = (requestId: string) => testDb().select().from(auditEvents).where(eq(auditEvents.requestId, requestId));

describe("care teams", () => {
  let tenant: Tenant;
  let other: Tenant;
  beforeAll(async () => {
    [tenant, other] = await Promise.all([createTenant("Care Team Practice"), createTenant("Care Team Elsewhere")]);
  });

  const caredPatient = () => insertPatient(tenant, { careTeam: [{ userId: tenant.members.clinician.id, relationship: "therapist" }] });

  it("lists the team primary first, with names and roles, audited with the request id", async () => {
    const id = await caredPatient();
    await testDb().insert(careTeamMembers).values({ organizationId: tenant.organizationId, patientId: id, userId: tenant.members.caregiver.id, relationship: "son" });
    const requestId = `team-${uuidv7()}`;
    const response = await api(`/api/v1/patients/${id}/care-team`, { headers: { ...tenant.members.caregiver.headers, "X-Request-ID": requestId } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Server-Timing")).toContain('"1 round trips"');
    const { data } = (await response.json()) as { data: TeamMember[] };
    expect(data.map((member) => [member.userId, member.role, member.relationship, member.isPrimary])).toEqual([
      [tenant.members.clinician.id, "clinician", "therapist", true],
      [tenant.members.caregiver.id, "caregiver", "son", false],
    ]);
    const [audit] = await auditFor(requestId);
    expect(audit).toMatchObject({ action: "care_team.read", patientIds: [id], metadata: { outcome: "ok" } });
  });

  it("adds a clinician or caregiver (201), writing the event and audit row in one round trip", async () => {
    const id = await caredPatient();
    const caregiver = await addMember(tenant, "caregiver");
    const requestId = `team-add-${uuidv7()}`;
    const response = await add(id, tenant.members.clinician, { userId: caregiver.id, relationship: "neighbour" }, { "X-Request-ID": requestId });
    expect(response.status).toBe(201);
    expect(response.headers.get("Server-Timing")).toContain('"1 round trips"');
    expect(await response.json()).toMatchObject({ userId: caregiver.id, role: "caregiver", relationship: "neighbour", isPrimary: false });
    const [audit] = await auditFor(requestId);
    expect(audit).toMatchObject({ action: "care_team.added", targetId: caregiver.id, patientIds: [id], metadata: { outcome: "ok" } });
    const events = await testDb().select().from(domainEvents).where(eq(domainEvents.requestId, requestId));
    expect(events.map((event) => [event.type, event.subjectId, event.payload])).toEqual([
      ["patient.updated", id, { change: "care_team.added", userId: caregiver.id, isPrimary: false }],
    ]);
  });

  it("makes a new primary by demoting the old one in the same round trip", async () => {
    const id = await caredPatient();
    const second = await addMember(tenant, "clinician");
    const response = await add(id, tenant.members.admin, { userId: second.id, relationship: "psychiatrist", isPrimary: true });
    expect(response.status).toBe(201);
    expect(response.headers.get("Server-Timing")).toContain('"1 round trips"');
    const team = await teamOf(id, tenant.members.admin);
    expect(team.filter((member) => member.isPrimary).map((member) => member.userId)).toEqual([second.id]);
    expect(team).toHaveLength(2);
  });

  it("leaves exactly one primary when new primaries race", async () => {
    const id = await caredPatient();
    const candidates = await Promise.all([addMember(tenant, "clinician"), addMember(tenant, "clinician"), addMember(tenant, "caregiver")]);
    const responses = await Promise.all(candidates.map((candidate) => add(id, tenant.members.owner, { userId: candidate.id, relationship: "covering", isPrimary: true })));
    for (const response of responses) expect([201, 409]).toContain(response.status);
    expect(responses.some((response) => response.status === 201)).toBe(true);
    const primaries = (await teamOf(id, tenant.members.owner)).filter((member) => member.isPrimary);
    expect(primaries).toHaveLength(1);
  });

  it("refuses a second primary from the schema itself (care_team_one_primary)", async () => {
    const id = await caredPatient();
    const insert = testDb().insert(careTeamMembers).values({ organizationId: tenant.organizationId, patientId: id, userId: tenant.members.caregiver.id, relationship: "x", isPrimary: true });
    await expect(insert).rejects.toThrow();
  });

  it("refuses a duplicate member (409) and members who are not clinicians or caregivers here (422 on body.userId)", async () => {
    const id = await caredPatient();
    const duplicate = await add(id, tenant.members.owner, { userId: tenant.members.clinician.id, relationship: "again" });
    expect(duplicate.status).toBe(409);
    const foreign = await addMember(other, "clinician");
    for (const userId of [tenant.members.staff.id, tenant.members.patient.id, tenant.members.owner.id, foreign.id, uuidv7()]) {
      const response = await add(id, tenant.members.owner, { userId, relationship: "helper" });
      expect(response.status).toBe(422);
      expect(((await problemOf(response)).errors as { path: string }[])[0]?.path).toBe("body.userId");
    }
    for (const body of [{ userId: "nope", relationship: "x" }, { userId: tenant.members.caregiver.id }, { userId: tenant.members.caregiver.id, relationship: "x", extra: 1 }]) {
      expect((await add(id, tenant.members.owner, body)).status, JSON.stringify(body)).toBe(422);
    }
    expect(await teamOf(id, tenant.members.owner)).toHaveLength(1);
  });

  it("answers 404 for another tenant's patient and one outside a clinician's reach; 403 without care-team:write", async () => {
    const id = await caredPatient();
    const foreignPatient = await insertPatient(other, {});
    expect((await add(foreignPatient, tenant.members.owner, { userId: tenant.members.caregiver.id, relationship: "x" })).status).toBe(404);
    const outsider = await addMember(tenant, "clinician");
    expect((await add(id, outsider, { userId: outsider.id, relationship: "self-appointed" })).status).toBe(404);
    expect((await add(id, tenant.members.staff, { userId: tenant.members.caregiver.id, relationship: "x" })).status).toBe(403);
    expect((await add(uuidv7(), tenant.members.owner, { userId: tenant.members.caregiver.id, relationship: "x" })).status).toBe(404);
    expect((await api(`/api/v1/patients/${foreignPatient}/care-team`, { headers: tenant.members.owner.headers })).status).toBe(404);
    expect((await api(`/api/v1/patients/${id}/care-team`, { headers: outsider.headers })).status).toBe(404);
    expect((await api("/api/v1/patients/nope/care-team", { headers: tenant.members.owner.headers })).status).toBe(422);
  });

  it("removes a member (204) with its event and audit row; 404 when not on the team", async () => {
    const id = await caredPatient();
    const requestId = `team-remove-${uuidv7()}`;
    const response = await remove(id, tenant.members.clinician.id, tenant.members.admin, { "X-Request-ID": requestId });
    expect(response.status).toBe(204);
    const rows = await testDb().select().from(careTeamMembers).where(and(eq(careTeamMembers.patientId, id)));
    expect(rows).toHaveLength(0);
    const [audit] = await auditFor(requestId);
    expect(audit).toMatchObject({ action: "care_team.removed", targetId: tenant.members.clinician.id, patientIds: [id], metadata: { outcome: "ok" } });
    const events = await testDb().select().from(domainEvents).where(eq(domainEvents.requestId, requestId));
    expect(events.map((event) => event.type)).toEqual(["patient.updated"]);
    const again = await remove(id, tenant.members.clinician.id, tenant.members.admin);
    expect(again.status).toBe(404);
    expect((await remove(id, "nope", tenant.members.admin)).status).toBe(422);
    expect((await remove(id, tenant.members.clinician.id, tenant.members.caregiver)).status).toBe(403);
  });

  it("invalidates the clinicians list: the writer sees the new patient count at once", async () => {
    const clinician = await addMember(tenant, "clinician");
    const countOf = async () => {
      const response = await api("/api/v1/clinicians", { headers: tenant.members.admin.headers });
      expect(response.status).toBe(200);
      const { data } = (await response.json()) as { data: { id: string; patientCount: number }[] };
      return data.find((entry) => entry.id === clinician.id)?.patientCount;
    };
    const id = await caredPatient();
    expect(await countOf()).toBe(0);
    expect(await countOf()).toBe(0);
    expect((await add(id, tenant.members.admin, { userId: clinician.id, relationship: "covering" })).status).toBe(201);
    expect(await countOf()).toBe(1);
    expect((await remove(id, clinician.id, tenant.members.admin)).status).toBe(204);
    expect(await countOf()).toBe(0);
  });
});
