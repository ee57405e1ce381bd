import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import { auditEvents } from "#src/db/schema/index.ts";
import { jobs } from "#src/jobs/registry.ts";
import { queueOfKind } from "#src/jobs/queues.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { ROUTE_MANIFEST } from "#src/routes.manifest.ts";
import { FEATURES, type FeatureName } from "#src/routes.ts";
import { insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Tenant, uniqueIp } from "./fixtures.ts";
import { apiWithEnv, problemOf, testDb } from "./helpers.ts";

/**
 * Features load with their first request (src/lib/lazy-routes.ts): the hostile-tester view. Every
 * feature's `load` is spied on before any request of this file's module graph, so a test can tell
 * a feature's first request from later ones, hold an import in flight, or fail it once. Order
 * matters: each test that says "first" is the first to reach that feature.
 */
type Load = () => Promise<unknown>;
const originals = Object.fromEntries(Object.entries(FEATURES).map(([name, feature]) => [name, feature.load])) as Record<FeatureName, Load>;
const loads = {} as Record<FeatureName, MockInstance<Load>>;
const call = (path: string, init: RequestInit = {}, overrides: Record<string, unknown> = {}) => apiWithEnv(overrides, path, init);
const times = <T>(n: number, make: (index: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, index) => make(index)));
const statuses = (responses: Response[]) => responses.map((response) => response.status);
const AUTH_LIMIT_OF_3 = { RATE_LIMIT_AUTH_PER_MINUTE: "3" };

let tenant: Tenant;
let other: Tenant;
let patientId: string;
let othersPatient: string;

beforeAll(async () => {
  for (const name of Object.keys(FEATURES) as FeatureName[]) loads[name] = vi.spyOn(FEATURES[name], "load") as unknown as MockInstance<Load>;
  [tenant, other] = await Promise.all([createTenant("Lazy Practice"), createTenant("Lazy Neighbour")]);
  [patientId, othersPatient] = await Promise.all([insertCaredPatient(tenant), insertPatient(other)]);
});

/**
 * Concurrent first requests each await their own import (the module evaluates once; no request
 * awaits another's import, src/lib/lazy-routes.ts): once built, the feature answers from what
 * it built, and one more request loads nothing.
 */
async function expectBuilt(feature: FeatureName, request: () => Promise<Response>): Promise<void> {
  const calls = loads[feature].mock.calls.length;
  expect(calls).toBeGreaterThan(0);
  await (await request()).arrayBuffer();
  expect(loads[feature].mock.calls.length).toBe(calls);
}

describe("admission before a feature loads", () => {
  it("makes an auth route's very first requests pay the per-IP auth policy, path variants in the same bucket", async () => {
    expect(loads.auth).not.toHaveBeenCalled();
    const ip = uniqueIp();
    const login = (path: string) => call(path, jsonBody({}, { "CF-Connecting-IP": ip }), AUTH_LIMIT_OF_3);
    const first = await times(3, (index) => login(["/api/v1/auth/login", "/api/v1/auth/login/", "/api/v1/auth/logi%6E"][index] ?? ""));
    expect(statuses(first)).toEqual([422, 422, 422]);
    for (const response of first) expect(response.headers.get("RateLimit-Policy")).toBe('"auth";q=3;w=60');
    const refused = await login("/api/v1/auth/login");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("RateLimit-Policy")).toBe('"auth";q=3;w=60');
    await expectBuilt("auth", () => login("/api/v1/auth/login"));
  });

  it("holds a concurrent first burst to invitations/accept and to MFA verify (with a valid token) to the auth limit", async () => {
    for (const [feature, path, headers] of [
      ["invitations", "/api/v1/invitations/accept", {}],
      ["mfa", "/api/v1/auth/mfa/verify", tenant.members.clinician.headers],
    ] as const) {
      expect(loads[feature]).not.toHaveBeenCalled();
      const ip = uniqueIp();
      const burst = await times(8, () => call(path, jsonBody({}, { ...headers, "CF-Connecting-IP": ip }), AUTH_LIMIT_OF_3));
      expect(statuses(burst).sort()).toEqual([422, 422, 422, 429, 429, 429, 429, 429]);
      for (const response of burst) expect(response.headers.get("RateLimit-Policy")).toBe('"auth";q=3;w=60');
      await expectBuilt(feature, () => call(path, jsonBody({}, { ...headers, "CF-Connecting-IP": ip }), AUTH_LIMIT_OF_3));
    }
  });

  it("answers 405 with Allow for a known path without loading its feature", async () => {
    const response = await call("/api/v1/reminders", { method: "PUT", headers: tenant.members.owner.headers });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
    expect((await problemOf(response)).status).toBe(405);
    expect(loads.reminders).not.toHaveBeenCalled();
  });
});

