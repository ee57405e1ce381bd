import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { importJWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { auditEvents, recoveryCodes, users } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { signAccessToken, signMfaToken } from "#src/lib/tokens.ts";
import { createTenant, jsonBody, type Member, PASSWORD, uniqueIp } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";
import { awayFromStepEdge, call, codeAt, enableMfa, enrol, PERIOD_MS, verify } from "./mfa-helpers.ts";

async function mfaTokenFor(member: Member, organizationId: string): Promise<string> {
  return signMfaToken(parseConfig(env), { userId: member.id, organizationId });
}


describe("TOTP enrolment", () => {
  it("stores the secret sealed and pending, then enables it with a current code and hands out 10 recovery codes", async () => {
    const { members, organizationId } = await createTenant();
    const member = members.clinician;
    const ip = uniqueIp();
    const response = await call("/api/v1/me/mfa/totp", "POST", member, ip);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { secret: string; otpauthUri: string };
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(body.otpauthUri).toBe(
      `otpauth://totp/Tend:${encodeURIComponent(member.email)}?secret=${body.secret}&issuer=Tend&algorithm=SHA1&digits=6&period=30`,
    );

    const db = testDb();
    const [pending] = await db.select().from(users).where(eq(users.id, member.id));
    expect(pending?.totpSecret).toMatch(/^v1\./);
    expect(pending?.totpSecret).not.toContain(body.secret);
    expect(pending?.totpEnabledAt).toBeNull();

    await awayFromStepEdge();
    const confirmed = await call("/api/v1/me/mfa/totp/confirm", "POST", member, ip, { code: codeAt(body.secret) });
    expect(confirmed.status).toBe(200);
    const { recoveryCodes: codes } = (await confirmed.json()) as { recoveryCodes: string[] };
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}$/);

    const [enabled] = await db.select().from(users).where(eq(users.id, member.id));
    expect(enabled?.totpEnabledAt).toBeInstanceOf(Date);
    expect(enabled?.totpLastStep).toBe(Math.floor(Date.now() / PERIOD_MS));
    const stored = await db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, member.id));
    expect(stored).toHaveLength(10);
    for (const row of stored) expect(codes.join(" ")).not.toContain(row.codeHash);

    const actions = await db.select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.actorUserId, member.id));
    expect(actions.map((row) => row.action)).toEqual(expect.arrayContaining(["mfa.enrolled", "mfa.enabled"]));
    expect(organizationId).toBeTruthy();
  });

  it("refuses a wrong confirmation code with 422 and leaves TOTP off", async () => {
    const { members } = await createTenant();
    const ip = uniqueIp();
    const secret = await enrol(members.staff, ip);
    const wrong = codeAt(secret, 5);
    const response = await call("/api/v1/me/mfa/totp/confirm", "POST", members.staff, ip, { code: wrong });
    expect(response.status).toBe(422);
    const [row] = await testDb().select().from(users).where(eq(users.id, members.staff.id));
    expect(row?.totpEnabledAt).toBeNull();
  });

  it("answers 409 to a confirmation without a pending enrolment, and to enrolling twice", async () => {
    const { members } = await createTenant();
    const ip = uniqueIp();
    const early = await call("/api/v1/me/mfa/totp/confirm", "POST", members.patient, ip, { code: "123456" });
    expect(early.status).toBe(409);
    await enableMfa(members.patient, ip);
    const again = await call("/api/v1/me/mfa/totp", "POST", members.patient, ip);
    expect(again.status).toBe(409);
    expect((await problemOf(again)).title).toBe("Conflict");
  });

  it("needs a signed-in member: 401 without a token, 422 for a malformed code", async () => {
    const { members } = await createTenant();
    const ip = uniqueIp();
    expect((await call("/api/v1/me/mfa/totp", "POST", null, ip)).status).toBe(401);
    const malformed = await call("/api/v1/me/mfa/totp/confirm", "POST", members.owner, ip, { code: "12ab" });
    expect(malformed.status).toBe(422);
  });
});

