import { env } from "cloudflare:test";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditEvents, recoveryCodes, users } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { hashPassword } from "#src/lib/password-hash.ts";
import { createTenant, jsonBody, type Member, PASSWORD, uniqueIp } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";
import { awayFromStepEdge, codeAt, enableMfa, verify } from "./mfa-helpers.ts";

interface Tokens {
  accessToken: string;
  refreshToken: string;
  organizationId: string;
  role: string;
}

/** An MFA user (confirmed with the previous period's code) who belongs to two organizations. */
async function twoOrganizationMfaUser() {
  const home = await createTenant("Alpha Practice");
  const other = await createTenant("Beta Practice");
  const member = home.members.clinician;
  const ip = uniqueIp();
  const { secret, recoveryCodes: codes } = await enableMfa(member, ip, -1);
  await testDb().execute(sql`insert into memberships (organization_id, user_id, role) values (${other.organizationId}, ${member.id}, 'staff')`);
  return { member, ip, secret, codes, home: home.organizationId, other: other.organizationId };
}

async function loginMfa(member: Member, ip: string, organizationId?: string) {
  const response = await api(
    "/api/v1/auth/login",
    jsonBody({ email: member.email, password: PASSWORD, ...(organizationId ? { organizationId } : {}) }, { "CF-Connecting-IP": ip }),
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(["deviceToken", "mfaRequired", "mfaToken"]);
  expect(body.mfaRequired).toBe(true);
  return body.mfaToken as string;
}

const tokensOf = async (response: Response) => ((await response.json()) as { tokens: Tokens }).tokens;

describe("choosing the organization at the MFA step", () => {
  it("tells nothing about memberships before the second factor, then lists them and spends nothing", async () => {
    const { member, ip, secret, home, other } = await twoOrganizationMfaUser();
    const mfaToken = await loginMfa(member, ip);
    await awayFromStepEdge();
    const code = codeAt(secret);

    const choose = await verify(ip, { mfaToken, code });
    expect(choose.status).toBe(409);
    const problem = await problemOf(choose);
    expect(problem.organizations).toEqual([
      { id: home, name: "Alpha Practice" },
      { id: other, name: "Beta Practice" },
    ]);

    // The same token and the same code, now with a choice.
    const chosen = await verify(ip, { mfaToken, code, organizationId: other });
    expect(chosen.status).toBe(200);
    const tokens = await tokensOf(chosen);
    expect(tokens).toMatchObject({ organizationId: other, role: "staff" });
    const me = await api("/api/v1/me", { headers: { Authorization: `Bearer ${tokens.accessToken}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ organization: { id: other }, role: "staff" });

    // Now the code and the token are spent.
    expect((await verify(ip, { mfaToken, code, organizationId: other })).status).toBe(401);
    expect((await verify(ip, { mfaToken: await loginMfa(member, ip), code, organizationId: home })).status).toBe(401);
  });

  it("answers 403 to an organization the user does not belong to, without spending the code", async () => {
    const { member, ip, secret, home } = await twoOrganizationMfaUser();
    const stranger = await createTenant("Not Mine");
    const mfaToken = await loginMfa(member, ip);
    await awayFromStepEdge();
    const code = codeAt(secret);
    const refused = await verify(ip, { mfaToken, code, organizationId: stranger.organizationId });
    expect(refused.status).toBe(403);
    const chosen = await verify(ip, { mfaToken, code, organizationId: home });
    expect(chosen.status).toBe(200);
    expect((await tokensOf(chosen)).organizationId).toBe(home);
  });

  it("keeps the organization named at login, and refuses a different one at the MFA step", async () => {
    const { member, ip, secret, home, other } = await twoOrganizationMfaUser();
    const mfaToken = await loginMfa(member, ip, other);
    await awayFromStepEdge();
    const code = codeAt(secret);
    expect((await verify(ip, { mfaToken, code, organizationId: home })).status).toBe(403);
    const chosen = await verify(ip, { mfaToken, code });
    expect(chosen.status).toBe(200);
    expect((await tokensOf(chosen)).organizationId).toBe(other);
  });

  it("answers 403 after the second factor to a login naming an organization the user is not in", async () => {
    const { member, ip, secret } = await twoOrganizationMfaUser();
    const stranger = await createTenant("Not Mine Either");
    const mfaToken = await loginMfa(member, ip, stranger.organizationId);
    expect((await verify(ip, { mfaToken, code: codeAt(secret) })).status).toBe(403);
  });

  it("does not consume a recovery code on the 409, and audits the login without an organization", async () => {
    const { member, ip, codes, other } = await twoOrganizationMfaUser();
    const mfaToken = await loginMfa(member, ip);
    const recoveryCode = codes[0] ?? "";
    expect((await verify(ip, { mfaToken, recoveryCode })).status).toBe(409);
    const db = testDb();
    const unused = await db.select().from(recoveryCodes).where(and(eq(recoveryCodes.userId, member.id), sql`${recoveryCodes.usedAt} is null`));
    expect(unused).toHaveLength(10);
    const chosen = await verify(ip, { mfaToken, recoveryCode, organizationId: other });
    expect(chosen.status).toBe(200);
    expect((await tokensOf(chosen)).organizationId).toBe(other);

    const required = await db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.actorUserId, member.id), eq(auditEvents.action, "auth.login.mfa_required")));
    expect(required.map((row) => row.organizationId)).toEqual([null]);
  });

  it("does not count an organization choice as a wrong code", async () => {
    const { member, ip, secret, home } = await twoOrganizationMfaUser();
    const mfaToken = await loginMfa(member, ip);
    await awayFromStepEdge();
    for (let i = 0; i < 4; i++) expect((await verify(ip, { mfaToken, code: codeAt(secret, 10 + i) })).status).toBe(401);
    expect((await verify(ip, { mfaToken, code: codeAt(secret) })).status).toBe(409);
    // The right code reset the count: four more wrong ones still answer 401, not 429.
    for (let i = 0; i < 4; i++) expect((await verify(ip, { mfaToken, code: codeAt(secret, 20 + i) })).status).toBe(401);
    expect((await verify(ip, { mfaToken, code: codeAt(secret), organizationId: home })).status).toBe(200);
  });
});

describe("password upgrades for MFA users", () => {
  it("rehashes a hash with older parameters at the password step, before answering mfaRequired", async () => {
    const { members } = await createTenant("Rehash MFA Practice");
    const member = members.admin;
    const ip = uniqueIp();
    await enableMfa(member, ip);
    const db = testDb();
    const weak = await hashPassword(PASSWORD, parseConfig(env).PASSWORD_PEPPERS, 10_000);
    await db.update(users).set({ passwordHash: weak }).where(eq(users.id, member.id));
    await loginMfa(member, ip);
    const [row] = await db.select({ hash: users.passwordHash }).from(users).where(eq(users.id, member.id));
    expect(row?.hash).not.toBe(weak);
    expect(row?.hash).toMatch(/^pbkdf2-sha256\$i=100000\$/);
  });
});
