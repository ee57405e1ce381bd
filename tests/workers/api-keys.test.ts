import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { apiKeys } from "#src/db/schema/index.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { createTenant, jsonBody, type Tenant } from "./fixtures.ts";
import { api, testDb } from "./helpers.ts";

interface Issued {
  id: string;
  key: string;
  prefix: string;
  scopes: string[];
}

async function issue(tenant: Tenant, scopes: string[], name = "EHR sync"): Promise<Issued> {
  const response = await api("/api/v1/api-keys", jsonBody({ name, scopes }, tenant.members.admin.headers));
  expect(response.status).toBe(201);
  return (await response.json()) as Issued;
}

const withKey = (key: string) => ({ headers: { "X-API-Key": key } });

describe("API keys", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Keys Practice");
  });

  it("shows the key once, stores only its hash, and lists it without the secret", async () => {
    const issued = await issue(tenant, ["organization:read"]);
    expect(issued.key).toMatch(/^tend_[A-Za-z0-9_-]{43}$/);
    expect(issued.prefix).toBe(issued.key.slice(0, 12));
    const [row] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, issued.id));
    expect(row?.keyHash).not.toContain(issued.key);
    const list = await api("/api/v1/api-keys", { headers: tenant.members.owner.headers });
    const text = await list.text();
    expect(list.status).toBe(200);
    expect(text).toContain(issued.id);
    expect(text).not.toContain(issued.key);
  });

  it("authenticates with X-API-Key within its scopes only", async () => {
    const issued = await issue(tenant, ["organization:read"]);
    const read = await api("/api/v1/organization", withKey(issued.key));
    expect(read.status).toBe(200);
    expect(((await read.json()) as { id: string }).id).toBe(tenant.organizationId);
    const members = await api("/api/v1/members", withKey(issued.key));
    expect(members.status).toBe(403);
  });

  it("sets last_used_at on use and does not rewrite it within a minute", async () => {
    const issued = await issue(tenant, ["organization:read"]);
    expect((await api("/api/v1/organization", withKey(issued.key))).status).toBe(200);
    const [first] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, issued.id));
    expect(first?.lastUsedAt).toBeInstanceOf(Date);
    expect((await api("/api/v1/organization", withKey(issued.key))).status).toBe(200);
    const [second] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, issued.id));
    expect(second?.lastUsedAt?.getTime()).toBe(first?.lastUsedAt?.getTime());
  });

  it("rotates: old and new keys both work during the grace period, then revoke kills a key", async () => {
    const old = await issue(tenant, ["organization:read", "members:read"]);
    const rotated = await api(`/api/v1/api-keys/${old.id}/rotate`, { method: "POST", headers: tenant.members.admin.headers });
    expect(rotated.status).toBe(201);
    const fresh = (await rotated.json()) as Issued;
    expect(fresh.key).not.toBe(old.key);
    expect(fresh.scopes.sort()).toEqual(["members:read", "organization:read"]);
    expect((await api("/api/v1/members", withKey(old.key))).status).toBe(200);
    expect((await api("/api/v1/members", withKey(fresh.key))).status).toBe(200);
    const [oldRow] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, old.id));
    expect(oldRow?.replacedBy).toBe(fresh.id);
    expect(oldRow?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);

    const again = await api(`/api/v1/api-keys/${old.id}/rotate`, { method: "POST", headers: tenant.members.admin.headers });
    expect(again.status).toBe(409);

    const revoked = await api(`/api/v1/api-keys/${fresh.id}`, { method: "DELETE", headers: tenant.members.admin.headers });
    expect(revoked.status).toBe(204);
    expect((await api("/api/v1/organization", withKey(fresh.key))).status).toBe(401);
  });

  it("refuses key creation to a clinician and a patient", async () => {
    for (const role of ["clinician", "patient"] as const) {
      const response = await api("/api/v1/api-keys", jsonBody({ name: "x", scopes: ["organization:read"] }, tenant.members[role].headers));
      expect(response.status).toBe(403);
    }
  });

  it("lets only a signed-in member create, rotate or revoke keys; a key with api-keys:* may only list", async () => {
    const manager = await issue(tenant, ["organization:read", "api-keys:read", "api-keys:write"]);
    const powerful = await issue(tenant, ["organization:read", "members:write"]);
    const create = await api("/api/v1/api-keys", jsonBody({ name: "minted", scopes: ["organization:read"] }, { "X-API-Key": manager.key }));
    expect(create.status).toBe(403);
    const escalate = await api("/api/v1/api-keys", jsonBody({ name: "escalate", scopes: ["members:write"] }, { "X-API-Key": manager.key }));
    expect(escalate.status).toBe(403);
    // The review's escalation: rotating a members:write key handed its fresh secret to an api-keys:write key.
    const rotate = await api(`/api/v1/api-keys/${powerful.id}/rotate`, { method: "POST", headers: { "X-API-Key": manager.key } });
    expect(rotate.status).toBe(403);
    const revoke = await api(`/api/v1/api-keys/${powerful.id}`, { method: "DELETE", headers: { "X-API-Key": manager.key } });
    expect(revoke.status).toBe(403);
    const [row] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, powerful.id));
    expect(row).toMatchObject({ replacedBy: null, revokedAt: null, expiresAt: null });
    const keysMadeByKeys = await testDb().select().from(apiKeys).where(eq(apiKeys.organizationId, tenant.organizationId));
    expect(keysMadeByKeys.filter((key) => key.createdBy === null)).toEqual([]);
    const list = await api("/api/v1/api-keys", withKey(manager.key));
    expect(list.status).toBe(200);
  });

  it("refuses to rotate a key carrying a scope the caller cannot grant", async () => {
    // No role lacks a grantable scope today, so plant a key with one no one holds (a retired permission, say).
    const id = uuidv7();
    await testDb()
      .insert(apiKeys)
      .values({ id, organizationId: tenant.organizationId, createdBy: tenant.members.owner.id, name: "legacy", prefix: "tend_legacy0", keyHash: `legacy-${id}`, scopes: ["organization:read", "billing:write"] });
    const rotate = await api(`/api/v1/api-keys/${id}/rotate`, { method: "POST", headers: tenant.members.owner.headers });
    expect(rotate.status).toBe(403);
    const [row] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, id));
    expect(row).toMatchObject({ replacedBy: null, expiresAt: null });
  });

  it("rejects scopes a key may never hold and unknown fields", async () => {
    const personal = await api("/api/v1/api-keys", jsonBody({ name: "self", scopes: ["profile:self"] }, tenant.members.owner.headers));
    expect(personal.status).toBe(422);
    const extra = await api("/api/v1/api-keys", jsonBody({ name: "x", scopes: ["organization:read"], admin: true }, tenant.members.owner.headers));
    expect(extra.status).toBe(422);
  });

  it("answers 404 for an unknown key id", async () => {
    const id = crypto.randomUUID();
    expect((await api(`/api/v1/api-keys/${id}/rotate`, { method: "POST", headers: tenant.members.admin.headers })).status).toBe(404);
    expect((await api(`/api/v1/api-keys/${id}`, { method: "DELETE", headers: tenant.members.admin.headers })).status).toBe(404);
  });
});
