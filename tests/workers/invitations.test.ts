import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTenant, jsonBody, PASSWORD, type Tenant, uniqueEmail, uniqueIp } from "./fixtures.ts";
import { api, problemOf } from "./helpers.ts";
import { captureMail } from "./mail.ts";

/** The texts of the mails sent through Resend from now on. */
function captureMailTexts(): { texts: string[] } {
  const sent = captureMail();
  return {
    get texts() {
      return sent.map((mail) => mail.text);
    },
  };
}

const tokenIn = (text: string | undefined) => /accept-invitation\?token=([A-Za-z0-9_%-]+)/.exec(text ?? "")?.[1] ?? "";

async function invite(tenant: Tenant, email: string, role = "clinician"): Promise<string> {
  const mailbox = captureMailTexts();
  const response = await api("/api/v1/invitations", jsonBody({ email, role }, tenant.members.admin.headers));
  expect(response.status).toBe(201);
  expect(await response.json()).toMatchObject({ email, role });
  expect(mailbox.texts).toHaveLength(1);
  expect(mailbox.texts[0]).toContain("https://app.tend.test/accept-invitation?token=");
  return decodeURIComponent(tokenIn(mailbox.texts[0]));
}

const accept = (body: unknown) => api("/api/v1/invitations/accept", jsonBody(body, { "CF-Connecting-IP": uniqueIp() }));

describe("invitations", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Invitations Practice");
  });
  afterEach(() => vi.restoreAllMocks());

  it("accepting creates the account and membership, and works only once", async () => {
    const email = uniqueEmail("invitee");
    const token = await invite(tenant, email);
    const first = await accept({ token, name: "New Clinician", password: PASSWORD });
    expect(first.status).toBe(201);
    const accepted = (await first.json()) as { organizationId: string; userId: string; role: string };
    expect(accepted).toMatchObject({ organizationId: tenant.organizationId, role: "clinician" });

    const members = await api("/api/v1/members?limit=100", { headers: tenant.members.admin.headers });
    const list = (await members.json()) as { data: { userId: string; email: string; role: string }[] };
    expect(list.data).toContainEqual(expect.objectContaining({ userId: accepted.userId, email, role: "clinician" }));

    const second = await accept({ token, name: "New Clinician", password: PASSWORD });
    expect(second.status).toBe(409);
    await problemOf(second);
  });

  it("links an existing account when its password is given, and refuses a wrong one", async () => {
    const other = await createTenant("Other Practice");
    const person = other.members.caregiver;
    const token = await invite(tenant, person.email, "caregiver");
    const wrong = await accept({ token, password: "not the right password at all" });
    expect(wrong.status).toBe(401);
    const linked = await accept({ token, password: PASSWORD });
    expect(linked.status).toBe(201);
    expect(await linked.json()).toEqual({ organizationId: tenant.organizationId, userId: person.id, role: "caregiver" });
  });

  it("checks an existing account's password under the login lockout: 5 wrong from one address, then 429", async () => {
    const other = await createTenant("Guessed Practice");
    const person = other.members.clinician;
    const token = await invite(tenant, person.email, "clinician");
    const ip = uniqueIp();
    const guess = (password: string) => api("/api/v1/invitations/accept", jsonBody({ token, password }, { "CF-Connecting-IP": ip }));
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await guess(`wrong password number ${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await guess(PASSWORD)).status).toBe(429);
    expect((await accept({ token, password: PASSWORD })).status).toBe(201);
  });

  it("refuses a new account's password made of its own address", async () => {
    const email = uniqueEmail("selfish");
    const token = await invite(tenant, email);
    const response = await accept({ token, name: "Self Ish", password: `${email}2024` });
    expect(response.status).toBe(422);
    expect(((await problemOf(response)).errors as { path: string }[]).map((error) => error.path)).toEqual(["body.password"]);
  });

  it("answers 409 when the invitee is already a member", async () => {
    const token = await invite(tenant, tenant.members.staff.email, "staff");
    const response = await accept({ token, password: PASSWORD });
    expect(response.status).toBe(409);
  });

  it("needs a name and a policy-grade password for a new account", async () => {
    const token = await invite(tenant, uniqueEmail("weak"));
    const response = await accept({ token, password: "password" });
    expect(response.status).toBe(422);
    const paths = ((await problemOf(response)).errors as { path: string }[]).map((error) => error.path).sort();
    expect(paths).toEqual(["body.name", "body.password"]);
  });

  it("answers 404 for an unknown token", async () => {
    expect((await accept({ token: "bogus", name: "X", password: PASSWORD })).status).toBe(404);
  });

  it("lets an admin invite but not invite an owner, and refuses a clinician", async () => {
    const owner = await api("/api/v1/invitations", jsonBody({ email: uniqueEmail(), role: "owner" }, tenant.members.admin.headers));
    expect(owner.status).toBe(403);
    const clinician = await api("/api/v1/invitations", jsonBody({ email: uniqueEmail(), role: "staff" }, tenant.members.clinician.headers));
    expect(clinician.status).toBe(403);
    const bad = await api("/api/v1/invitations", jsonBody({ email: "not-an-email", role: "staff" }, tenant.members.admin.headers));
    expect(bad.status).toBe(422);
  });
});
