import { env } from "cloudflare:test";
import { importJWK, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "#src/env.ts";
import { toBase64Url, utf8 } from "#src/lib/encoding.ts";
import { signAccessToken, signMfaToken } from "#src/lib/tokens.ts";
import { api, problemOf } from "./helpers.ts";
import { createTenant, jsonBody, PASSWORD, type Tenant, uniqueIp } from "./fixtures.ts";

const config = parseConfig(env);
const privateJwk = (JSON.parse(String(env.JWT_PRIVATE_KEYS)) as (JWK & { kid: string })[])[0] as JWK & { kid: string };
const { d: _d, ...publicJwk } = privateJwk;

let tenant: Tenant;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  tenant = await createTenant("JWT Practice");
});

function claims(overrides: Record<string, unknown> = {}) {
  const member = tenant.members.clinician;
  return {
    iss: config.JWT_ISSUER,
    aud: config.JWT_AUDIENCE,
    sub: member.id,
    org: tenant.organizationId,
    role: member.role,
    typ: "access",
    jti: crypto.randomUUID(),
    iat: now(),
    exp: now() + 600,
    ...overrides,
  };
}

async function forge(payload: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const key = await importJWK({ ...privateJwk, alg: "ES256" }, "ES256");
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid: privateJwk.kid, typ: "JWT", ...header }).sign(key);
}

const me = (token: string) => api("/api/v1/me", { headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": uniqueIp() } });

async function expectRejected(token: string) {
  const response = await me(token);
  expect(response.status).toBe(401);
  expect((await problemOf(response)).status).toBe(401);
}

describe("GET /me refuses every forged or dead access token with 401", () => {
  it("accepts a genuine token (control)", async () => {
    const forged = await forge(claims());
    expect((await me(forged)).status).toBe(200);
  });

  it("alg none", async () => {
    const header = toBase64Url(utf8(JSON.stringify({ alg: "none", typ: "JWT" })));
    await expectRejected(`${header}.${toBase64Url(utf8(JSON.stringify(claims())))}.`);
  });

  it("HS256 signed with the public key's bytes", async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS256", kid: privateJwk.kid, typ: "JWT" })
      .sign(utf8(JSON.stringify(publicJwk)));
    await expectRejected(token);
  });

  it("an unknown kid", async () => {
    await expectRejected(await forge(claims(), { kid: "someone-else" }));
  });

  it("an expired token", async () => {
    await expectRejected(await forge(claims({ iat: now() - 7200, exp: now() - 3600 })));
  });

  it("a token not valid yet (nbf in the future)", async () => {
    await expectRejected(await forge(claims({ nbf: now() + 3600 })));
  });

  it("the wrong issuer", async () => {
    await expectRejected(await forge(claims({ iss: "https://evil.example" })));
  });

  it("the wrong audience", async () => {
    await expectRejected(await forge(claims({ aud: "someone-else" })));
  });

  it("a refresh token used as a bearer token", async () => {
    const login = await api(
      "/api/v1/auth/login",
      jsonBody({ email: tenant.members.staff.email, password: PASSWORD }, { "CF-Connecting-IP": uniqueIp() }),
    );
    expect(login.status).toBe(200);
    const { tokens } = (await login.json()) as { tokens: { refreshToken: string } };
    await expectRejected(tokens.refreshToken);
  });

  it("an MFA token used as a bearer token", async () => {
    await expectRejected(await signMfaToken(config, { userId: tenant.members.admin.id, organizationId: tenant.organizationId }));
  });

  it("a tampered payload", async () => {
    const [header, , signature] = tenant.members.patient.token.split(".");
    const payload = toBase64Url(utf8(JSON.stringify(claims({ sub: tenant.members.patient.id, role: "owner" }))));
    await expectRejected(`${header}.${payload}.${signature}`);
  });

  it("a tampered signature", async () => {
    const [header, payload, signature = ""] = tenant.members.caregiver.token.split(".");
    const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
    await expectRejected(`${header}.${payload}.${flipped}`);
  });

  it("the token of a member removed from the organization", async () => {
    const removedTenant = await createTenant("Removal Practice");
    const { clinician, owner } = removedTenant.members;
    expect((await me(clinician.token)).status).toBe(200);
    const removed = await api(`/api/v1/members/${clinician.id}`, { method: "DELETE", headers: { ...owner.headers, "CF-Connecting-IP": uniqueIp() } });
    expect(removed.status).toBeLessThan(300);
    await expectRejected(clinician.token);
  });

  it("a token issued before logout-all", async () => {
    const other = await createTenant("Logout Practice");
    const { owner } = other.members;
    const second = await signAccessToken(config, { userId: owner.id, organizationId: other.organizationId, role: "owner" });
    expect((await me(second)).status).toBe(200);
    const out = await api("/api/v1/auth/logout-all", { method: "POST", headers: { ...owner.headers, "CF-Connecting-IP": uniqueIp() } });
    expect(out.status).toBe(204);
    await expectRejected(owner.token);
    await expectRejected(second);
  });
});