describe("the second login step", () => {
  it("makes login answer mfaRequired, then trades the MFA token and a code for working tokens", async () => {
    const { members, organizationId } = await createTenant();
    const member = members.clinician;
    const ip = uniqueIp();
    const { secret } = await enableMfa(member, ip);

    const login = await api("/api/v1/auth/login", jsonBody({ email: member.email, password: PASSWORD }, { "CF-Connecting-IP": ip }));
    expect(login.status).toBe(200);
    const answer = (await login.json()) as { mfaRequired: boolean; mfaToken: string; tokens?: unknown };
    expect(answer.mfaRequired).toBe(true);
    expect(answer.tokens).toBeUndefined();

    const response = await verify(ip, { mfaToken: answer.mfaToken, code: codeAt(secret, 1) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { mfaRequired: false; tokens: { accessToken: string; refreshToken: string; role: string; organizationId: string } };
    expect(body.mfaRequired).toBe(false);
    expect(body.tokens).toMatchObject({ tokenType: "Bearer", role: "clinician", organizationId });

    // The new access token authenticates: enrolling again is refused as a conflict, not a 401.
    const withToken = await api("/api/v1/me/mfa/totp", {
      method: "POST",
      headers: { Authorization: `Bearer ${body.tokens.accessToken}`, "CF-Connecting-IP": ip },
    });
    expect(withToken.status).toBe(409);

    const actions = await testDb().select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.actorUserId, member.id));
    expect(actions.map((row) => row.action)).toContain("auth.login.succeeded");
  });

  it("never accepts the same code twice", async () => {
    const { members, organizationId } = await createTenant();
    const ip = uniqueIp();
    const { secret } = await enableMfa(members.staff, ip, -1);
    const code = codeAt(secret);
    const first = await verify(ip, { mfaToken: await mfaTokenFor(members.staff, organizationId), code });
    expect(first.status).toBe(200);
    const second = await verify(ip, { mfaToken: await mfaTokenFor(members.staff, organizationId), code });
    expect(second.status).toBe(401);
    // The code used to confirm enrolment is spent as well.
    const confirmCode = codeAt(secret, -1);
    expect((await verify(ip, { mfaToken: await mfaTokenFor(members.staff, organizationId), code: confirmCode })).status).toBe(401);
  });

  it("accepts one step of drift either way, but not a code two steps old", async () => {
    const { members, organizationId } = await createTenant();
    const ip = uniqueIp();
    const { secret } = await enableMfa(members.patient, ip);
    // Forget the step spent on confirming, so only the drift window decides.
    await testDb().update(users).set({ totpLastStep: null }).where(eq(users.id, members.patient.id));
    // A fresh MFA token each time: one mints a single session.
    const mfaToken = () => mfaTokenFor(members.patient, organizationId);
    const tokens = await Promise.all([mfaToken(), mfaToken(), mfaToken()]);
    await awayFromStepEdge();
    expect((await verify(ip, { mfaToken: tokens[0] ?? "", code: codeAt(secret, -2) })).status).toBe(401);
    expect((await verify(ip, { mfaToken: tokens[1] ?? "", code: codeAt(secret, -1) })).status).toBe(200);
    expect((await verify(ip, { mfaToken: tokens[2] ?? "", code: codeAt(secret, 1) })).status).toBe(200);
  });

  it("takes each recovery code once, and records its use", async () => {
    const { members, organizationId } = await createTenant();
    const ip = uniqueIp();
    const { recoveryCodes: codes } = await enableMfa(members.admin, ip);
    const recoveryCode = codes[3] ?? "";
    const mfaToken = await mfaTokenFor(members.admin, organizationId);
    const first = await verify(ip, { mfaToken, recoveryCode: recoveryCode.toUpperCase() });
    expect(first.status).toBe(200);
    expect((await verify(ip, { mfaToken, recoveryCode })).status).toBe(401);
    expect((await verify(ip, { mfaToken, recoveryCode: "zzzz-zzzz" })).status).toBe(401);
    const actions = await testDb().select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.actorUserId, members.admin.id));
    expect(actions.filter((row) => row.action === "mfa.recovery_code_used")).toHaveLength(1);
  });

  it("answers 401 to a garbage, expired or wrong-type MFA token, and to a wrong code", async () => {
    const { members, organizationId } = await createTenant();
    const ip = uniqueIp();
    const { secret } = await enableMfa(members.owner, ip);
    const config = parseConfig(env);
    const code = codeAt(secret, 1);

    expect((await verify(ip, { mfaToken: "not-a-jwt", code })).status).toBe(401);

    const jwk = config.JWT_PRIVATE_KEYS[0];
    if (!jwk) throw new Error("no key");
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = await new SignJWT({ org: organizationId, typ: "mfa" })
      .setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "JWT" })
      .setIssuer(config.JWT_ISSUER)
      .setAudience(config.JWT_AUDIENCE)
      .setSubject(members.owner.id)
      .setIssuedAt(past)
      .setExpirationTime(past + 300)
      .setJti(crypto.randomUUID())
      .sign(await importJWK({ ...jwk, alg: "ES256" }, "ES256"));
    expect((await verify(ip, { mfaToken: expired, code })).status).toBe(401);

    const access = await signAccessToken(config, { userId: members.owner.id, organizationId, role: "owner" });
    expect((await verify(ip, { mfaToken: access, code })).status).toBe(401);

    const wrong = await verify(ip, { mfaToken: await mfaTokenFor(members.owner, organizationId), code: codeAt(secret, 4) });
    expect(wrong.status).toBe(401);
    expect((await problemOf(wrong)).title).toBe("Unauthorized");
  });

  it("refuses the MFA token as a bearer token", async () => {
    const { members, organizationId } = await createTenant();
    const mfaToken = await mfaTokenFor(members.owner, organizationId);
    const response = await api("/api/v1/me/mfa/totp", {
      method: "POST",
      headers: { Authorization: `Bearer ${mfaToken}`, "CF-Connecting-IP": uniqueIp() },
    });
    expect(response.status).toBe(401);
  });

  it("refuses a verification for a user without TOTP, and one sending both factors", async () => {
    const { members, organizationId } = await createTenant();
    const ip = uniqueIp();
    const mfaToken = await mfaTokenFor(members.staff, organizationId);
    expect((await verify(ip, { mfaToken, code: "123456" })).status).toBe(401);
    expect((await verify(ip, { mfaToken, code: "123456", recoveryCode: "abcd-efgh" })).status).toBe(422);
    expect((await verify(ip, { mfaToken })).status).toBe(422);
  });
});

