import { beforeAll, describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url, utf8 } from "#src/lib/encoding.ts";
import { addMember } from "./clinical.ts";
import { createTenant, jsonBody, type Tenant } from "./fixtures.ts";
import { api, problemOf } from "./helpers.ts";
import { ORIGIN, ticketFor, upgrade } from "./realtime-client.ts";

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
