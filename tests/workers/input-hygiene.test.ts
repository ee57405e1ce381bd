import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { problemForDbError } from "#src/db/errors.ts";
import { createTenant, jsonBody, PASSWORD, type Tenant, uniqueEmail, uniqueIp, patch } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

describe("text input hygiene", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Hygiene Practice");
  });

  it("refuses a NUL byte in the organization name with a 422 naming the field, and changes nothing", async () => {
    const response = await api("/api/v1/organization", patch({ name: "Clinic\u0000X" }, tenant.members.owner.headers));
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: "body.name" }));
    const organization = (await (await api("/api/v1/organization", { headers: tenant.members.owner.headers })).json()) as { name: string };
    expect(organization.name).toBe("Hygiene Practice");
  });

  it.each([
    ["a control character", "Clinic\u0007X"],
    ["a lone high surrogate", "Clinic\uD800X"],
    ["a lone low surrogate", "Clinic\uDC00X"],
    ["a newline in a single-line field", "Clinic\nX"],
  ])("refuses %s in a name", async (_label, name) => {
    const response = await api("/api/v1/organization", patch({ name }, tenant.members.owner.headers));
    expect(response.status).toBe(422);
    expect((await problemOf(response)).errors).toContainEqual(expect.objectContaining({ path: "body.name" }));
  });

  it("keeps names with real non-ASCII text, emoji included", async () => {
    const response = await api("/api/v1/organization", patch({ name: "Zürich Praxis 🌿" }, tenant.members.owner.headers));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { name: string }).name).toBe("Zürich Praxis 🌿");
  });

  it("answers a body of 85,000 unknown keys with a bounded 422, not one larger than the request", async () => {
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 85_000 }, (_, i) => [i.toString(16), 0])));
    const response = await api("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": uniqueIp() }, body });
    expect(response.status).toBe(422);
    const text = await response.text();
    expect(text.length).toBeLessThan(10_000);
    const problem = JSON.parse(text) as { errors: unknown[]; detail: string };
    expect(problem.errors.length).toBeLessThanOrEqual(20);
    expect(problem.detail.length).toBeGreaterThan(0);
  });

  it("refuses NUL in signup fields before any sign-in", async () => {
    const response = await api(
      "/api/v1/auth/signup",
      jsonBody({ organizationName: "Bad\u0000Org", name: "Ada\u0000", email: uniqueEmail("nul") }, { "CF-Connecting-IP": uniqueIp() }),
    );
    expect(response.status).toBe(422);
    const paths = ((await problemOf(response)).errors as { path: string }[]).map((error) => error.path);
    expect(paths).toEqual(expect.arrayContaining(["body.organizationName", "body.name"]));
  });

  it("refuses NUL in an API key name and in an invitation's accept fields", async () => {
    const key = await api("/api/v1/api-keys", jsonBody({ name: "key\u0000", scopes: ["organization:read"] }, tenant.members.owner.headers));
    expect(key.status).toBe(422);
    expect((await problemOf(key)).errors).toContainEqual(expect.objectContaining({ path: "body.name" }));
    const accept = await api(
      "/api/v1/invitations/accept",
      jsonBody({ token: "x".repeat(20) + "\u0000", name: "Grace\u0000", password: PASSWORD }, { "CF-Connecting-IP": uniqueIp() }),
    );
    expect(accept.status).toBe(422);
    const paths = ((await problemOf(accept)).errors as { path: string }[]).map((error) => error.path);
    expect(paths).toEqual(expect.arrayContaining(["body.token", "body.name"]));
  });

  it("maps the database's refusal of malformed input to a 422, not a 500 (the safety net)", async () => {
    const failure = await testDb()
      .execute(sql`select ${"a\u0000b"}::text`)
      .then(() => undefined, (error: unknown) => error);
    const problem = problemForDbError(failure);
    expect(problem?.status).toBe(422);
    const tooLong = await testDb()
      .execute(sql`select ${"not-a-number"}::integer`)
      .then(() => undefined, (error: unknown) => error);
    expect(problemForDbError(tooLong)?.status).toBe(422);
  });
});

describe("credentials and routing", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Routing Practice");
  });

  it("refuses a request that carries both a bearer token and an API key with a 400", async () => {
    const response = await api("/api/v1/me", { headers: { ...tenant.members.owner.headers, "X-API-Key": "tend_anything" } });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toMatch(/not both/);
  });

  it("routes a trailing slash like no slash", async () => {
    const response = await api("/api/v1/me/", { headers: tenant.members.owner.headers });
    expect(response.status).toBe(200);
  });

  it("uses the right article in role messages", async () => {
    const response = await api("/api/v1/invitations", jsonBody({ email: uniqueEmail("inv"), role: "owner" }, tenant.members.admin.headers));
    expect(response.status).toBe(403);
    expect((await problemOf(response)).detail).toBe("An admin cannot invite an owner.");
  });
});

describe("routes that take no body", () => {
  it("refuse a body with fields (422 naming the body), and take none or {}", async () => {
    const tenant = await createTenant("No Body Practice");
    const { clinician } = tenant.members;
    const patient = await api("/api/v1/patients", jsonBody({ name: "Body Less" }, clinician.headers));
    expect(patient.status).toBe(201);
    const patientId = ((await patient.json()) as { id: string }).id;
    const note = await api(`/api/v1/patients/${patientId}/notes`, jsonBody({ format: "free", content: { text: "Quiet session." } }, clinician.headers));
    const noteId = ((await note.json()) as { id: string }).id;

    const refused = await api(`/api/v1/notes/${noteId}/sign`, jsonBody({ signature: "anything" }, clinician.headers));
    expect(refused.status).toBe(422);
    expect((await problemOf(refused)).errors).toEqual([{ path: "body", message: "this operation takes no body: send none, or {}" }]);
    const draft = (await (await api(`/api/v1/notes/${noteId}`, { headers: clinician.headers })).json()) as { status: string };
    expect(draft.status).toBe("draft");

    expect((await api(`/api/v1/notes/${noteId}/sign`, jsonBody({}, clinician.headers))).status).toBe(200);
    expect((await api("/api/v1/auth/logout-all", { method: "POST", headers: clinician.headers })).status).toBe(204);
  });
});
