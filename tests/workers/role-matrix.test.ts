import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ROLES, type Role } from "#src/db/schema/identity.ts";
import { API_KEY_SCOPES, type Permission, ROLE_PERMISSIONS } from "#src/lib/permissions.ts";
import { createTenant, jsonBody, type Tenant, uniqueEmail, uniqueIp } from "./fixtures.ts";
import { api, problemOf } from "./helpers.ts";

interface RouteCase {
  name: string;
  permission: Permission | null;
  method: string;
  path: () => string;
  body?: () => unknown;
  /** Only a signed-in member may call it: an API key gets 403 whatever its scopes. */
  memberOnly?: true;
  /** What an allowed caller gets, on a fresh tenant: the success status, or the exact 4xx of the case. */
  allowed: number;
  /** For a 4xx answer: the field the problem must name. */
  field?: string;
}

const missing = () => crypto.randomUUID();

/**
 * Every authorised route of identity and access, with what an allowed caller gets. Each case runs
 * on a tenant of its own, so none depends on another's state (logout-all, MFA enrolment and
 * password changes change the caller's).
 */
const ROUTES: RouteCase[] = [
  { name: "GET /organization", permission: "organization:read", method: "GET", path: () => "/organization", allowed: 200 },
  { name: "PATCH /organization", permission: "organization:write", method: "PATCH", path: () => "/organization", body: () => ({ locale: "en-GB" }), allowed: 200 },
  { name: "GET /members", permission: "members:read", method: "GET", path: () => "/members", allowed: 200 },
  { name: "PATCH /members/{userId}", permission: "members:write", method: "PATCH", path: () => `/members/${missing()}`, body: () => ({ role: "staff" }), allowed: 404 },
  { name: "DELETE /members/{userId}", permission: "members:write", method: "DELETE", path: () => `/members/${missing()}`, allowed: 404 },
  { name: "POST /invitations", permission: "invitations:write", method: "POST", path: () => "/invitations", body: () => ({ email: uniqueEmail(), role: "patient" }), allowed: 201 },
  { name: "POST /invitations/accept", permission: null, method: "POST", path: () => "/invitations/accept", body: () => ({ token: "bogus" }), allowed: 404 },
  { name: "GET /api-keys", permission: "api-keys:read", method: "GET", path: () => "/api-keys", allowed: 200 },
  { name: "POST /api-keys", permission: "api-keys:write", method: "POST", path: () => "/api-keys", body: () => ({ name: "matrix", scopes: ["organization:read"] }), memberOnly: true, allowed: 201 },
  { name: "POST /api-keys/{id}/rotate", permission: "api-keys:write", method: "POST", path: () => `/api-keys/${missing()}/rotate`, memberOnly: true, allowed: 404 },
  { name: "DELETE /api-keys/{id}", permission: "api-keys:write", method: "DELETE", path: () => `/api-keys/${missing()}`, memberOnly: true, allowed: 404 },
  { name: "GET /me/preferences", permission: "profile:self", method: "GET", path: () => "/me/preferences", memberOnly: true, allowed: 200 },
  { name: "PATCH /me/preferences", permission: "profile:self", method: "PATCH", path: () => "/me/preferences", body: () => ({ alertThreshold: "high" }), memberOnly: true, allowed: 200 },
  { name: "GET /me", permission: "profile:self", method: "GET", path: () => "/me", memberOnly: true, allowed: 200 },
  { name: "POST /auth/switch", permission: "profile:self", method: "POST", path: () => "/auth/switch", body: () => ({ organizationId: missing() }), memberOnly: true, allowed: 404 },
  { name: "POST /auth/password/change", permission: "profile:self", method: "POST", path: () => "/auth/password/change", body: () => ({}), memberOnly: true, allowed: 422, field: "body.currentPassword" },
  { name: "POST /me/mfa/totp", permission: "profile:self", method: "POST", path: () => "/me/mfa/totp", memberOnly: true, allowed: 200 },
  { name: "POST /me/mfa/totp/confirm", permission: "profile:self", method: "POST", path: () => "/me/mfa/totp/confirm", body: () => ({ code: "000000" }), memberOnly: true, allowed: 409 },
  { name: "DELETE /me/mfa/totp", permission: "profile:self", method: "DELETE", path: () => "/me/mfa/totp", body: () => ({ code: "000000" }), memberOnly: true, allowed: 409 },
  { name: "POST /auth/logout", permission: "profile:self", method: "POST", path: () => "/auth/logout", body: () => ({ refreshToken: "x".repeat(43) }), memberOnly: true, allowed: 204 },
  { name: "POST /auth/logout-all", permission: "profile:self", method: "POST", path: () => "/auth/logout-all", memberOnly: true, allowed: 204 },
];

