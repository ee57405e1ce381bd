import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { api, problemOf, testDb } from "./helpers.ts";
import { createTenant, jsonBody, PASSWORD, uniqueEmail, uniqueIp } from "./fixtures.ts";
import { mailedTokens, mailPerTest, type SentMail } from "./mail.ts";
import { confirmSignup, requestSignup } from "./signup.ts";

const NEW_PASSWORD = "a brand new passphrase 42";

const mailbox = mailPerTest();

/** The mailbox.sent to `to`, waiting until there are `count`: some mail goes out after the response. */
async function waitForMails(to: string, count: number): Promise<SentMail[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = mailbox.sent.filter((mail) => mail.to.includes(to));
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`fewer than ${count} mailbox.sent to ${to}`);
}

/** The token in the link of the newest mail to `to`. */
async function mailedToken(to: string, path: string): Promise<string> {
  return (await mailedTokens(mailbox.sent, to, path)).at(-1) ?? "";
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  api(path, jsonBody(body, { "CF-Connecting-IP": headers["CF-Connecting-IP"] ?? uniqueIp(), ...headers }));

/** Verify-first sign-up through the mailed link, with the address in upper case as a user might type it. */
async function signupUser(email = uniqueEmail("signup")) {
  const requested = await requestSignup(email.toUpperCase());
  expect(requested.status).toBe(202);
  const confirmed = await confirmSignup(await mailedToken(email, "/signup/confirm"));
  expect(confirmed.status).toBe(201);
  const body = (await confirmed.json()) as { user: { id: string; email: string }; organization: { id: string }; tokens: { accessToken: string; refreshToken: string } };
  return { email, ...body };
}

async function loginTokens(email: string, password = PASSWORD) {
  const response = await post("/api/v1/auth/login", { email, password });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { mfaRequired: boolean; tokens: { accessToken: string; refreshToken: string } };
  expect(body.mfaRequired).toBe(false);
  return body.tokens;
}

const withoutRequestId = ({ requestId: _r, ...rest }: Record<string, unknown>) => rest;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("sign-up, sign-in and sessions", () => {
  it("signs up, logs in, reads /me in one round trip, refreshes and logs out", async () => {
    const { email, user, organization } = await signupUser();
    expect(user.email).toBe(email);
    const tokens = await loginTokens(email);

    const me = await api("/api/v1/me", { headers: bearer(tokens.accessToken) });
    expect(me.status).toBe(200);
    expect(me.headers.get("Server-Timing")).toMatch(/db;dur=[\d.]+;desc="1 round trips"/);
    expect(await me.json()).toMatchObject({
      user: { id: user.id, email, name: "Flo", emailVerified: true, mfaEnabled: false },
      organization: { id: organization.id, name: "Flow Clinic" },
      role: "owner",
      organizations: [{ id: organization.id, name: "Flow Clinic", role: "owner" }],
    });

    const refreshed = await post("/api/v1/auth/refresh", { refreshToken: tokens.refreshToken });
    expect(refreshed.status).toBe(200);
    const { tokens: next } = (await refreshed.json()) as { tokens: { accessToken: string; refreshToken: string; role: string } };
    expect(next.role).toBe("owner");
    expect(next.refreshToken).not.toBe(tokens.refreshToken);

    const logout = await post("/api/v1/auth/logout", { refreshToken: next.refreshToken }, bearer(next.accessToken));
    expect(logout.status).toBe(204);
    const afterLogout = await post("/api/v1/auth/refresh", { refreshToken: next.refreshToken });
    expect(afterLogout.status).toBe(401);
  });

  it("answers a sign-up for a registered email exactly like a new one, and mails the owner instead", async () => {
    const { email } = await signupUser();
    const fresh = uniqueEmail("fresh");
    const again = await requestSignup(email.toUpperCase(), { organizationName: "Other", name: "X" });
    const other = await requestSignup(fresh, { organizationName: "Other", name: "X" });
    expect(again.status).toBe(202);
    expect(other.status).toBe(202);
    expect(await again.text()).toBe(await other.text());
    await mailedTokens(mailbox.sent, fresh, "/signup/confirm");
    for (let attempt = 0; attempt < 50 && !mailbox.sent.some((mail) => mail.to.includes(email) && mail.subject.includes("tried to sign up")); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const notice = mailbox.sent.find((mail) => mail.to.includes(email) && mail.subject.includes("tried to sign up"));
    expect(notice?.text).toContain("https://app.tend.test/forgot-password");
    expect(notice?.text).not.toContain("token=");
    const users = await testDb().execute(sql`select count(*)::int as n from users where email = ${email}`);
    expect(users.rows).toEqual([{ n: 1 }]);
  });

  it("creates nothing before the link is confirmed, and the link works once", async () => {
    const email = uniqueEmail("once");
    expect((await requestSignup(email)).status).toBe(202);
    const before = await testDb().execute(sql`select count(*)::int as n from users where email = ${email}`);
    expect(before.rows).toEqual([{ n: 0 }]);
    const token = await mailedToken(email, "/signup/confirm");
    expect((await confirmSignup(token)).status).toBe(201);
    const again = await confirmSignup(token);
    expect(again.status).toBe(409);
    expect((await problemOf(again)).detail).toMatch(/already confirmed/);
  });

  it("refuses a forged or tampered sign-up token naming body.token", async () => {
    const email = uniqueEmail("forged");
    await requestSignup(email);
    const token = await mailedToken(email, "/signup/confirm");
    const tampered = `${token.slice(0, -6)}${token.slice(-6) === "AAAAAA" ? "BBBBBB" : "AAAAAA"}`;
    for (const bad of [tampered, "v1.k1.bm90LWEtdG9rZW4.bm90LWEtdG9rZW4", "x".repeat(40)]) {
      const response = await confirmSignup(bad);
      expect(response.status).toBe(422);
      expect(((await problemOf(response)).errors as { path: string }[]).map((e) => e.path)).toEqual(["body.token"]);
    }
  });

  it("mails one address at most three sign-up links an hour per requesting address, and ten from all", async () => {
    const email = uniqueEmail("flood");
    const ip = uniqueIp();
    for (let i = 0; i < 5; i++) expect((await requestSignup(email, {}, { "CF-Connecting-IP": ip })).status).toBe(202);
    await mailedTokens(mailbox.sent, email, "/signup/confirm", 3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mailbox.sent.filter((mail) => mail.to.includes(email))).toHaveLength(3);
    // Someone else asking from elsewhere still gets a link: the first requester cannot silence them.
    expect((await requestSignup(email)).status).toBe(202);
    await waitForMails(email, 4);
    for (let i = 0; i < 12; i++) expect((await requestSignup(email)).status).toBe(202);
    await waitForMails(email, 10);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mailbox.sent.filter((mail) => mail.to.includes(email))).toHaveLength(10);
  });

  it("refuses a weak password at the confirmation naming body.password, and unknown fields", async () => {
    const email = uniqueEmail("weak");
    expect((await requestSignup(email, { organizationName: "W", name: "W" })).status).toBe(202);
    const token = await mailedToken(email, "/signup/confirm");
    const weak = await confirmSignup(token, {}, "too short");
    expect(weak.status).toBe(422);
    const problem = await problemOf(weak);
    expect((problem.errors as { path: string }[]).map((e) => e.path)).toEqual(["body.password"]);
    const extra = await post("/api/v1/auth/login", { email: uniqueEmail(), password: PASSWORD, admin: true });
    expect(extra.status).toBe(422);
    expect((await confirmSignup(token)).status).toBe(201);
  });

  it("lets only the mailbox choose the password: a sign-up request carrying one is refused", async () => {
    const email = uniqueEmail("victim");
    const response = await post("/api/v1/auth/signup", { organizationName: "Evil", name: "Victim", email, password: "attacker knows this one" });
    expect(response.status).toBe(422);
    expect(((await problemOf(response)).errors as { path: string }[]).map((e) => e.path)).toEqual(["body.password"]);
    expect((await requestSignup(email, { organizationName: "Evil https://evil.example", name: "Victim" })).status).toBe(202);
    const [mail] = await waitForMails(email, 1);
    expect(mail?.text).not.toContain("Evil");
    expect(mail?.text).not.toContain("Victim");
    expect(mail?.text).toMatch(/If it was not you, ignore this message/);
  });

  it("answers an unknown email and a wrong password with the same 401", async () => {
    const { email } = await signupUser();
    const unknown = await problemOf(await post("/api/v1/auth/login", { email: uniqueEmail("nobody"), password: PASSWORD }));
    const wrong = await problemOf(await post("/api/v1/auth/login", { email, password: "not the password at all" }));
    expect(withoutRequestId(unknown)).toEqual(withoutRequestId(wrong));
    expect(wrong.status).toBe(401);
  });

  it("never writes the password into the audit trail of a failed login", async () => {
    const { email, user } = await signupUser();
    const secret = "Zebra-Secret-Guess-991";
    await post("/api/v1/auth/login", { email, password: secret });
    const rows = await testDb().execute<{ action: string; metadata: unknown }>(
      sql`select action, metadata from audit_events where actor_user_id = ${user.id} and action = 'auth.login.failed'`,
    );
    expect(rows.rows).toHaveLength(1);
    expect(JSON.stringify(rows.rows)).not.toContain(secret);
  });

  it("revokes the whole family when a used refresh token is presented again", async () => {
    const { email, user } = await signupUser();
    const first = await loginTokens(email);
    const { tokens: second } = (await (await post("/api/v1/auth/refresh", { refreshToken: first.refreshToken })).json()) as { tokens: { refreshToken: string } };
    const reuse = await post("/api/v1/auth/refresh", { refreshToken: first.refreshToken });
    expect(reuse.status).toBe(401);
    const newest = await post("/api/v1/auth/refresh", { refreshToken: second.refreshToken });
    expect(newest.status).toBe(401);
    const audited = await testDb().execute(sql`select 1 from audit_events where actor_user_id = ${user.id} and action = 'auth.refresh_reuse'`);
    expect(audited.rows).toHaveLength(1);
  });

  it("asks a member of several organizations to choose, and switches between them", async () => {
    const tenant = await createTenant("Second Practice");
    const { email, user, organization } = await signupUser();
    await testDb().execute(sql`insert into memberships (organization_id, user_id, role) values (${tenant.organizationId}, ${user.id}, 'clinician')`);
    const choose = await post("/api/v1/auth/login", { email, password: PASSWORD });
    expect(choose.status).toBe(409);
    const problem = await problemOf(choose);
    expect((problem.organizations as { id: string }[]).map((o) => o.id).sort()).toEqual([organization.id, tenant.organizationId].sort());

    const chosen = await post("/api/v1/auth/login", { email, password: PASSWORD, organizationId: organization.id });
    const { tokens } = (await chosen.json()) as { tokens: { accessToken: string } };
    const switched = await post("/api/v1/auth/switch", { organizationId: tenant.organizationId }, bearer(tokens.accessToken));
    expect(switched.status).toBe(200);
    expect(await switched.json()).toMatchObject({ tokens: { organizationId: tenant.organizationId, role: "clinician" } });

    const stranger = await createTenant("Not Mine");
    const refused = await post("/api/v1/auth/switch", { organizationId: stranger.organizationId }, bearer(tokens.accessToken));
    expect(refused.status).toBe(404);
    const notMember = await post("/api/v1/auth/login", { email, password: PASSWORD, organizationId: stranger.organizationId });
    expect(notMember.status).toBe(403);
  });

  it("logout-all ends every refresh token and access token", async () => {
    const { email } = await signupUser();
    const a = await loginTokens(email);
    const b = await loginTokens(email);
    const out = await post("/api/v1/auth/logout-all", {}, bearer(a.accessToken));
    expect(out.status).toBe(204);
    expect((await api("/api/v1/me", { headers: bearer(b.accessToken) })).status).toBe(401);
    expect((await post("/api/v1/auth/refresh", { refreshToken: b.refreshToken })).status).toBe(401);
    const c = await loginTokens(email);
    expect((await api("/api/v1/me", { headers: bearer(c.accessToken) })).status).toBe(200);
  });
});

describe("passwords", () => {
  it("answers forgot-password identically for known and unknown emails", async () => {
    const { email } = await signupUser();
    const known = await post("/api/v1/auth/password/forgot", { email });
    const unknown = await post("/api/v1/auth/password/forgot", { email: uniqueEmail("ghost") });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(await known.text()).toBe(await unknown.text());
    await mailedToken(email, "/reset-password");
  });

  it("mails one address at most three reset links an hour per requesting address, and ten from all", async () => {
    const { email } = await signupUser();
    const ip = uniqueIp();
    for (let i = 0; i < 5; i++) expect((await post("/api/v1/auth/password/forgot", { email }, { "CF-Connecting-IP": ip })).status).toBe(202);
    await mailedTokens(mailbox.sent, email, "/reset-password", 3);
    for (let i = 0; i < 12; i++) expect((await post("/api/v1/auth/password/forgot", { email })).status).toBe(202);
    await mailedTokens(mailbox.sent, email, "/reset-password", 10);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mailbox.sent.filter((mail) => mail.to.includes(email) && mail.text.includes("/reset-password"))).toHaveLength(10);
  });

  it("resets a password once with the mailed token and signs out every session", async () => {
    const { email } = await signupUser();
    const old = await loginTokens(email);
    await post("/api/v1/auth/password/forgot", { email });
    const token = await mailedToken(email, "/reset-password");

    const reset = await post("/api/v1/auth/password/reset", { token, password: NEW_PASSWORD });
    expect(reset.status).toBe(204);
    const again = await post("/api/v1/auth/password/reset", { token, password: NEW_PASSWORD });
    expect(again.status).toBe(400);

    expect((await api("/api/v1/me", { headers: bearer(old.accessToken) })).status).toBe(401);
    expect((await post("/api/v1/auth/refresh", { refreshToken: old.refreshToken })).status).toBe(401);
    expect((await post("/api/v1/auth/login", { email, password: PASSWORD })).status).toBe(401);
    await loginTokens(email, NEW_PASSWORD);
  });

  it("changes the password only with the current one, keeping the caller signed in", async () => {
    const { email } = await signupUser();
    const other = await loginTokens(email);
    const mine = await loginTokens(email);
    const wrong = await post("/api/v1/auth/password/change", { currentPassword: "definitely not it!!", newPassword: NEW_PASSWORD }, bearer(mine.accessToken));
    expect(wrong.status).toBe(401);

    const changed = await post("/api/v1/auth/password/change", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, bearer(mine.accessToken));
    expect(changed.status).toBe(200);
    const { tokens: fresh } = (await changed.json()) as { tokens: { accessToken: string; refreshToken: string } };
    expect((await api("/api/v1/me", { headers: bearer(fresh.accessToken) })).status).toBe(200);
    expect((await api("/api/v1/me", { headers: bearer(other.accessToken) })).status).toBe(401);
    expect((await post("/api/v1/auth/refresh", { refreshToken: other.refreshToken })).status).toBe(401);
    expect((await post("/api/v1/auth/refresh", { refreshToken: fresh.refreshToken })).status).toBe(200);
    await loginTokens(email, NEW_PASSWORD);
  });
});

describe("public keys", () => {
  it("serves the JWKS with a cache header and no private part", async () => {
    const response = await api("/.well-known/jwks.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=300");
    const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).not.toHaveProperty("d");
  });
});
