import { env } from "cloudflare:test";
import { eq, sql } from "drizzle-orm";
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { auditEvents, users } from "#src/db/schema/index.ts";
import { auditFromCte } from "#src/lib/audit.ts";
import { parseConfig } from "#src/env.ts";
import { randomToken } from "#src/lib/encoding.ts";
import { open, seal } from "#src/lib/envelope.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { hashPassword, PBKDF2_ITERATIONS, pbkdf2, verifyPassword } from "#src/lib/password-hash.ts";
import { breachedSet, passwordProblem } from "#src/lib/password-policy.ts";
import { workerAssets } from "#src/platform/cloudflare/adapters.ts";
import { createTenant, jsonBody, PASSWORD, uniqueIp } from "./fixtures.ts";
import { apiWithEnv, testDb } from "./helpers.ts";

const config = () => parseConfig(env);

describe("password storage", () => {
  it("refuses PBKDF2 above 100,000 iterations, as deployed Workers do (wrangler dev does not)", async () => {
    expect(PBKDF2_ITERATIONS).toBeLessThanOrEqual(100_000);
    await expect(pbkdf2(new Uint8Array(32), new Uint8Array(16), 100_001)).rejects.toThrow(RangeError);
    await expect(hashPassword(PASSWORD, config().PASSWORD_PEPPERS, 600_000)).rejects.toThrow(/refused on Workers/);
  });

  it("stores the algorithm, iterations and pepper id with each hash, and needs the pepper to verify", async () => {
    const stored = await hashPassword(PASSWORD, config().PASSWORD_PEPPERS);
    expect(stored).toMatch(/^pbkdf2-sha256\$i=100000\$p=p1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword(PASSWORD, stored, config().PASSWORD_PEPPERS)).toEqual({ valid: true, needsRehash: false });
    expect((await verifyPassword("wrong but long enough", stored, config().PASSWORD_PEPPERS)).valid).toBe(false);
    const otherPepper = [{ id: "p1", secret: randomToken() }];
    expect((await verifyPassword(PASSWORD, stored, otherPepper)).valid).toBe(false);
  });

  it("upgrades a hash made with older parameters or an older pepper at the next login", async () => {
    const { members } = await createTenant("Rehash Practice");
    const db = testDb();
    const weak = await hashPassword(PASSWORD, config().PASSWORD_PEPPERS, 10_000);
    await db.update(users).set({ passwordHash: weak }).where(eq(users.id, members.staff.id));
    const rotated = `p2:${randomToken()},${env.PASSWORD_PEPPERS}`;
    const login = await apiWithEnv(
      { PASSWORD_PEPPERS: rotated },
      "/api/v1/auth/login",
      jsonBody({ email: members.staff.email, password: PASSWORD }, { "CF-Connecting-IP": uniqueIp() }),
    );
    expect(login.status).toBe(200);
    const [row] = await db.select({ hash: users.passwordHash }).from(users).where(eq(users.id, members.staff.id));
    expect(row?.hash).toMatch(/^pbkdf2-sha256\$i=100000\$p=p2\$/);
  });

  it("applies the policy: 12 to 128 characters after NFKC, no common passwords, no composition rules", async () => {
    const set = await breachedSet(workerAssets(env.ASSETS));
    expect(set.size).toBeGreaterThanOrEqual(10_000);
    expect(passwordProblem("short pass", set)).toMatch(/at least 12/);
    expect(passwordProblem("x".repeat(129), set)).toMatch(/at most 128/);
    expect(passwordProblem("1q2w3e4r5t6y", set)).toMatch(/too common/);
    expect(passwordProblem("1Q2W3E4R5T6Y", set)).toMatch(/too common/);
    expect(passwordProblem("all lowercase words are fine", set)).toBeNull();
    expect(passwordProblem("ｆｕｌｌｗｉｄｔｈ ｉｓ ｆｉｎｅ", set)).toBeNull();
    expect(passwordProblem("é".repeat(6).normalize("NFD") + "abcdef", set)).toBeNull(); // 12 code points once composed
  });
});