function send(route: RouteCase, headers: Record<string, string>) {
  const body = route.body?.();
  return api(`/api/v1${route.path()}`, {
    method: route.method,
    headers: { "CF-Connecting-IP": uniqueIp(), ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Asserts the exact status; a problem answer must be problem+json, and name the field where the case says which. */
async function expectAnswer(response: Response, status: number, field?: string): Promise<void> {
  if (response.status !== status) {
    const text = await response.text();
    expect.fail(`expected ${status}, got ${response.status}: ${text.slice(0, 300)}`);
  }
  if (status >= 400) {
    const problem = await problemOf(response);
    expect(problem.status).toBe(status);
    if (field) expect((problem.errors as { path: string }[]).map((error) => error.path)).toContain(field);
  }
}

/** API keys the matrix runs as: every scope a key may hold, and a single one. */
const KEY_SCOPES: Record<string, Permission[]> = { "all-scopes key": API_KEY_SCOPES, "organization:read key": ["organization:read"] };

async function issueKey(tenant: Tenant, label: string): Promise<string> {
  const issued = await api("/api/v1/api-keys", jsonBody({ name: label, scopes: KEY_SCOPES[label] }, { ...tenant.members.owner.headers, "CF-Connecting-IP": uniqueIp() }));
  expect(issued.status).toBe(201);
  return ((await issued.json()) as { key: string }).key;
}

const realFetch = globalThis.fetch;
const allows = (role: Role, route: RouteCase) => route.permission === null || ROLE_PERMISSIONS[role].has(route.permission);

describe("role matrix", () => {
  beforeAll(() => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      return url.startsWith("https://api.resend.com/") ? new Response("{}", { status: 200 }) : realFetch(input, init);
    });
  });
  afterAll(() => vi.restoreAllMocks());

  for (const role of ROLES) {
    for (const route of ROUTES) {
      const allowed = allows(role, route);
      it(`${role} ${allowed ? `gets ${route.allowed} from` : "is refused (403)"} ${route.name}`, async () => {
        const tenant = await createTenant(`Matrix ${role}`);
        const response = await send(route, tenant.members[role].headers);
        if (allowed) await expectAnswer(response, route.allowed, route.field);
        else await expectAnswer(response, 403);
      });
    }
  }

  for (const [label, scopes] of Object.entries(KEY_SCOPES)) {
    for (const route of ROUTES.filter((candidate) => candidate.permission !== null)) {
      const allowed = !route.memberOnly && route.permission !== null && scopes.includes(route.permission);
      it(`an ${label} ${allowed ? `gets ${route.allowed} from` : "is refused (403)"} ${route.name}`, async () => {
        const tenant = await createTenant(`Matrix ${label}`);
        const response = await send(route, { "X-API-Key": await issueKey(tenant, label) });
        if (allowed) await expectAnswer(response, route.allowed, route.field);
        else await expectAnswer(response, 403);
      });
    }
  }

  for (const route of ROUTES.filter((candidate) => candidate.permission !== null)) {
    it(`${route.name} without credentials answers 401`, async () => {
      await expectAnswer(await send(route, {}), 401);
    });
  }
});
