import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { refreshTokens, users } from "#src/db/schema/index.ts";
import { randomToken, sha256Hex } from "#src/lib/encoding.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { jsonBody, PASSWORD, uniqueEmail, uniqueIp } from "./fixtures.ts";
import { api, testDb } from "./helpers.ts";
import { mailedTokens, mailPerTest } from "./mail.ts";
import { enableMfa } from "./mfa-helpers.ts";
import { signUp } from "./signup.ts";

interface Pair {
  accessToken: string;
  refreshToken: string;
}

const mailbox = mailPerTest();

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  api(path, jsonBody(body, { "CF-Connecting-IP": uniqueIp(), ...headers }));
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const refresh = (refreshToken: string) => post("/api/v1/auth/refresh", { refreshToken });

async function signup() {
  const { email, user, tokens } = await signUp(mailbox.sent, uniqueEmail("races"), { organizationName: "Race Clinic", name: "Rae" });
  return { email, userId: user.id, tokens: tokens as Pair };
}

async function rotate(refreshToken: string): Promise<Pair> {
  const response = await refresh(refreshToken);
  expect(response.status).toBe(200);
  return ((await response.json()) as { tokens: Pair }).tokens;
}

const familyOf = async (refreshToken: string) => {
  const [row] = await testDb().select().from(refreshTokens).where(eq(refreshTokens.tokenHash, await sha256Hex(refreshToken)));
  if (!row) throw new Error("no such refresh token");
  return row;
};

const reuseAudits = async (userId: string) =>
  (await testDb().execute(sql`select 1 from audit_events where actor_user_id = ${userId} and action = 'auth.refresh_reuse'`)).rows.length;

/**
 * What a rotation racing a sign-out-everywhere leaves behind: a successor in the family inserted
 * after the revoking update looked (so not revoked), as the losing side of that race would.
 */
async function racedSuccessor(refreshToken: string): Promise<string> {
  const row = await familyOf(refreshToken);
  const successor = randomToken();
  await testDb()
    .insert(refreshTokens)
    .values({
      ...row,
      id: uuidv7(),
      tokenHash: await sha256Hex(successor),
      usedAt: null,
      revokedAt: null,
      createdAt: new Date(),
    });
  return successor;
}

describe("refresh-token reuse", () => {
  it("revokes the family when a used token is presented twice at once", async () => {
    const { userId, tokens } = await signup();
    const newest = await rotate(tokens.refreshToken);
    const statuses = await Promise.all([refresh(tokens.refreshToken), refresh(tokens.refreshToken)]);
    expect(statuses.map((response) => response.status)).toEqual([401, 401]);
    expect((await refresh(newest.refreshToken)).status).toBe(401);
    const family = await testDb().select().from(refreshTokens).where(eq(refreshTokens.familyId, (await familyOf(tokens.refreshToken)).familyId));
    expect(family.every((row) => row.revokedAt !== null)).toBe(true);
    expect(await reuseAudits(userId)).toBeGreaterThanOrEqual(1);
  });

  it("two concurrent rotations of one token: one wins, and the loser revokes the family", async () => {
    const { userId, tokens } = await signup();
    const responses = await Promise.all([refresh(tokens.refreshToken), refresh(tokens.refreshToken)]);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 401]);
    const winner = responses.find((response) => response.status === 200);
    const pair = ((await winner!.json()) as { tokens: Pair }).tokens;
    expect((await refresh(pair.refreshToken)).status).toBe(401);
    expect(await reuseAudits(userId)).toBe(1);
    const family = await testDb().select().from(refreshTokens).where(eq(refreshTokens.familyId, (await familyOf(tokens.refreshToken)).familyId));
    expect(family).toHaveLength(2);
    // The presented token is revoked. The winner's successor may have committed after the loser's
    // snapshot and so escape the UPDATE; it is refused above because its family holds a revoked token.
    const presentedHash = await sha256Hex(tokens.refreshToken);
    expect(family.find((row) => row.tokenHash === presentedHash)?.revokedAt).not.toBeNull();
  });

  it("refuses the winner's successor that the loser's revocation could not see", async () => {
    const { tokens } = await signup();
    const successor = await rotate(tokens.refreshToken);
    // What a loser whose snapshot predates the winner's insert leaves: the presented token revoked,
    // the successor untouched.
    await testDb().update(refreshTokens).set({ revokedAt: new Date() }).where(eq(refreshTokens.tokenHash, await sha256Hex(tokens.refreshToken)));
    expect((await refresh(successor.refreshToken)).status).toBe(401);
  });

  it("copies the family's start onto each rotated token", async () => {
    const { tokens } = await signup();
    const first = await familyOf(tokens.refreshToken);
    const second = await familyOf((await rotate(tokens.refreshToken)).refreshToken);
    expect(second.familyId).toBe(first.familyId);
    expect(second.familyStartedAt.getTime()).toBe(first.familyStartedAt.getTime());
    expect(second.createdAt.getTime()).toBeGreaterThanOrEqual(first.createdAt.getTime());
  });
});

