import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Role } from "#src/db/schema/identity.ts";
import { apiKeys, auditEvents, memberships, users } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { signAccessToken } from "#src/lib/tokens.ts";
import { createTenant, jsonBody, type Tenant, uniqueEmail } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

const json = (method: string, body: unknown, headers: Record<string, string>): RequestInit => ({
  method,
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});

/** One more member of `tenant` (who never signs in with a password), with an access token. */
async function addMember(tenant: Tenant, role: Role): Promise<{ id: string; headers: Record<string, string> }> {
  const id = uuidv7();
  const db = testDb();
  await db.batch([
    db.insert(users).values({ id, email: uniqueEmail(role), name: role, passwordHash: "unused" }),
    db.insert(memberships).values({ organizationId: tenant.organizationId, userId: id, role }),
  ]);
  const token = await signAccessToken(parseConfig(env), { userId: id, organizationId: tenant.organizationId, role });
  return { id, headers: { Authorization: `Bearer ${token}` } };
}

async function issueKey(headers: Record<string, string>, scopes: string[]): Promise<{ id: string; key: string }> {
  const response = await api("/api/v1/api-keys", jsonBody({ name: "integration", scopes }, headers));
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; key: string };
}

const keyStatus = async (key: string) => (await api("/api/v1/organization", { headers: { "X-API-Key": key } })).status;

