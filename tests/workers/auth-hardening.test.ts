import { env } from "cloudflare:test";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditEvents } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import type { AuthDeps } from "#src/features/auth/auth.deps.ts";
import { changePassword } from "#src/features/auth/auth.password.service.ts";
import { durableRateLimiter, workerAssets } from "#src/platform/cloudflare/adapters.ts";
import { systemClock } from "#src/platform/ports.ts";
import { createTenant, jsonBody, type Member, PASSWORD, uniqueEmail, uniqueIp } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";
import { mailedTokens, mailPerTest } from "./mail.ts";
import { signUp } from "./signup.ts";

const NEW_PASSWORD = "a brand new passphrase 42";

const mailbox = mailPerTest();

const resetTokens = (to: string, count: number) => mailedTokens(mailbox.sent, to, "/reset-password", count);

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  api(path, jsonBody(body, { "CF-Connecting-IP": uniqueIp(), ...headers }));
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function loginTokens(email: string, organizationId?: string) {
  const response = await post("/api/v1/auth/login", { email, password: PASSWORD, ...(organizationId ? { organizationId } : {}) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { tokens: { accessToken: string; refreshToken: string } }).tokens;
}

async function signup() {
  const { email, user, organization } = await signUp(mailbox.sent, uniqueEmail("hardening"), { organizationName: "Hard Clinic", name: "Hal" });
  return { email, userId: user.id, organizationId: organization.id };
}

const audited = async (userId: string, action: string) =>
  testDb()
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.actorUserId, userId), sql`${auditEvents.action} = ${action}`));

const changeAs = (member: Member, currentPassword: string) =>
  post("/api/v1/auth/password/change", { currentPassword, newPassword: NEW_PASSWORD }, member.headers);

describe("password change", () => {
  it("shares the login lockout: 5 wrong current passwords, then 429 to the right one, but sign-in elsewhere still works", async () => {
    const { members } = await createTenant();
    const member = members.clinician;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await changeAs(member, `not my password ${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const right = await changeAs(member, PASSWORD);
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await problemOf(right)).status).toBe(429);
    // Counted per session: a signed-in guesser locks itself out, not the owner's sign-in (README: security model).
    expect((await post("/api/v1/auth/login", { email: member.email, password: PASSWORD })).status).toBe(200);

    const failed = await audited(member.id, "auth.password.change_failed");
    expect(failed).toHaveLength(5);
    expect(JSON.stringify(failed)).not.toContain("not my password");
    expect(await audited(member.id, "auth.lockout")).toHaveLength(1);
  });

  it("revokes access tokens after the database change, so a refresh racing the change dies too", async () => {
    const { members, organizationId } = await createTenant();
    const member = members.staff;
    const other = await loginTokens(member.email);
    let raced: { accessToken: string; refreshToken: string } | undefined;
    const db = testDb();
    // The other session refreshes while the change is under way, just before its database write.
    const batch: typeof db.batch = async (queries) => {
      if (!raced) {
        const refreshed = await post("/api/v1/auth/refresh", { refreshToken: other.refreshToken });
        expect(refreshed.status).toBe(200);
        raced = ((await refreshed.json()) as { tokens: { accessToken: string; refreshToken: string } }).tokens;
      }
      return db.batch(queries);
    };
    const deps: AuthDeps = {
      db: Object.assign(Object.create(db) as typeof db, { batch }),
      config: parseConfig(env),
      rateLimiter: durableRateLimiter(env.RATE_LIMITER),
      mailer: { send: async () => true },
      origin: { ip: null, userAgent: null, requestId: "test" },
      defer: () => {},
      clock: systemClock,
      assets: workerAssets(env.ASSETS),
    };
    const fresh = await changePassword(deps, { userId: member.id, organizationId, role: "staff" }, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });

    if (!raced) throw new Error("the race did not run");
    expect((await api("/api/v1/me", { headers: bearer(raced.accessToken) })).status).toBe(401);
    expect((await post("/api/v1/auth/refresh", { refreshToken: raced.refreshToken })).status).toBe(401);
    expect((await api("/api/v1/me", { headers: bearer(fresh.accessToken) })).status).toBe(200);
    expect((await post("/api/v1/auth/refresh", { refreshToken: fresh.refreshToken })).status).toBe(200);
  });
});

describe("password reset links", () => {
  it("using one reset link spends every other outstanding one", async () => {
    const { email } = await signup();
    expect((await post("/api/v1/auth/password/forgot", { email })).status).toBe(202);
    expect((await post("/api/v1/auth/password/forgot", { email })).status).toBe(202);
    const [first, second] = await resetTokens(email, 2);
    expect((await post("/api/v1/auth/password/reset", { token: second, password: NEW_PASSWORD })).status).toBe(204);
    const stale = await post("/api/v1/auth/password/reset", { token: first, password: "yet another passphrase 7" });
    expect(stale.status).toBe(400);
    expect((await post("/api/v1/auth/login", { email, password: NEW_PASSWORD })).status).toBe(200);
  });

  it("a password change spends outstanding reset links", async () => {
    const { email } = await signup();
    const tokens = await loginTokens(email);
    expect((await post("/api/v1/auth/password/forgot", { email })).status).toBe(202);
    const [link] = await resetTokens(email, 1);
    const changed = await post("/api/v1/auth/password/change", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, bearer(tokens.accessToken));
    expect(changed.status).toBe(200);
    expect((await post("/api/v1/auth/password/reset", { token: link, password: "yet another passphrase 7" })).status).toBe(400);
  });
});

describe("audit trail", () => {
  it("records a switch of organization in the organization switched to", async () => {
    const second = await createTenant("Switch Target");
    const { email, userId, organizationId } = await signup();
    await testDb().execute(sql`insert into memberships (organization_id, user_id, role) values (${second.organizationId}, ${userId}, 'clinician')`);
    const tokens = await loginTokens(email, organizationId);
    const switched = await post("/api/v1/auth/switch", { organizationId: second.organizationId }, bearer(tokens.accessToken));
    expect(switched.status).toBe(200);
    const rows = await audited(userId, "auth.switch");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ organizationId: second.organizationId, metadata: { fromOrganizationId: organizationId } });

    const stranger = await createTenant("Not Mine");
    expect((await post("/api/v1/auth/switch", { organizationId: stranger.organizationId }, bearer(tokens.accessToken))).status).toBe(404);
    expect(await audited(userId, "auth.switch")).toHaveLength(1);
  });
});
