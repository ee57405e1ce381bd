import { eq } from "drizzle-orm";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { refreshTokens } from "#src/db/schema/index.ts";
import { sha256Hex } from "#src/lib/encoding.ts";
import { createTenant, jsonBody, type Member, PASSWORD, uniqueIp } from "./fixtures.ts";
import { api, testDb } from "./helpers.ts";
import { mailedTokens, mailPerTest } from "./mail.ts";
import { enableMfa } from "./mfa-helpers.ts";

/**
 * A session is one sign-in: a refresh-token family, and the access tokens carrying its id as
 * `sid`. Ending a session ends both at once; the user's other sessions go on, unless the change
 * (MFA turned on, a new password) ends them too.
 */
interface Pair {
  accessToken: string;
  refreshToken: string;
}

const NEW_PASSWORD = "a brand new passphrase 42";

const mailbox = mailPerTest();

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  api(path, jsonBody(body, { "CF-Connecting-IP": uniqueIp(), ...headers }));
const bearer = (pair: Pair) => ({ Authorization: `Bearer ${pair.accessToken}` });
const me = async (pair: Pair) => (await api("/api/v1/me", { headers: { ...bearer(pair), "CF-Connecting-IP": uniqueIp() } })).status;
const refreshStatus = async (pair: Pair) => (await post("/api/v1/auth/refresh", { refreshToken: pair.refreshToken })).status;

async function signIn(member: Member, password = PASSWORD): Promise<Pair> {
  const response = await post("/api/v1/auth/login", { email: member.email, password });
  expect(response.status).toBe(200);
  return ((await response.json()) as { tokens: Pair }).tokens;
}

async function rotate(pair: Pair): Promise<Pair> {
  const response = await post("/api/v1/auth/refresh", { refreshToken: pair.refreshToken });
  expect(response.status).toBe(200);
  return ((await response.json()) as { tokens: Pair }).tokens;
}

const asMember = (member: Member, pair: Pair): Member => ({ ...member, token: pair.accessToken, headers: bearer(pair) });

describe("sessions", () => {
  it("an access token names its session: the refresh-token family, kept across rotation", async () => {
    const { members } = await createTenant();
    const pair = await signIn(members.staff);
    const [row] = await testDb().select().from(refreshTokens).where(eq(refreshTokens.tokenHash, await sha256Hex(pair.refreshToken)));
    expect(decodeJwt(pair.accessToken).sid).toBe(row?.familyId);
    expect(decodeJwt((await rotate(pair)).accessToken).sid).toBe(row?.familyId);
  });

  it("logout ends that session's access tokens at once; the user's other session goes on", async () => {
    const { members } = await createTenant();
    const [leaving, staying] = [await signIn(members.clinician), await signIn(members.clinician)];
    const out = await post("/api/v1/auth/logout", { refreshToken: leaving.refreshToken }, bearer(leaving));
    expect(out.status).toBe(204);
    expect(await me(leaving)).toBe(401);
    expect(await refreshStatus(leaving)).toBe(401);

    expect(await me(staying)).toBe(200);
    const rotated = await rotate(staying);
    expect(await me(rotated)).toBe(200);
  });

  it("logout ends the session it is signed with, even when the body names another refresh token", async () => {
    const { members } = await createTenant();
    const mine = await signIn(members.staff);
    const out = await post("/api/v1/auth/logout", { refreshToken: "x".repeat(24) }, bearer(mine));
    expect(out.status).toBe(204);
    expect(await me(mine)).toBe(401);
    expect(await refreshStatus(mine)).toBe(401);
  });

  it("logout also ends a rotated access token of the same session, issued before it", async () => {
    const { members } = await createTenant();
    const first = await signIn(members.admin);
    const second = await rotate(first);
    expect((await post("/api/v1/auth/logout", { refreshToken: second.refreshToken }, bearer(second))).status).toBe(204);
    expect(await me(first)).toBe(401);
    expect(await me(second)).toBe(401);
  });

  it("enabling MFA ends every other session, refresh and access tokens alike; the enabling one goes on", async () => {
    const { members } = await createTenant();
    const [enabling, other] = [await signIn(members.clinician), await signIn(members.clinician)];
    await enableMfa(asMember(members.clinician, enabling), uniqueIp());

    expect(await me(other)).toBe(401);
    expect(await refreshStatus(other)).toBe(401);
    expect(await me(enabling)).toBe(200);
    const rotated = await rotate(enabling);
    expect(await me(rotated)).toBe(200);
  });

  it("a password change ends every other session; the caller goes on in a fresh one", async () => {
    const { members } = await createTenant();
    const [changing, other] = [await signIn(members.staff), await signIn(members.staff)];
    const changed = await post("/api/v1/auth/password/change", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, bearer(changing));
    expect(changed.status).toBe(200);
    const fresh = ((await changed.json()) as { tokens: Pair }).tokens;

    expect(await me(other)).toBe(401);
    expect(await refreshStatus(other)).toBe(401);
    expect(await me(changing)).toBe(401);
    expect(await refreshStatus(changing)).toBe(401);
    expect(decodeJwt(fresh.accessToken).sid).not.toBe(decodeJwt(changing.accessToken).sid);
    expect(await me(fresh)).toBe(200);
    expect(await me(await rotate(fresh))).toBe(200);
  });

  it("a password reset ends every session", async () => {
    const { members } = await createTenant();
    const sessions = [await signIn(members.caregiver), await signIn(members.caregiver)];
    expect((await post("/api/v1/auth/password/forgot", { email: members.caregiver.email })).status).toBe(202);
    const [token] = await mailedTokens(mailbox.sent, members.caregiver.email, "/reset-password", 1);
    expect((await post("/api/v1/auth/password/reset", { token, password: NEW_PASSWORD })).status).toBe(204);
    for (const pair of sessions) {
      expect(await me(pair)).toBe(401);
      expect(await refreshStatus(pair)).toBe(401);
    }
    expect(await me(await signIn(members.caregiver, NEW_PASSWORD))).toBe(200);
  });
});