describe("turning TOTP off", () => {
  it("needs a valid code, then clears the secret and the recovery codes", async () => {
    const { members } = await createTenant();
    const ip = uniqueIp();
    const member = members.clinician;
    const { secret } = await enableMfa(member, ip);

    const wrong = await call("/api/v1/me/mfa/totp", "DELETE", member, ip, { code: codeAt(secret, 5) });
    expect(wrong.status).toBe(422);
    const missing = await call("/api/v1/me/mfa/totp", "DELETE", member, ip, {});
    expect(missing.status).toBe(422);

    const off = await call("/api/v1/me/mfa/totp", "DELETE", member, ip, { code: codeAt(secret, 1) });
    expect(off.status).toBe(204);
    const db = testDb();
    const [row] = await db.select().from(users).where(eq(users.id, member.id));
    expect(row).toMatchObject({ totpSecret: null, totpEnabledAt: null, totpLastStep: null });
    expect(await db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, member.id))).toHaveLength(0);

    expect((await call("/api/v1/me/mfa/totp", "DELETE", member, ip, { code: codeAt(secret, 1) })).status).toBe(409);
    const login = await api("/api/v1/auth/login", jsonBody({ email: member.email, password: PASSWORD }, { "CF-Connecting-IP": ip }));
    expect(((await login.json()) as { mfaRequired: boolean }).mfaRequired).toBe(false);
  });

  it("takes a recovery code instead of a TOTP code", async () => {
    const { members } = await createTenant();
    const ip = uniqueIp();
    const { recoveryCodes: codes } = await enableMfa(members.staff, ip);
    const off = await call("/api/v1/me/mfa/totp", "DELETE", members.staff, ip, { code: codes[0] });
    expect(off.status).toBe(204);
    const actions = await testDb().select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.actorUserId, members.staff.id));
    expect(actions.map((row) => row.action)).toContain("mfa.disabled");
  });
});