describe("members", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Members Practice");
  });

  it("lists the organization's members with a cursor", async () => {
    const first = await api("/api/v1/members?limit=4", { headers: tenant.members.staff.headers });
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { data: { userId: string; role: string }[]; nextCursor: string | null };
    expect(page1.data).toHaveLength(4);
    expect(page1.nextCursor).not.toBeNull();
    const second = await api(`/api/v1/members?limit=4&cursor=${page1.nextCursor}`, { headers: tenant.members.staff.headers });
    const page2 = (await second.json()) as typeof page1;
    expect(page2.data).toHaveLength(2);
    expect(page2.nextCursor).toBeNull();
    const roles = [...page1.data, ...page2.data].map((member) => member.role).sort();
    expect(roles).toEqual(["admin", "caregiver", "clinician", "owner", "patient", "staff"]);
  });

  it("rejects a limit over 100", async () => {
    const response = await api("/api/v1/members?limit=101", { headers: tenant.members.admin.headers });
    expect(response.status).toBe(422);
  });

  it("will not let the last owner be demoted or removed", async () => {
    const { owner, admin } = tenant.members;
    const demote = await api(`/api/v1/members/${owner.id}`, json("PATCH", { role: "admin" }, owner.headers));
    expect(demote.status).toBe(409);
    expect((await problemOf(demote)).detail).toMatch(/last owner/);
    const remove = await api(`/api/v1/members/${owner.id}`, { method: "DELETE", headers: owner.headers });
    expect(remove.status).toBe(409);
    const byAdmin = await api(`/api/v1/members/${owner.id}`, { method: "DELETE", headers: admin.headers });
    expect(byAdmin.status).toBe(403);
  });

  it("does not let an admin grant the owner role", async () => {
    const response = await api(`/api/v1/members/${tenant.members.staff.id}`, json("PATCH", { role: "owner" }, tenant.members.admin.headers));
    expect(response.status).toBe(403);
  });

  it("changes a role, audits it and ends the member's current sessions", async () => {
    const local = await createTenant("Role change");
    const { admin, caregiver } = local.members;
    const before = await api("/api/v1/organization", { headers: caregiver.headers });
    expect(before.status).toBe(200);
    const response = await api(`/api/v1/members/${caregiver.id}`, json("PATCH", { role: "staff" }, admin.headers));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ userId: caregiver.id, role: "staff", email: caregiver.email });
    const after = await api("/api/v1/organization", { headers: caregiver.headers });
    expect(after.status).toBe(401);
    const events = await testDb()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.organizationId, local.organizationId), eq(auditEvents.action, "member.role_changed")));
    expect(events).toHaveLength(1);
    expect(events[0]?.targetId).toBe(caregiver.id);
  });

  it("removes a member, whose existing access token then answers 401", async () => {
    const local = await createTenant("Removal");
    const { owner, clinician } = local.members;
    const response = await api(`/api/v1/members/${clinician.id}`, { method: "DELETE", headers: owner.headers });
    expect(response.status).toBe(204);
    const rows = await testDb()
      .select()
      .from(memberships)
      .where(and(eq(memberships.organizationId, local.organizationId), eq(memberships.userId, clinician.id)));
    expect(rows).toHaveLength(0);
    const after = await api("/api/v1/organization", { headers: clinician.headers });
    expect(after.status).toBe(401);
    const again = await api(`/api/v1/members/${clinician.id}`, { method: "DELETE", headers: owner.headers });
    expect(again.status).toBe(404);
  });

  it("lets an owner hand over: promote another owner, then step down", async () => {
    const local = await createTenant("Handover");
    const { owner, admin } = local.members;
    expect((await api(`/api/v1/members/${admin.id}`, json("PATCH", { role: "owner" }, owner.headers))).status).toBe(200);
    const stepDown = await api(`/api/v1/members/${owner.id}`, json("PATCH", { role: "admin" }, owner.headers));
    expect(stepDown.status).toBe(200);
  });

  it("answers 404 for an unknown member and 422 for a bad role or unknown field", async () => {
    const { admin } = tenant.members;
    const missing = await api(`/api/v1/members/${crypto.randomUUID()}`, json("PATCH", { role: "staff" }, admin.headers));
    expect(missing.status).toBe(404);
    const badRole = await api(`/api/v1/members/${tenant.members.staff.id}`, json("PATCH", { role: "king" }, admin.headers));
    expect(badRole.status).toBe(422);
    const extra = await api(`/api/v1/members/${tenant.members.staff.id}`, json("PATCH", { role: "staff", x: 1 }, admin.headers));
    expect(extra.status).toBe(422);
  });

  it("revokes a demoted member's API keys that the new role does not grant, and no others", async () => {
    const local = await createTenant("Demotion keys");
    const { owner, admin } = local.members;
    const beyond = await issueKey(admin.headers, ["organization:read", "members:write"]);
    const within = await issueKey(admin.headers, ["organization:read", "members:read"]);
    const owners = await issueKey(owner.headers, ["organization:read", "members:write"]);
    const response = await api(`/api/v1/members/${admin.id}`, json("PATCH", { role: "clinician" }, owner.headers));
    expect(response.status).toBe(200);
    expect(await keyStatus(beyond.key)).toBe(401);
    expect(await keyStatus(within.key)).toBe(200);
    expect(await keyStatus(owners.key)).toBe(200);
    const [row] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, beyond.id));
    expect(row?.revokedAt).toBeInstanceOf(Date);
  });

  it("revokes the API keys a removed member created, not another admin's", async () => {
    const local = await createTenant("Removal keys");
    const { owner, admin } = local.members;
    const other = await addMember(local, "admin");
    const leaving = await issueKey(admin.headers, ["organization:read", "members:write"]);
    const leavingRotated = await api(`/api/v1/api-keys/${leaving.id}/rotate`, { method: "POST", headers: admin.headers });
    const fresh = (await leavingRotated.json()) as { id: string; key: string };
    const staying = await issueKey(other.headers, ["organization:read", "members:write"]);
    expect(await keyStatus(leaving.key)).toBe(200);
    const response = await api(`/api/v1/members/${admin.id}`, { method: "DELETE", headers: owner.headers });
    expect(response.status).toBe(204);
    expect(await keyStatus(leaving.key)).toBe(401);
    expect(await keyStatus(fresh.key)).toBe(401);
    expect(await keyStatus(staying.key)).toBe(200);
  });
});
