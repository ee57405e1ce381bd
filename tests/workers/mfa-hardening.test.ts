import { env } from "cloudflare:test";
import { systemClock } from "#src/platform/ports.ts";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditEvents, recoveryCodes, users } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { completeLogin, disableMfa, type MfaDeps } from "#src/features/mfa/mfa.service.ts";
import { sha256Hex } from "#src/lib/encoding.ts";
import { signMfaToken } from "#src/lib/tokens.ts";
import { durableRateLimiter } from "#src/platform/cloudflare/adapters.ts";
import { createTenant, jsonBody, type Member, PASSWORD, uniqueIp } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";
import { codeAt, enableMfa as enableMfaAt, verify } from "./mfa-helpers.ts";

/** Enrols and confirms with the previous period's code, so the current one is still unspent. */
const enableMfa = (member: Member, ip: string) => enableMfaAt(member, ip, -1);

async function loginMfaToken(member: Member, ip: string): Promise<string> {
  const response = await api("/api/v1/auth/login", jsonBody({ email: member.email, password: PASSWORD }, { "CF-Connecting-IP": ip }));
  const body = (await response.json()) as { mfaRequired: boolean; mfaToken: string };
  expect(body.mfaRequired).toBe(true);
  return body.mfaToken;
}

const actionsOf = async (userId: string) =>
  (await testDb().select().from(auditEvents).where(eq(auditEvents.actorUserId, userId))).map((row) => ({
    action: row.action,
    metadata: row.metadata,
  }));

/** MfaDeps over the same database and rate limiter the Worker uses, with a hook before each batch. */
function directDeps(beforeBatch: () => Promise<void>): MfaDeps {
  const db = testDb();
  const batch: typeof db.batch = async (queries) => {
    await beforeBatch();
    return db.batch(queries);
  };
  const hooked = Object.assign(Object.create(db) as typeof db, { batch });
  return {
    db: hooked,
    config: parseConfig(env),
    origin: { ip: null, userAgent: null, requestId: "test" },
    rateLimiter: durableRateLimiter(env.RATE_LIMITER),
    clock: systemClock,
  };
}

describe("MFA code guessing", () => {
  it("allows 5 wrong codes per user, then answers 429 with Retry-After, even to the right code", async () => {
    const { members } = await createTenant();
    const member = members.clinician;
    const ip = uniqueIp();
    const { secret } = await enableMfa(member, ip);
    const mfaToken = await loginMfaToken(member, ip);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await verify(ip, { mfaToken, code: codeAt(secret, 10 + i) })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);

    const right = await verify(ip, { mfaToken, code: codeAt(secret) });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await problemOf(right)).status).toBe(429);
    // A fresh MFA token does not reset the count: the limit is per user.
    expect((await verify(ip, { mfaToken: await loginMfaToken(member, ip), code: codeAt(secret) })).status).toBe(429);

    const actions = await actionsOf(member.id);
    const failed = actions.filter((row) => row.action === "auth.mfa.failed");
    expect(failed).toHaveLength(5);
    expect(failed[0]?.metadata).toMatchObject({ factor: "totp", reason: "wrong_code" });
    expect(JSON.stringify(failed)).not.toContain(codeAt(secret, 10));
    expect(actions.filter((row) => row.action === "auth.lockout")).toHaveLength(1);
  });

  it("does not burn the MFA token on wrong codes, and a success resets the count", async () => {
    const { members } = await createTenant();
    const ip = uniqueIp();
    const { secret } = await enableMfa(members.staff, ip);
    const mfaToken = await loginMfaToken(members.staff, ip);
    for (let i = 0; i < 4; i++) expect((await verify(ip, { mfaToken, code: codeAt(secret, 10 + i) })).status).toBe(401);
    expect((await verify(ip, { mfaToken, code: codeAt(secret) })).status).toBe(200);
    const next = await loginMfaToken(members.staff, ip);
    for (let i = 0; i < 4; i++) expect((await verify(ip, { mfaToken: next, code: codeAt(secret, 10 + i) })).status).toBe(401);
  });
});