describe("a feature's first requests, 20 at once", () => {
  it("refuses them all alike: no credentials 401, a bad token 401, a key without the scope 403, a role without the permission 403", async () => {
    const issued = await call("/api/v1/api-keys", jsonBody({ name: "lazy", scopes: ["organization:read"] }, tenant.members.admin.headers));
    expect(issued.status).toBe(201);
    const { key } = (await issued.json()) as { key: string };
    const cases: [FeatureName, string, Record<string, string>, number][] = [
      ["patients", "/api/v1/patients", {}, 401],
      ["appointments", "/api/v1/appointments", { Authorization: "Bearer not.a.jwt" }, 401],
      ["notes", "/api/v1/notes/search?q=sleep", { "X-API-Key": key }, 403],
      ["dashboard", "/api/v1/dashboard", tenant.members.patient.headers, 403],
    ];
    await Promise.all(
      cases.map(async ([feature, path, headers, status]) => {
        expect(loads[feature]).not.toHaveBeenCalled();
        const answers = await times(20, () => call(path, { headers }));
        expect(statuses(answers)).toEqual(Array(20).fill(status));
        for (const answer of answers) expect((await problemOf(answer)).status).toBe(status);
      }),
    );
    // A bad token is refused by authentication, before the route: its feature need not load.
    expect(loads.appointments).not.toHaveBeenCalled();
    for (const [feature, path, headers] of cases.filter(([name]) => name !== "appointments")) await expectBuilt(feature, () => call(path, { headers }));
    expect((await call("/api/v1/patients", { headers: tenant.members.owner.headers })).status).toBe(200);
  });

  it("answers a first HEAD on a GET route like the GET, without a body", async () => {
    expect(loads.devices).not.toHaveBeenCalled();
    const head = await call("/api/v1/me/devices", { method: "HEAD", headers: tenant.members.owner.headers });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect((await call("/api/v1/me/devices", { method: "HEAD" })).status).toBe(401);
  });

  it("lets admission's refusal win over a side-effect-free read run beside it on its feature's first load", async () => {
    const fresh = await createTenant("Lazy Readers");
    expect([loads.preferences, loads.me].map((load) => load.mock.calls.length)).toEqual([0, 0]);
    const reads = await times(3, () => call("/api/v1/me/preferences", { headers: fresh.members.staff.headers }, { RATE_LIMIT_READS_PER_MINUTE: "1" }));
    expect(statuses(reads).sort()).toEqual([200, 429, 429]);
    for (const refused of reads.filter((response) => response.status === 429)) expect((await problemOf(refused)).status).toBe(429);
    expect((await call("/api/v1/auth/logout-all", { method: "POST", headers: fresh.members.owner.headers })).status).toBe(204);
    const revoked = await call("/api/v1/me", { headers: fresh.members.owner.headers });
    expect(revoked.status).toBe(401);
    expect(await revoked.text()).not.toContain(fresh.members.owner.email);
  });

  it("answers every request that arrives while the import is in flight once it lands, each correctly", async () => {
    const gate: { open?: () => void } = {};
    const opened = new Promise<void>((resolve) => (gate.open = resolve));
    loads.alerts.mockImplementationOnce(async () => {
      await opened;
      return originals.alerts();
    });
    const owner = { headers: tenant.members.owner.headers };
    const pending = Promise.all([
      call("/api/v1/alerts", owner),
      call("/api/v1/alerts"),
      call("/api/v1/alerts", { headers: tenant.members.staff.headers }),
      call("/api/v1/alerts/not-a-uuid", owner),
      call(`/api/v1/alerts/${uuidv7()}`, owner),
      call("/api/v1/alerts", jsonBody({ patientId, severity: "low", message: "Fell, fine", extra: 1 }, tenant.members.owner.headers)),
    ]);
    await vi.waitFor(() => expect(loads.alerts).toHaveBeenCalled());
    gate.open?.();
    expect(statuses(await pending)).toEqual([200, 401, 403, 422, 404, 422]);
    await expectBuilt("alerts", () => call("/api/v1/alerts", owner));
  });

  it("answers a failed import with a plain 500 problem, and imports again on the next request", async () => {
    loads.schedules.mockImplementationOnce(() => Promise.reject(new Error("chunk schedules-x1.js: Jane Doe")));
    const path = `/api/v1/patients/${patientId}/schedules`;
    const failed = await call(path, { headers: tenant.members.owner.headers });
    expect(failed.status).toBe(500);
    const problem = await problemOf(failed);
    expect(JSON.stringify(problem)).not.toMatch(/chunk|Jane/);
    expect((await call(path, { headers: tenant.members.owner.headers })).status).toBe(200);
    expect(loads.schedules).toHaveBeenCalledTimes(2);
  });
});