describe("signing keys", () => {
  it("signs with the newest key and still accepts tokens of every listed key", async () => {
    const { members } = await createTenant("Key Rotation Practice");
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const newest = { ...(await exportJWK(privateKey)), kid: "rotated-key-2" };
    const rotated = { JWT_PRIVATE_KEYS: JSON.stringify([newest, ...JSON.parse(String(env.JWT_PRIVATE_KEYS))]) };
    const headers = { ...members.owner.headers, "CF-Connecting-IP": uniqueIp() };
    expect((await apiWithEnv(rotated, "/api/v1/me", { headers })).status).toBe(200);
    const jwks = (await (await apiWithEnv(rotated, "/.well-known/jwks.json")).json()) as { keys: { kid: string; d?: string }[] };
    expect(jwks.keys.map((key) => key.kid)).toEqual(["rotated-key-2", "test-key-1"]);
    expect(jwks.keys.every((key) => key.d === undefined)).toBe(true);
    const login = await apiWithEnv(rotated, "/api/v1/auth/login", jsonBody({ email: members.owner.email, password: PASSWORD }, headers));
    const { tokens } = (await login.json()) as { tokens: { accessToken: string } };
    const header = JSON.parse(atob(tokens.accessToken.split(".")[0] ?? "")) as { kid: string; alg: string };
    expect(header).toMatchObject({ kid: "rotated-key-2", alg: "ES256" });
  });
});

describe("audit_events", () => {
  it("is append-only: the database refuses UPDATE and DELETE", async () => {
    const db = testDb();
    const id = uuidv7();
    await db.insert(auditEvents).values({ id, action: "auth.signup", requestId: "append-only-test" });
    await expect(db.update(auditEvents).set({ action: "tampered" }).where(eq(auditEvents.id, id))).rejects.toMatchObject({
      cause: expect.objectContaining({ code: "42501" }),
    });
    await expect(db.delete(auditEvents).where(eq(auditEvents.id, id))).rejects.toMatchObject({
      cause: expect.objectContaining({ code: "42501" }),
    });
    const [row] = await db.select().from(auditEvents).where(eq(auditEvents.id, id));
    expect(row?.action).toBe("auth.signup");
  });

  it("gives each row audited from a CTE its own time-ordered UUIDv7", async () => {
    const origin = { ip: null, userAgent: null, requestId: "cte-audit-test" };
    const result = await testDb().execute<{ id: string }>(sql`
      with touched as (select generate_series(1, 3) as n)
      ${auditFromCte("touched", origin, { action: "auth.signup", targetId: sql`n` })} returning id`);
    const ids = result.rows.map((row) => row.id);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Math.abs(Number.parseInt((ids[0] ?? "").replace(/-/g, "").slice(0, 12), 16) - Date.now())).toBeLessThan(60_000);
  });
});

describe("encryption at rest", () => {
  it("seals with the first key, opens with any listed key, and detects tampering", async () => {
    const k1 = { id: "k1", secret: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))) };
    const k2 = { id: "k2", secret: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))) };
    const sealed = await seal("JBSWY3DPEHPK3PXP", [k1]);
    expect(sealed).toMatch(/^v1\.k1\./);
    expect(sealed).not.toContain("JBSWY3DPEHPK3PXP");
    expect(await open(sealed, [k2, k1])).toBe("JBSWY3DPEHPK3PXP");
    expect((await seal("x", [k2, k1])).startsWith("v1.k2.")).toBe(true);
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith("A") ? "B" : "A"}A`;
    await expect(open(tampered, [k1])).rejects.toThrow();
    await expect(open(sealed.replace("v1.k1.", "v1.k2."), [k1, k2])).rejects.toThrow();
  });
});
