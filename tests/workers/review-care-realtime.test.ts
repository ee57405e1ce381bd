import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "#src/env.ts";
import { fromBase64Url, toBase64Url, utf8 } from "#src/lib/encoding.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { signAccessToken } from "#src/lib/tokens.ts";
import { memoryRealtime } from "#src/platform/memory/realtime.ts";
import { addMember } from "./clinical.ts";
import { createTenant, jsonBody, type Tenant } from "./fixtures.ts";
import { api, problemOf } from "./helpers.ts";
import { connect, type LiveMessage, ORIGIN, realtime, ticketFor, upgrade } from "./realtime-client.ts";

/**
 * Security review of the live-updates WebSocket: tickets that are malformed, oversized, altered
 * to name another organization, or bought before a role change; Origins a browser attack sends.
 */

let tenant: Tenant;
let other: Tenant;
beforeAll(async () => {
  [tenant, other] = await Promise.all([createTenant("Review Live A"), createTenant("Review Live B")]);
});

async function expectStatus(response: Response, status: number, field?: string) {
  if (status === 101 || response.status === 101) {
    expect(response.status).toBe(status);
    return;
  }
  const text = await response.clone().text();
  expect(response.status, text).toBe(status);
  const problem = await problemOf(response);
  if (field) expect(JSON.stringify(problem)).toContain(field);
}

describe("GET /realtime under attack", () => {
  it("malformed and oversized tickets: 401, or 422 naming the ticket past its bound", async () => {
    await expectStatus(await upgrade("x".repeat(401)), 422, "ticket");
    for (const ticket of ["", ".", "..", "a.b.c", `e30.${"0".repeat(64)}`, `${toBase64Url(utf8("null"))}.${"0".repeat(64)}`, `%00.${"a".repeat(64)}`]) {
      await expectStatus(await upgrade(ticket), 401);
    }
  });

  it("a ticket whose claims are rewritten to name another organization does not connect", async () => {
    const member = tenant.members.caregiver;
    const ticket = await ticketFor(member);
    const [body, mac] = ticket.split(".") as [string, string];
    const claims = JSON.parse(new TextDecoder().decode(fromBase64Url(body))) as Record<string, unknown>;
    const forged = `${toBase64Url(utf8(JSON.stringify({ ...claims, o: other.organizationId })))}.${mac}`;
    await expectStatus(await upgrade(forged), 401);
    await expectStatus(await upgrade(ticket), 101);
  });

  it("a ticket bought before a role change is refused", async () => {
    const member = await addMember(tenant, "caregiver");
    const ticket = await ticketFor(member);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const changed = await api(`/api/v1/members/${member.id}`, jsonBody({ role: "staff" }, tenant.members.owner.headers, "PATCH"));
    expect(changed.status).toBe(200);
    await expectStatus(await upgrade(ticket), 401);
  });

  it("foreign Origins are a 403 before the ticket is spent", async () => {
    const ticket = await ticketFor(tenant.members.owner);
    for (const origin of ["null", "https://evil.test", `${ORIGIN}.evil.test`, ORIGIN.toUpperCase(), `${ORIGIN}/`]) {
      await expectStatus(await upgrade(ticket, { headers: { Origin: origin } }), 403);
    }
    await expectStatus(await upgrade(ticket), 101);
  });

  it("since must be a whole number from 0 (422 naming since)", async () => {
    for (const since of ["-1", "NaN", "1.5", "1e400", "Infinity", "9007199254740993"]) {
      const response = await api(`/api/v1/realtime?ticket=x&since=${since}`, { headers: { Upgrade: "websocket", Origin: ORIGIN } });
      expect(response.status, since).toBe(422);
      await expectStatus(response, 422, "since");
    }
  });
});

const alertEvent = (organizationId: string) => ({ id: uuidv7(), type: "alert.created", organizationId, data: { patientId: uuidv7(), severity: "high" } });

describe("replay after access changed", () => {
  it("a caregiver made staff replays none of what the caregiver was sent (NotificationHub)", async () => {
    const member = await addMember(tenant, "caregiver");
    await realtime().publish([member.id], alertEvent(tenant.organizationId));
    await realtime().publish([member.id], alertEvent(other.organizationId));
    const changed = await api(`/api/v1/members/${member.id}`, jsonBody({ role: "staff" }, tenant.members.owner.headers, "PATCH"));
    expect(changed.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const token = await signAccessToken(parseConfig(env), { userId: member.id, organizationId: tenant.organizationId, role: "staff", sessionId: uuidv7() });
    const client = await connect({ ...member, role: "staff", token, headers: { Authorization: `Bearer ${token}` } }, 0);
    const replayed = (await client.drain()).filter((message): message is LiveMessage => typeof message !== "string" && message.seq !== null);
    expect(replayed).toEqual([]);
  });

  it("the memory adapter forgets the organization's events on a removal or role change, and keeps the others", async () => {
    const hub = memoryRealtime();
    const userId = uuidv7();
    await hub.publish([userId], alertEvent(tenant.organizationId));
    await hub.publish([userId], alertEvent(other.organizationId));
    await hub.disconnect(userId, tenant.organizationId);
    expect(hub.events(userId).map((event) => event.organizationId)).toEqual([other.organizationId]);
    await hub.disconnect(userId);
    expect(hub.events(userId)).toHaveLength(1);
  });
});
