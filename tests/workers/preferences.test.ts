import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { memberships } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { signAccessToken } from "#src/lib/tokens.ts";
import { createTenant, type Tenant, patch } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

describe("preferences", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Preferences Practice");
  });

  it("answers the defaults before anything is set", async () => {
    const response = await api("/api/v1/me/preferences", { headers: tenant.members.patient.headers });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      channels: { email: true, sms: false, push: true },
      alertThreshold: "medium",
      quietHours: { enabled: false, start: "22:00", end: "07:00" },
      dailySummaryTime: "08:00",
      timezone: "UTC",
    });
  });

  it("merges nested objects field by field across patches", async () => {
    const { headers } = tenant.members.caregiver;
    const first = await api("/api/v1/me/preferences", patch({ channels: { sms: true }, quietHours: { enabled: true, start: "23:30" } }, headers));
    expect(first.status).toBe(200);
    const second = await api("/api/v1/me/preferences", patch({ channels: { email: false }, alertThreshold: "high", timezone: "America/New_York" }, headers));
    expect(second.status).toBe(200);
    const expected = {
      channels: { email: false, sms: true, push: true },
      alertThreshold: "high",
      quietHours: { enabled: true, start: "23:30", end: "07:00" },
      dailySummaryTime: "08:00",
      timezone: "America/New_York",
    };
    expect(await second.json()).toEqual(expected);
    const read = await api("/api/v1/me/preferences", { headers });
    expect(await read.json()).toEqual(expected);
  });

  it.each([
    [{ timezone: "Mars/Olympus" }, "body.timezone"],
    [{ dailySummaryTime: "24:00" }, "body.dailySummaryTime"],
    [{ quietHours: { start: "7:00" } }, "body.quietHours.start"],
    [{ alertThreshold: "extreme" }, "body.alertThreshold"],
    [{ channels: { fax: true } }, "body.channels.fax"],
  ])("rejects %j with a 422 naming %s", async (body, path) => {
    const response = await api("/api/v1/me/preferences", patch(body, tenant.members.staff.headers));
    expect(response.status).toBe(422);
    const errors = (await problemOf(response)).errors as { path: string }[];
    expect(errors.map((error) => error.path)).toContain(path);
  });

  it("keeps channels, threshold and quiet hours per practice, and the timezone per person", async () => {
    const person = tenant.members.clinician;
    const second = await createTenant("Second Practice");
    await testDb().insert(memberships).values({ organizationId: second.organizationId, userId: person.id, role: "caregiver" });
    const token = await signAccessToken(parseConfig(env), { userId: person.id, organizationId: second.organizationId, role: "caregiver" });
    const here = person.headers;
    const there = { Authorization: `Bearer ${token}` };

    const first = await api("/api/v1/me/preferences", patch({ quietHours: { enabled: true, start: "21:00" }, alertThreshold: "critical", timezone: "Europe/Paris" }, here));
    expect(first.status).toBe(200);
    const elsewhere = await api("/api/v1/me/preferences", { headers: there });
    expect(await elsewhere.json()).toEqual({
      channels: { email: true, sms: false, push: true },
      alertThreshold: "medium",
      quietHours: { enabled: false, start: "22:00", end: "07:00" },
      dailySummaryTime: "08:00",
      timezone: "Europe/Paris",
    });

    const changed = await api("/api/v1/me/preferences", patch({ quietHours: { enabled: true, start: "23:00", end: "06:00" }, channels: { sms: true } }, there));
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ quietHours: { enabled: true, start: "23:00", end: "06:00" }, channels: { sms: true }, timezone: "Europe/Paris" });
    const home = await api("/api/v1/me/preferences", { headers: here });
    expect(await home.json()).toEqual({
      channels: { email: true, sms: false, push: true },
      alertThreshold: "critical",
      quietHours: { enabled: true, start: "21:00", end: "07:00" },
      dailySummaryTime: "08:00",
      timezone: "Europe/Paris",
    });
  });

  it("is for signed-in members: an API key is refused", async () => {
    const keyResponse = await api("/api/v1/api-keys", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...tenant.members.owner.headers },
      body: JSON.stringify({ name: "prefs", scopes: ["organization:read"] }),
    });
    const { key } = (await keyResponse.json()) as { key: string };
    expect((await api("/api/v1/me/preferences", { headers: { "X-API-Key": key } })).status).toBe(403);
    expect((await api("/api/v1/me/preferences")).status).toBe(401);
  });
});
