import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { memberships } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { signTicket } from "#src/features/realtime/realtime.tickets.ts";
import { fromBase64Url, toBase64Url, utf8 } from "#src/lib/encoding.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { signAccessToken } from "#src/lib/tokens.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import { durableRealtime } from "#src/platform/cloudflare/realtime.ts";
import type { NotificationHub } from "../../durable-objects/notification-hub.ts";
import { createTenant, type Member, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";
import { connect, type LiveMessage, ORIGIN, realtime, ticketFor, upgrade } from "./realtime-client.ts";

/**
 * Live updates: tickets (single use, 30 s, bound to their user), the upgrade's checks (Upgrade,
 * Origin, ticket), publish to the user's sockets of the event's organization, replay after a
 * reconnect with `since`, and ping/pong, against the real NotificationHub Durable Object.
 */

let tenant: Tenant;
let owner: Member;
let caregiver: Member;

beforeAll(async () => {
  tenant = await createTenant("Realtime Practice");
  owner = tenant.members.owner;
  caregiver = tenant.members.caregiver;
});

const event = (organizationId: string, type = "alert.created", data: Record<string, unknown> = { patientId: uuidv7(), severity: "high" }) => ({
  type,
  organizationId,
  data,
});

describe("POST /realtime/ticket", () => {
  it("gives a signed-in member a ticket that lasts 30 seconds", async () => {
    const before = Date.now();
    const response = await api("/api/v1/realtime/ticket", { method: "POST", headers: caregiver.headers });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { ticket: string; expiresAt: string };
    expect(body.ticket).toMatch(/^[\w-]+\.[0-9a-f]{64}$/);
    expect(body.ticket).not.toContain(caregiver.token);
    const ttl = Date.parse(body.expiresAt) - before;
    expect(ttl).toBeGreaterThan(29_000);
    expect(ttl).toBeLessThanOrEqual(31_000);
  });

  it("refuses anonymous callers (401) and takes no body", async () => {
    expect((await api("/api/v1/realtime/ticket", { method: "POST" })).status).toBe(401);
    const withBody = await api("/api/v1/realtime/ticket", { method: "POST", headers: { ...owner.headers, "Content-Type": "application/json" }, body: '{"userId":"x"}' });
    expect(withBody.status).toBe(422);
  });

  it("refuses API keys (403): a ticket is for a person", async () => {
    const created = await api("/api/v1/api-keys", {
      method: "POST",
      headers: { ...owner.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "realtime probe", scopes: ["patients:read"] }),
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const response = await api("/api/v1/realtime/ticket", { method: "POST", headers: { "X-API-Key": key } });
    expect(response.status).toBe(403);
  });
});

describe("GET /realtime", () => {
  it("answers 426 without Upgrade: websocket", async () => {
    const response = await api(`/api/v1/realtime?ticket=${await ticketFor(owner)}`, { headers: { Origin: ORIGIN } });
    expect(response.status).toBe(426);
    expect((await problemOf(response)).type).toMatch(/upgrade-required$/);
  });

  it("refuses an Origin outside CORS_ORIGINS (403) and lets a native client without one in", async () => {
    const ticket = await ticketFor(owner);
    const foreign = await upgrade(ticket, { headers: { Origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect((await problemOf(foreign)).status).toBe(403);
    // The refused attempt did not spend the ticket: the same one still opens from the app.
    const native = await api(`/api/v1/realtime?ticket=${encodeURIComponent(ticket)}`, { headers: { Upgrade: "websocket" } });
    expect(native.status).toBe(101);
    native.webSocket?.accept();
    native.webSocket?.close(1000);
  });

  it("answers 401 without a ticket, for garbage, for a reused ticket and for an expired one", async () => {
    expect((await problemOf(await upgrade(undefined))).status).toBe(401);
    expect((await upgrade("garbage")).status).toBe(401);
    expect((await upgrade("a.b.c")).status).toBe(401);

    const ticket = await ticketFor(owner);
    const first = await upgrade(ticket);
    expect(first.status).toBe(101);
    first.webSocket?.accept();
    const again = await upgrade(ticket);
    expect(again.status).toBe(401);
    expect((await problemOf(again)).detail).toMatch(/used/);

    const config = parseConfig(env);
    const stale = await signTicket(config, { userId: owner.id, organizationId: tenant.organizationId, issuedAtMs: Date.now() - 60_000 }, Date.now() - 31_000);
    const expired = await upgrade(stale.ticket);
    expect(expired.status).toBe(401);
    expect((await problemOf(expired)).detail).toMatch(/expired/);
  });

  it("binds the ticket to its user: one rewritten to name another user does not connect", async () => {
    const ticket = await ticketFor(caregiver);
    const [body, mac] = ticket.split(".") as [string, string];
    const claims = JSON.parse(new TextDecoder().decode(fromBase64Url(body))) as Record<string, unknown>;
    const forged = `${toBase64Url(utf8(JSON.stringify({ ...claims, u: owner.id })))}.${mac}`;
    expect((await upgrade(forged)).status).toBe(401);
    const otherMac = (await ticketFor(owner)).split(".")[1];
    expect((await upgrade(`${body}.${otherMac}`)).status).toBe(401);
  });

  it("refuses a ticket bought by a session that has ended since (logout)", async () => {
    const config = parseConfig(env);
    const sessionId = uuidv7();
    const token = await signAccessToken(config, { userId: caregiver.id, organizationId: tenant.organizationId, role: "caregiver", sessionId });
    const ticketResponse = await api("/api/v1/realtime/ticket", { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    const { ticket } = (await ticketResponse.json()) as { ticket: string };
    await cloudflarePlatform.adapters(env).rateLimiter.revokeSession(caregiver.id, sessionId);
    expect((await upgrade(ticket)).status).toBe(401);
  });

  it("validates since (422)", async () => {
    expect((await upgrade(await ticketFor(owner), { headers: {}, since: -1 })).status).toBe(422);
    const response = await api(`/api/v1/realtime?ticket=x&since=abc`, { headers: { Upgrade: "websocket", Origin: ORIGIN } });
    expect(response.status).toBe(422);
  });
});

describe("the hub", () => {
  it("delivers a published event to each of the user's sockets as {seq, type, organizationId, data, at}", async () => {
    const [one, two] = await Promise.all([connect(caregiver), connect(caregiver)]);
    const published = event(tenant.organizationId);
    const before = Date.now();
    await realtime().publish([caregiver.id], published);
    for (const client of [one, two]) {
      const message = (await client.next()) as LiveMessage;
      expect(message).toEqual({ seq: expect.any(Number), type: "alert.created", organizationId: tenant.organizationId, data: published.data, at: expect.any(String) });
      expect(Date.parse(message.at)).toBeGreaterThanOrEqual(before - 1000);
    }
  });

  it("numbers each user's events in sequence and replays what came after since, then live ones", async () => {
    const member = tenant.members.clinician;
    const first = await connect(member);
    const seqs: number[] = [];
    for (const index of [1, 2, 3]) {
      await realtime().publish([member.id], event(tenant.organizationId, "reminder.due", { index }));
      seqs.push(((await first.next()) as LiveMessage).seq ?? -1);
    }
    expect(seqs[1]).toBe((seqs[0] ?? 0) + 1);
    expect(seqs[2]).toBe((seqs[0] ?? 0) + 2);
    first.socket.close(1000);

    const again = await connect(member, seqs[0]);
    const replayed = [(await again.next()) as LiveMessage, (await again.next()) as LiveMessage];
    expect(replayed.map((message) => message.data.index)).toEqual([2, 3]);
    expect(replayed.map((message) => message.seq)).toEqual(seqs.slice(1));
    await realtime().publish([member.id], event(tenant.organizationId, "reminder.due", { index: 4 }));
    const live = (await again.next()) as LiveMessage;
    expect(live).toMatchObject({ seq: (seqs[2] ?? 0) + 1, data: { index: 4 } });
    expect(await again.drain()).toEqual([]);
  });

  it("stores an event id once: a redelivered event is neither renumbered nor sent again", async () => {
    const member = tenant.members.admin;
    const client = await connect(member);
    const published = { ...event(tenant.organizationId), id: uuidv7() };
    await realtime().publish([member.id], published);
    await realtime().publish([member.id], published);
    expect(((await client.next()) as LiveMessage).type).toBe("alert.created");
    expect(await client.drain()).toEqual([]);
  });

  it("sends an organization's events only to the user's sockets of that organization, live and on replay", async () => {
    const second = await createTenant("Second Practice");
    await testDb().insert(memberships).values({ organizationId: second.organizationId, userId: owner.id, role: "admin" });
    const config = parseConfig(env);
    const token = await signAccessToken(config, { userId: owner.id, organizationId: second.organizationId, role: "admin", sessionId: uuidv7() });
    const elsewhere = { ...owner, token, headers: { Authorization: `Bearer ${token}` } };
    const [here, there] = await Promise.all([connect(owner), connect(elsewhere)]);
    await realtime().publish([owner.id], event(second.organizationId, "alert.created", { n: "second" }));
    await realtime().publish([owner.id], event(tenant.organizationId, "alert.created", { n: "first" }));
    const fromThere = (await there.next()) as LiveMessage;
    const fromHere = (await here.next()) as LiveMessage;
    expect(fromThere).toMatchObject({ organizationId: second.organizationId, data: { n: "second" } });
    expect(fromHere).toMatchObject({ organizationId: tenant.organizationId, data: { n: "first" } });
    expect([...(await here.drain()), ...(await there.drain(0))]).toEqual([]);

    const replay = await connect(owner, (fromThere.seq ?? 1) - 1);
    expect(((await replay.next()) as LiveMessage).data).toEqual({ n: "first" });
    expect(await replay.drain()).toEqual([]);
  });

  it("answers ping with pong", async () => {
    const client = await connect(tenant.members.staff);
    client.socket.send("ping");
    expect(await client.next()).toBe("pong");
  });

  it("replays neither what is older than 24 hours nor more than the last 1,000 events, and says the replay is cut", async () => {
    const hubs = env.NOTIFICATION_HUB as DurableObjectNamespace<NotificationHub>;
    const userId = uuidv7();
    const org = tenant.organizationId;
    const dayAgo = durableRealtime(hubs, { now: () => new Date(Date.now() - 25 * 3_600_000) });
    await dayAgo.publish([userId], event(org, "alert.created", { old: true }));
    const hub = hubs.get(hubs.idFromName(`user:${userId}`));
    for (let index = 0; index < 1001; index++) await hub.publish({ ...event(org, "reminder.due", { index }), at: Date.now() });
    const response = await durableRealtime(hubs).connect(userId, org, new Request("https://x"), 0);
    const socket = response.webSocket;
    if (!socket) throw new Error("no socket");
    const received: LiveMessage[] = [];
    socket.addEventListener("message", (message: MessageEvent) => {
      received.push(JSON.parse(String(message.data)) as LiveMessage);
    });
    socket.accept();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received[0]).toMatchObject({ seq: null, type: "replay.truncated", data: { since: 0, oldestKept: 3 } });
    expect(received.length).toBe(1001);
    expect(received[1]?.data).toEqual({ index: 1 });
    expect(received.at(-1)?.seq).toBe(1002);
  });
});
