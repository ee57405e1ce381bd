import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, jsonBody, type Tenant, patch } from "./fixtures.ts";
import { api } from "./helpers.ts";

describe("tenancy", () => {
  let a: Tenant;
  let b: Tenant;
  let bKeyId: string;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTenant("Practice A"), createTenant("Practice B")]);
    const issued = await api("/api/v1/api-keys", jsonBody({ name: "B key", scopes: ["organization:read"] }, b.members.owner.headers));
    bKeyId = ((await issued.json()) as { id: string }).id;
    await api("/api/v1/api-keys", jsonBody({ name: "A key", scopes: ["organization:read"] }, a.members.owner.headers));
  });

  it("answers 404 to A's admin for B's members, exactly like a missing one", async () => {
    const target = b.members.staff.id;
    const changed = await api(`/api/v1/members/${target}`, patch({ role: "patient" }, a.members.admin.headers));
    expect(changed.status).toBe(404);
    const removed = await api(`/api/v1/members/${target}`, { method: "DELETE", headers: a.members.admin.headers });
    expect(removed.status).toBe(404);
    const missing = await api(`/api/v1/members/${crypto.randomUUID()}`, { method: "DELETE", headers: a.members.admin.headers });
    expect(((await removed.json()) as { title: string }).title).toBe(((await missing.json()) as { title: string }).title);
    const stillThere = await api("/api/v1/members?limit=100", { headers: b.members.admin.headers });
    const list = (await stillThere.json()) as { data: { userId: string; role: string }[] };
    expect(list.data).toContainEqual(expect.objectContaining({ userId: target, role: "staff" }));
  });

  it("answers 404 to A's admin for B's API key", async () => {
    const rotate = await api(`/api/v1/api-keys/${bKeyId}/rotate`, { method: "POST", headers: a.members.admin.headers });
    expect(rotate.status).toBe(404);
    const revoke = await api(`/api/v1/api-keys/${bKeyId}`, { method: "DELETE", headers: a.members.admin.headers });
    expect(revoke.status).toBe(404);
    const bList = await api("/api/v1/api-keys", { headers: b.members.admin.headers });
    const keys = (await bList.json()) as { data: { id: string; revokedAt: string | null }[] };
    expect(keys.data.find((key) => key.id === bKeyId)?.revokedAt).toBeNull();
  });

  it("lists only the caller's organization's data", async () => {
    const members = (await (await api("/api/v1/members?limit=100", { headers: a.members.admin.headers })).json()) as { data: { userId: string }[] };
    const aIds = Object.values(a.members).map((member) => member.id).sort();
    expect(members.data.map((member) => member.userId).sort()).toEqual(aIds);
    const keys = (await (await api("/api/v1/api-keys", { headers: a.members.admin.headers })).json()) as { data: { name: string }[] };
    expect(keys.data.map((key) => key.name)).toEqual(["A key"]);
    const organization = (await (await api("/api/v1/organization", { headers: a.members.patient.headers })).json()) as { id: string; name: string };
    expect(organization).toMatchObject({ id: a.organizationId, name: "Practice A" });
  });

  it("an organization change touches only the caller's organization", async () => {
    const response = await api("/api/v1/organization", patch({ name: "Practice A+", timezone: "Europe/Berlin", locale: "de-DE" }, a.members.owner.headers));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: a.organizationId, name: "Practice A+", timezone: "Europe/Berlin", locale: "de-DE" });
    const other = (await (await api("/api/v1/organization", { headers: b.members.owner.headers })).json()) as { name: string; timezone: string };
    expect(other).toMatchObject({ name: "Practice B", timezone: "UTC" });
  });

  it("rejects an unknown timezone, an empty patch and unknown fields", async () => {
    const { headers } = a.members.owner;
    const zone = await api("/api/v1/organization", patch({ timezone: "Nowhere/Town" }, headers));
    expect(zone.status).toBe(422);
    expect(JSON.stringify(await zone.json())).toContain("body.timezone");
    expect((await api("/api/v1/organization", patch({}, headers))).status).toBe(422);
    expect((await api("/api/v1/organization", patch({ slug: "x" }, headers))).status).toBe(422);
  });
});
