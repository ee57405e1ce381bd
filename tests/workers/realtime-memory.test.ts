import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "#src/app.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { memoryPlatform } from "#src/platform/memory/adapters.ts";
import { memoryRealtime } from "#src/platform/memory/realtime.ts";
import { CLOSE_ACCESS_CHANGED, CLOSE_SIGNED_OUT } from "#src/platform/realtime-rules.ts";
import { createTenant, type Tenant } from "./fixtures.ts";
import { BASE } from "./helpers.ts";
import { type Client, clientOf, type LiveMessage, ORIGIN } from "./realtime-client.ts";

/**
 * The memory adapter Deno runs (src/platform/memory/realtime.ts) by the hub's rules: sequence,
 * replay after since, organization isolation, an event id stored once, retention, ping/pong and
 * the close codes; and the ticket routes end to end on the memory platform. (workerd has no
 * Deno.upgradeWebSocket: here the adapter accepts through WebSocketPair, the rest is the same code.)
 */

const ORG = uuidv7();
const OTHER_ORG = uuidv7();

function fixedClock(start = Date.UTC(2026, 11, 3, 12)) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

const upgradeRequest = () => new Request("https://tend.test/api/v1/realtime", { headers: { Upgrade: "websocket" } });

async function open(hub: ReturnType<typeof memoryRealtime>, userId: string, organizationId = ORG, since?: number): Promise<Client> {
  const response = await hub.connect(userId, organizationId, upgradeRequest(), since);
  expect(response.status).toBe(101);
  const socket = response.webSocket;
  if (!socket) throw new Error("no socket");
  socket.accept();
  return clientOf(socket);
}

const alert = (organizationId = ORG, data: Record<string, unknown> = { severity: "high" }, id?: string) => ({ type: "alert.created", organizationId, data, ...(id ? { id } : {}) });

describe("memoryRealtime", () => {
  it("numbers events per user, sends them to the user's sockets of the organization, and replays after since", async () => {
    const clock = fixedClock();
    const hub = memoryRealtime(clock);
    const user = uuidv7();
    const [here, there] = await Promise.all([open(hub, user), open(hub, user, OTHER_ORG)]);
    await hub.publish([user], alert(ORG, { n: 1 }));
    await hub.publish([user], alert(OTHER_ORG, { n: 2 }));
    await hub.publish([user, user], alert(ORG, { n: 3 }));
    expect(await here.next()).toEqual({ seq: 1, type: "alert.created", organizationId: ORG, data: { n: 1 }, at: clock.now().toISOString() });
    expect(((await here.next()) as LiveMessage).seq).toBe(3);
    expect(((await there.next()) as LiveMessage).seq).toBe(2);
    expect([...(await here.drain()), ...(await there.drain(0))]).toEqual([]);

    const again = await open(hub, user, ORG, 1);
    expect(((await again.next()) as LiveMessage).data).toEqual({ n: 3 });
    await hub.publish([user], alert(ORG, { n: 4 }));
    expect(((await again.next()) as LiveMessage).seq).toBe(4);
  });

  it("stores an event id once", async () => {
    const hub = memoryRealtime(fixedClock());
    const user = uuidv7();
    const client = await open(hub, user);
    const id = uuidv7();
    await hub.publish([user], alert(ORG, {}, id));
    await hub.publish([user], alert(ORG, {}, id));
    expect(((await client.next()) as LiveMessage).seq).toBe(1);
    expect(await client.drain()).toEqual([]);
    expect(hub.events(user)).toHaveLength(1);
  });

  it("keeps 24 hours or 1,000 events, whichever is less, and says when a replay is cut", async () => {
    const clock = fixedClock();
    const hub = memoryRealtime(clock);
    const user = uuidv7();
    await hub.publish([user], alert(ORG, { old: true }));
    clock.advance(24 * 3_600_000 + 1);
    for (let index = 0; index < 1001; index++) await hub.publish([user], alert(ORG, { index }));
    expect(hub.events(user)).toHaveLength(1000);
    const client = await open(hub, user, ORG, 0);
    expect(await client.next()).toMatchObject({ seq: null, type: "replay.truncated", data: { since: 0, oldestKept: 3 } });
    expect(((await client.next()) as LiveMessage).data).toEqual({ index: 1 });
  });

  it("answers ping with pong and closes with 4003 for one organization, 4001 for all", async () => {
    const hub = memoryRealtime(fixedClock());
    const user = uuidv7();
    const [here, there, also] = await Promise.all([open(hub, user), open(hub, user, OTHER_ORG), open(hub, user, OTHER_ORG)]);
    here.socket.send("ping");
    expect(await here.next()).toBe("pong");
    await hub.disconnect(user, ORG);
    expect((await here.closed).code).toBe(CLOSE_ACCESS_CHANGED);
    await hub.disconnect(user);
    expect((await there.closed).code).toBe(CLOSE_SIGNED_OUT);
    expect((await also.closed).code).toBe(CLOSE_SIGNED_OUT);
  });
});

describe("the realtime routes on the memory platform", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Memory Realtime Practice");
  });

  it("issues a ticket, spends it once on the upgrade, and delivers a publish", async () => {
    const platform = memoryPlatform(async () => undefined);
    const app = createApp(platform);
    const call = async (path: string, init: RequestInit) => {
      const ctx = createExecutionContext();
      const response = await app.fetch(new Request(`${BASE}${path}`, init), env, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };
    const caregiver = tenant.members.caregiver;
    const ticketResponse = await call("/api/v1/realtime/ticket", { method: "POST", headers: caregiver.headers });
    expect(ticketResponse.status).toBe(200);
    const { ticket } = (await ticketResponse.json()) as { ticket: string };
    const headers = { Upgrade: "websocket", Origin: ORIGIN };
    const response = await call(`/api/v1/realtime?ticket=${encodeURIComponent(ticket)}`, { headers });
    expect(response.status).toBe(101);
    expect((await call(`/api/v1/realtime?ticket=${encodeURIComponent(ticket)}`, { headers })).status).toBe(401);
    const socket = response.webSocket;
    if (!socket) throw new Error("no socket");
    socket.accept();
    const client = clientOf(socket);
    await platform.adapters(env).realtime.publish([caregiver.id], alert(tenant.organizationId));
    expect(await client.next()).toMatchObject({ seq: 1, type: "alert.created", organizationId: tenant.organizationId });
  });
});