describe("path parameters in the lazily run chain", () => {
  it("reads each param of the route: another organization's patient is 404, a malformed one 422 naming it", async () => {
    const owner = { headers: tenant.members.owner.headers };
    const expectations: [string, string, number, string?][] = [
      ["GET", `/api/v1/patients/${othersPatient}`, 404],
      ["GET", `/api/v1/patients/${patientId.toUpperCase()}`, 200],
      ["GET", "/api/v1/patients/not-a-uuid", 422, "path.id"],
      ["DELETE", `/api/v1/patients/${patientId}/care-team/nobody`, 422, "path.userId"],
      ["DELETE", `/api/v1/patients/nobody/care-team/${tenant.members.clinician.id}`, 422, "path.id"],
      ["GET", "/api/v1/clinicians/nobody/working-hours", 422, "path.id"],
      ["GET", "/api/v1/notes/search", 422, "query.q"],
      ["GET", "/api/v1/notes/not-a-uuid", 422, "path.id"],
    ];
    for (const [method, path, status, field] of expectations) {
      const response = await call(path, { ...owner, method });
      expect([method, path, response.status]).toEqual([method, path, status]);
      if (field) expect(((await problemOf(response)).errors as { path: string }[]).map((error) => error.path)).toEqual([field]);
    }
  });

  it("audits a refused patient-data read under the route's pattern", async () => {
    const refused = await call(`/api/v1/patients/${patientId}/notes`, { headers: tenant.members.caregiver.headers });
    expect(refused.status).toBe(403);
    const rows = await testDb()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.organizationId, tenant.organizationId), eq(auditEvents.action, "access.denied"), eq(auditEvents.targetId, "listPatientNotes")));
    expect(rows.map((row) => [row.targetId, row.metadata])).toEqual([["listPatientNotes", { method: "GET", path: "/api/v1/patients/:id/notes" }]]);
  });
});

