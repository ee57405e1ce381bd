import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ROLES } from "#src/db/schema/identity.ts";
import { API_KEY_SCOPES, type Permission, ROLE_PERMISSIONS } from "#src/lib/permissions.ts";
import { createTenant, jsonBody, type Tenant, uniqueEmail, uniqueIp } from "./fixtures.ts";
import { api } from "./helpers.ts";

interface RouteCase {
  name: string;
  permission: Permission | null;
  method: string;
  path: () => string;
  body?: () => unknown;
  /** Only a signed-in member may call it: an API key gets 403 whatever its scopes. */
  memberOnly?: true;
}

const missing = () => crypto.randomUUID();

/** Every authorised route of identity and access (the public auth routes have no role to check). */
const ROUTES: RouteCase[] = [
  { name: "GET /organization", permission: "organization:read", method: "GET", path: () => "/organization" },
  { name: "PATCH /organization", permission: "organization:write", method: "PATCH", path: () => "/organization", body: () => ({ locale: "en-GB" }) },
  { name: "GET /members", permission: "members:read", method: "GET", path: () => "/members" },
  { name: "PATCH /members/{userId}", permission: "members:write", method: "PATCH", path: () => `/members/${missing()}`, body: () => ({ role: "staff" }) },
  { name: "DELETE /members/{userId}", permission: "members:write", method: "DELETE", path: () => `/members/${missing()}` },
  { name: "POST /invitations", permission: "invitations:write", method: "POST", path: () => "/invitations", body: () => ({ email: uniqueEmail(), role: "patient" }) },
  { name: "POST /invitations/accept", permission: null, method: "POST", path: () => "/invitations/accept", body: () => ({ token: "bogus" }) },
  { name: "GET /api-keys", permission: "api-keys:read", method: "GET", path: () => "/api-keys" },
  { name: "POST /api-keys", permission: "api-keys:write", method: "POST", path: () => "/api-keys", body: () => ({ name: "matrix", scopes: ["organization:read"] }), memberOnly: true },
  { name: "POST /api-keys/{id}/rotate", permission: "api-keys:write", method: "POST", path: () => `/api-keys/${missing()}/rotate`, memberOnly: true },
  { name: "DELETE /api-keys/{id}", permission: "api-keys:write", method: "DELETE", path: () => `/api-keys/${missing()}`, memberOnly: true },
  { name: "GET /me/preferences", permission: "profile:self", method: "GET", path: () => "/me/preferences" },
  { name: "PATCH /me/preferences", permission: "profile:self", method: "PATCH", path: () => "/me/preferences", body: () => ({ alertThreshold: "high" }) },
  { name: "GET /me", permission: "profile:self", method: "GET", path: () => "/me" },
  { name: "POST /auth/switch", permission: "profile:self", method: "POST", path: () => "/auth/switch", body: () => ({ organizationId: missing() }) },
  { name: "POST /auth/password/change", permission: "profile:self", method: "POST", path: () => "/auth/password/change", body: () => ({}) },
  { name: "POST /me/mfa/totp", permission: "profile:self", method: "POST", path: () => "/me/mfa/totp" },
  { name: "POST /me/mfa/totp/confirm", permission: "profile:self", method: "POST", path: () => "/me/mfa/totp/confirm", body: () => ({ code: "000000" }) },
  { name: "DELETE /me/mfa/totp", permission: "profile:self", method: "DELETE", path: () => "/me/mfa/totp", body: () => ({ code: "000000" }) },
  { name: "POST /auth/logout", permission: "profile:self", method: "POST", path: () => "/auth/logout", body: () => ({ refreshToken: "x".repeat(43) }) },
  // Last: it revokes the member's own access token.
  { name: "POST /auth/logout-all", permission: "profile:self", method: "POST", path: () => "/auth/logout-all" },
];

function send(route: RouteCase, headers: Record<string, string>) {
  const body = route.body?.();
  return api(`/api/v1${route.path()}`, {
    method: route.method,
    headers: { "CF-Connecting-IP": uniqueIp(), ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const realFetch = globalThis.fetch;

/** API keys the matrix runs as: every scope a key may hold, and a single one. */
const KEY_SCOPES: Record<string, Permission[]> = { "all-scopes key": API_KEY_SCOPES, "organization:read key": ["organization:read"] };

describe("role matrix", () => {
  let tenant: Tenant;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    tenant = await createTenant("Matrix Practice");
    for (const [label, scopes] of Object.entries(KEY_SCOPES)) {
      const issued = await api("/api/v1/api-keys", jsonBody({ name: label, scopes }, tenant.members.owner.headers));
      keys[label] = ((await issued.json()) as { key: string }).key;
    }
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      return url.startsWith("https://api.resend.com/") ? new Response("{}", { status: 200 }) : realFetch(input, init);
    });
  });
  afterAll(() => vi.restoreAllMocks());

  for (const role of ROLES) {
    for (const route of ROUTES) {
      const allowed = route.permission === null || ROLE_PERMISSIONS[role].has(route.permission);
      it(`${role} ${allowed ? "may" : "may not"} ${route.name}`, async () => {
        const response = await send(route, tenant.members[role].headers);
        if (allowed) expect([401, 403]).not.toContain(response.status);
        else expect(response.status).toBe(403);
        expect(response.status).toBeLessThan(500);
      });
    }
  }

  for (const [label, scopes] of Object.entries(KEY_SCOPES)) {
    for (const route of ROUTES.filter((candidate) => candidate.permission !== null)) {
      const allowed = !route.memberOnly && route.permission !== null && scopes.includes(route.permission);
      it(`an ${label} ${allowed ? "may" : "may not"} ${route.name}`, async () => {
        const response = await send(route, { "X-API-Key": keys[label] ?? "" });
        if (allowed) expect([401, 403]).not.toContain(response.status);
        else expect(response.status).toBe(403);
        expect(response.status).toBeLessThan(500);
      });
    }
  }

  for (const route of ROUTES.filter((candidate) => candidate.permission !== null)) {
    it(`${route.name} without credentials answers 401`, async () => {
      expect((await send(route, {})).status).toBe(401);
    });
  }
});