describe("signing out everywhere stops families started before it", () => {
  it("logout-all: a token minted just before, and a successor slipped in by a racing rotation, are refused", async () => {
    const { email, userId, tokens } = await signup();
    const login = await post("/api/v1/auth/login", { email, password: PASSWORD });
    const minted = ((await login.json()) as { tokens: Pair }).tokens;
    expect((await post("/api/v1/auth/logout-all", {}, bearer(tokens.accessToken))).status).toBe(204);
    const [user] = await testDb().select({ at: users.sessionsRevokedAt }).from(users).where(eq(users.id, userId));
    expect(user?.at).toBeInstanceOf(Date);

    expect((await refresh(minted.refreshToken)).status).toBe(401);
    expect((await refresh(await racedSuccessor(minted.refreshToken))).status).toBe(401);
    // No reuse alarm: these families are simply over.
    expect(await reuseAudits(userId)).toBe(0);

    const fresh = await post("/api/v1/auth/login", { email, password: PASSWORD });
    expect((await refresh(((await fresh.json()) as { tokens: Pair }).tokens.refreshToken)).status).toBe(200);
  });

  it("a rotation racing logout-all never yields a usable refresh token", async () => {
    const { email, tokens } = await signup();
    const login = await post("/api/v1/auth/login", { email, password: PASSWORD });
    const other = ((await login.json()) as { tokens: Pair }).tokens;
    const [rotated] = await Promise.all([refresh(other.refreshToken), post("/api/v1/auth/logout-all", {}, bearer(tokens.accessToken))]);
    if (rotated.status === 200) {
      expect((await refresh(((await rotated.json()) as { tokens: Pair }).tokens.refreshToken)).status).toBe(401);
    } else {
      expect(rotated.status).toBe(401);
    }
  });

  it("password change: older families are refused, the caller's new pair keeps working", async () => {
    const { email, tokens } = await signup();
    const login = await post("/api/v1/auth/login", { email, password: PASSWORD });
    const minted = ((await login.json()) as { tokens: Pair }).tokens;
    const changed = await post(
      "/api/v1/auth/password/change",
      { currentPassword: PASSWORD, newPassword: "a brand new passphrase 42" },
      bearer(tokens.accessToken),
    );
    expect(changed.status).toBe(200);
    const pair = ((await changed.json()) as { tokens: Pair }).tokens;
    expect((await refresh(await racedSuccessor(minted.refreshToken))).status).toBe(401);
    expect((await refresh(pair.refreshToken)).status).toBe(200);
  });

  it("password reset: older families are refused", async () => {
    const { email, tokens } = await signup();
    expect((await post("/api/v1/auth/password/forgot", { email })).status).toBe(202);
    const [token] = await mailedTokens(mailbox.sent, email, "/reset-password");
    const reset = await post("/api/v1/auth/password/reset", { token, password: "a brand new passphrase 42" });
    expect(reset.status).toBe(204);
    expect((await refresh(tokens.refreshToken)).status).toBe(401);
    expect((await refresh(await racedSuccessor(tokens.refreshToken))).status).toBe(401);
  });

  it("MFA enabled: other families, and a successor slipped in by a racing rotation, are refused; the enabling family rotates on", async () => {
    const { email, userId, tokens } = await signup();
    const login = await post("/api/v1/auth/login", { email, password: PASSWORD });
    const minted = ((await login.json()) as { tokens: Pair }).tokens;
    const enabling = { id: userId, email, role: "owner" as const, token: tokens.accessToken, headers: bearer(tokens.accessToken) };
    await enableMfa(enabling, uniqueIp());

    expect((await refresh(minted.refreshToken)).status).toBe(401);
    expect((await refresh(await racedSuccessor(minted.refreshToken))).status).toBe(401);
    expect(await reuseAudits(userId)).toBe(0);
    const next = await rotate(tokens.refreshToken);
    expect((await refresh(next.refreshToken)).status).toBe(200);
  });

  it("a rotation racing MFA being enabled never yields a usable refresh token for the other session", async () => {
    const { email, userId, tokens } = await signup();
    const login = await post("/api/v1/auth/login", { email, password: PASSWORD });
    const other = ((await login.json()) as { tokens: Pair }).tokens;
    const enabling = { id: userId, email, role: "owner" as const, token: tokens.accessToken, headers: bearer(tokens.accessToken) };
    const [rotated] = await Promise.all([refresh(other.refreshToken), enableMfa(enabling, uniqueIp())]);
    if (rotated.status === 200) {
      expect((await refresh(((await rotated.json()) as { tokens: Pair }).tokens.refreshToken)).status).toBe(401);
    } else {
      expect(rotated.status).toBe(401);
    }
  });
});