describe("paths that bend the manifest", () => {
  it("routes only what the router routes, behind authentication, with problem+json for the rest", async () => {
    const h = tenant.members.owner.headers;
    const cases: [string, string, Record<string, string>, number, string?][] = [
      ["GET", "/api/v1/patients/", h, 200],
      ["GET", "/api/v1/patients/", {}, 401],
      ["GET", "/api/v1/%70atients", h, 200],
      ["GET", "/api/v1/%70atients", {}, 401],
      ["GET", "/api/v1//patients", h, 404],
      ["GET", "//api/v1/patients", h, 404],
      ["GET", "/api/v1/patients%2F", h, 404],
      ["GET", "/api/v1/Patients", h, 404],
      ["GET", "/API/v1/patients", h, 404],
      ["GET", "/api/v1/patientsX", h, 404],
      ["GET", "/api/v1/patients/%2e%2e", h, 404],
      ["GET", "/api/v1/patients/abc%2Fdef", h, 422],
      ["GET", "/api/v1/patients/%ZZ", h, 422],
      ["GET", `/api/v1/patients/${patientId}/care-team/${patientId}/extra`, h, 404],
      ["GET", `/api/v1/patients/${patientId}/care-team/${patientId}`, h, 405, "DELETE"],
      ["PUT", "/api/v1/patients", h, 405, "GET, HEAD, POST"],
      ["PROPFIND", "/api/v1/patients", h, 405, "GET, HEAD, POST"],
      ["HEAD", "/api/v1/auth/login", {}, 405, "POST"],
      // Found by this review (src/lib/allowed-methods.ts, fixed): a path the router does not route
      // (a second trailing slash) is a 404, not a 405 whose Allow lists the very method sent.
      ["GET", "/api/v1/patients//", h, 404],
      ["POST", "/api/v1/auth/login//", {}, 404],
    ];
    const seen: unknown[] = [];
    for (const [method, path, headers, status] of cases) {
      const response = await call(path, { method, headers });
      const problem = response.status >= 400 && method !== "HEAD" ? (await problemOf(response)).status : undefined;
      seen.push([method, path, response.status, response.headers.get("Allow") ?? undefined]);
      if (problem !== undefined) expect(problem).toBe(response.status);
      expect(status < 500 && response.status < 500).toBe(true);
    }
    expect(seen).toEqual(cases.map(([method, path, , status, allow]) => [method, path, status, allow]));
  });
});

describe("errors and Idempotency-Key through the lazily run chain", () => {
  it("keeps 400, 422 with field paths, 409 and the Idempotency-Key replay", async () => {
    const h = tenant.members.owner.headers;
    const malformed = await call("/api/v1/patients", { method: "POST", headers: { ...h, "Content-Type": "application/json" }, body: "{" });
    expect(malformed.status).toBe(400);
    const invalid = await call("/api/v1/patients", jsonBody({ name: "", nope: 1 }, h));
    expect(invalid.status).toBe(422);
    expect(((await problemOf(invalid)).errors as { path: string }[]).map((error) => error.path).sort()).toEqual(["body.name", "body.nope"]);

    const key = crypto.randomUUID();
    const create = (name: string) => call("/api/v1/patients", jsonBody({ name }, { ...h, "Idempotency-Key": key }));
    const first = await create("Ada Lazy");
    const again = await create("Ada Lazy");
    expect([first.status, again.status, again.headers.get("Idempotent-Replayed")]).toEqual([201, 201, "true"]);
    expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    const reused = await create("Someone Else");
    expect(reused.status).toBe(422);
    expect((await problemOf(reused)).type).toMatch(/idempotency-key-reused$/);

    const alert = await call("/api/v1/alerts", jsonBody({ patientId, severity: "low", message: "Fell, says she is fine" }, h));
    expect(alert.status).toBe(201);
    const { id } = (await alert.json()) as { id: string };
    expect((await call(`/api/v1/alerts/${id}/resolve`, { method: "POST", headers: h })).status).toBe(200);
    const conflict = await call(`/api/v1/alerts/${id}/resolve`, { method: "POST", headers: h });
    expect(conflict.status).toBe(409);
    expect((await problemOf(conflict)).currentStatus).toBe("resolved");
  });
});

describe("what loads with everything", () => {
  it("documents every manifest route and nothing else, and /docs still serves", async () => {
    const response = await call("/api/v1/openapi.json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    const manifest = ROUTE_MANIFEST.map(([, method, path]) => `${method} ${path.replace(/:(\w+)/g, "{$1}")}`);
    expect(documented.sort()).toEqual([...manifest].sort());
    const docs = await call("/docs");
    expect(docs.status).toBe(200);
    expect(docs.headers.get("Content-Type")).toMatch(/^text\/html/);
  });

  it("sends every job kind to the queue its definition names", () => {
    for (const [kind, definition] of jobs) expect([kind, queueOfKind(kind)]).toEqual([kind, definition.queue]);
  });
});