describe("single-use MFA tokens", () => {
  it("mints one session per MFA token: a used token fails even with a fresh valid code", async () => {
    const { members } = await createTenant();
    const member = members.admin;
    const ip = uniqueIp();
    const { secret, recoveryCodes: codes } = await enableMfa(member, ip);
    const mfaToken = await loginMfaToken(member, ip);
    expect((await verify(ip, { mfaToken, code: codeAt(secret) })).status).toBe(200);

    const replayed = await verify(ip, { mfaToken, code: codeAt(secret, 1) });
    expect(replayed.status).toBe(401);
    expect((await verify(ip, { mfaToken, recoveryCode: codes[0] })).status).toBe(401);
    const reasons = (await actionsOf(member.id)).filter((row) => row.action === "auth.mfa.failed").map((row) => row.metadata);
    expect(reasons).toContainEqual(expect.objectContaining({ reason: "token_reused" }));

    // Another login's token still works.
    expect((await verify(ip, { mfaToken: await loginMfaToken(member, ip), recoveryCode: codes[1] })).status).toBe(200);
  });

  it("audits a login answered with mfaRequired", async () => {
    const { members, organizationId } = await createTenant();
    const ip = uniqueIp();
    await enableMfa(members.patient, ip);
    await loginMfaToken(members.patient, ip);
    const rows = await testDb()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.actorUserId, members.patient.id), eq(auditEvents.action, "auth.login.mfa_required")));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.organizationId).toBe(organizationId);
  });
});

describe("turning TOTP off", () => {
  it("spends the code's step, so the same code cannot also complete a login", async () => {
    const { members, organizationId } = await createTenant();
    const member = members.owner;
    const ip = uniqueIp();
    const { secret } = await enableMfa(member, ip);
    const code = codeAt(secret);
    const config = parseConfig(env);
    let raced = 0;
    // A login with the same code lands between the disable's check and its write.
    const deps = directDeps(async () => {
      raced = (await verify(ip, { mfaToken: await signMfaToken(config, { userId: member.id, organizationId }), code })).status;
    });
    await disableMfa(deps, { userId: member.id, organizationId }, code);
    expect(raced).toBe(401);
    const [row] = await testDb().select().from(users).where(eq(users.id, member.id));
    expect(row?.totpEnabledAt).toBeNull();
  });
});

describe("recovery codes at rest", () => {
  it("stores HMAC-SHA256 keyed by the pepper and the user, not a plain hash, and survives a pepper rotation", async () => {
    const { members, organizationId } = await createTenant();
    const member = members.caregiver;
    const ip = uniqueIp();
    const { recoveryCodes: codes } = await enableMfa(member, ip);
    const stored = (await testDb().select().from(recoveryCodes).where(eq(recoveryCodes.userId, member.id))).map((row) => row.codeHash);
    expect(stored).toHaveLength(10);

    const config = parseConfig(env);
    const pepper = config.PASSWORD_PEPPERS[0]?.secret ?? "";
    // Keyed by the recovery-code key that HKDF-SHA-256 derives from the pepper, not by the pepper itself.
    const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(pepper), "HKDF", false, ["deriveKey"]);
    const info = new TextEncoder().encode("tend/recovery-codes/v1");
    const key = await crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info }, base, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]);
    const hmac = async (text: string) =>
      Array.from(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text))), (b) => b.toString(16).padStart(2, "0")).join("");
    const plain = await Promise.all(codes.map((code) => sha256Hex(code)));
    expect(stored.filter((hash) => plain.includes(hash))).toEqual([]);
    const keyed = await Promise.all(codes.map((code) => hmac(`recovery-code:${member.id}:${code}`)));
    expect(new Set(stored)).toEqual(new Set(keyed));

    // After a rotation the new pepper comes first; codes stored under the old one still work.
    const rotated = { ...config, PASSWORD_PEPPERS: [{ id: "rotated", secret: "r".repeat(40) }, ...config.PASSWORD_PEPPERS] };
    const deps = { ...directDeps(async () => {}), config: rotated };
    const mfaToken = await signMfaToken(config, { userId: member.id, organizationId });
    const outcome = await completeLogin(deps, mfaToken, { recoveryCode: (codes[2] ?? "").toUpperCase() });
    expect(outcome).toMatchObject({ kind: "tokens", tokens: { organizationId } });
  });
});
