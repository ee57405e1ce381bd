import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { pushDevices } from "#src/db/schema/index.ts";
import { DEVICES_PER_USER } from "#src/features/devices/devices.service.ts";
import { createTenant, jsonBody } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

/** Push devices: a person's FCM tokens, registered by upsert on the token and removed by their owner only. */

const token = () => `fcm-${crypto.randomUUID()}-${crypto.randomUUID()}`;
const register = (headers: Record<string, string>, body: unknown) => api("/api/v1/me/devices", jsonBody(body, headers));
const rowsFor = (value: string) => testDb().select().from(pushDevices).where(eq(pushDevices.token, value));

describe("push devices", () => {
  it("registers a token (201), answers 200 for a known one, and lists the caller's without tokens", async () => {
    const tenant = await createTenant("Devices Practice");
    const headers = tenant.members.caregiver.headers;
    const value = token();
    const created = await register(headers, { token: value, platform: "ios", label: "Ana's phone" });
    expect(created.status).toBe(201);
    const device = (await created.json()) as { id: string; platform: string; label: string };
    expect(device).toMatchObject({ platform: "ios", label: "Ana's phone", createdAt: expect.any(String), lastSeenAt: expect.any(String) });
    expect(device).not.toHaveProperty("token");

    const again = await register(headers, { token: value, platform: "ios" });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string; label: string })).toMatchObject({ id: device.id, label: "Ana's phone" });
    expect(await rowsFor(value)).toHaveLength(1);

    const list = (await (await api("/api/v1/me/devices", { headers })).json()) as { data: { id: string }[] };
    expect(list.data.map((d) => d.id)).toEqual([device.id]);
    const others = (await (await api("/api/v1/me/devices", { headers: tenant.members.clinician.headers })).json()) as { data: unknown[] };
    expect(others.data).toEqual([]);
  });

  it("moves a token to the person who registers it last", async () => {
    const tenant = await createTenant("Devices Handover Practice");
    const value = token();
    await register(tenant.members.caregiver.headers, { token: value, platform: "android", label: "old owner's label" });
    const moved = await register(tenant.members.patient.headers, { token: value, platform: "android" });
    expect(moved.status).toBe(200);
    expect(((await moved.json()) as { label: string | null }).label).toBeNull();
    expect((await rowsFor(value)).map((row) => row.userId)).toEqual([tenant.members.patient.id]);
  });

  it(`keeps a person's ${DEVICES_PER_USER} most recently seen devices`, async () => {
    const tenant = await createTenant("Devices Cap Practice");
    const headers = tenant.members.caregiver.headers;
    const tokens = Array.from({ length: DEVICES_PER_USER + 2 }, token);
    for (const value of tokens) expect((await register(headers, { token: value, platform: "android" })).status).toBe(201);
    const kept = await testDb().select().from(pushDevices).where(eq(pushDevices.userId, tenant.members.caregiver.id));
    expect(kept.map((row) => row.token).sort()).toEqual(tokens.slice(2).sort());
  });

  it("deletes only the caller's own device: 204, then 404, and 404 for another person's", async () => {
    const tenant = await createTenant("Devices Delete Practice");
    const mine = (await (await register(tenant.members.caregiver.headers, { token: token(), platform: "web" })).json()) as { id: string };
    const stranger = await api(`/api/v1/me/devices/${mine.id}`, { method: "DELETE", headers: tenant.members.clinician.headers });
    expect(stranger.status).toBe(404);
    expect((await problemOf(stranger)).status).toBe(404);
    const removed = await api(`/api/v1/me/devices/${mine.id}`, { method: "DELETE", headers: tenant.members.caregiver.headers });
    expect(removed.status).toBe(204);
    expect((await api(`/api/v1/me/devices/${mine.id}`, { method: "DELETE", headers: tenant.members.caregiver.headers })).status).toBe(404);
  });

  it("refuses bad input (422), API keys (403) and anonymous callers (401)", async () => {
    const tenant = await createTenant("Devices Validation Practice");
    const headers = tenant.members.caregiver.headers;
    for (const body of [{ token: token(), platform: "blackberry" }, { token: "short", platform: "ios" }, { platform: "ios" }, { token: token(), platform: "ios", extra: 1 }, { token: "has spaces in it, not a token", platform: "ios" }]) {
      expect((await register(headers, body)).status).toBe(422);
    }
    expect((await api("/api/v1/me/devices/not-a-uuid", { method: "DELETE", headers })).status).toBe(422);
    const key = await api("/api/v1/api-keys", jsonBody({ name: "devices", scopes: ["patients:read"] }, tenant.members.admin.headers));
    const apiKey = { "X-API-Key": ((await key.json()) as { key: string }).key };
    expect((await register(apiKey, { token: token(), platform: "ios" })).status).toBe(403);
    expect((await api("/api/v1/me/devices", { headers: apiKey })).status).toBe(403);
    expect((await register({}, { token: token(), platform: "ios" })).status).toBe(401);
  });
});
