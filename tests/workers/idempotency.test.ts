import { eq, sql } from "drizzle-orm";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { idempotencyKeys, invitations } from "#src/db/schema/index.ts";
import { sweep } from "#src/jobs/maintenance.ts";
import { createTenant, jsonBody, PASSWORD, type Tenant, uniqueEmail, uniqueIp } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";
import { captureMail, mailedTokens, type SentMail } from "./mail.ts";
import { confirmSignup, requestSignup } from "./signup.ts";

const newKey = () => crypto.randomUUID();

const withKey = (key: string, headers: Record<string, string>) => ({ ...headers, "Idempotency-Key": key });

const invite = (headers: Record<string, string>, key: string, body: unknown) =>
  api("/api/v1/invitations", jsonBody(body, withKey(key, headers)));

async function invitationsTo(email: string) {
  return testDb().select().from(invitations).where(eq(invitations.email, email));
}

async function storedRows(key: string) {
  return testDb().select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key));
}

describe("Idempotency-Key on creates", () => {
  let tenant: Tenant;
  let mails: SentMail[] = [];
  beforeAll(async () => {
    tenant = await createTenant("Idempotency Practice");
  });
  beforeEach(() => {
    mails = captureMail();
  });
  afterEach(() => vi.restoreAllMocks());

  it("replays the first response to a retry, without inviting twice", async () => {
    const key = newKey();
    const email = uniqueEmail("retry");
    const first = await invite(tenant.members.admin.headers, key, { email, role: "clinician" });
    const second = await invite(tenant.members.admin.headers, key, { email, role: "clinician" });

    expect(first.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(second.headers.get("Content-Type")).toBe(first.headers.get("Content-Type"));
    expect(await second.json()).toEqual(await first.json());
    expect(await invitationsTo(email)).toHaveLength(1);
    expect(mails.filter((mail) => mail.to.includes(email))).toHaveLength(1);
  });

  it("passes through without the header: two requests, two invitations", async () => {
    const email = uniqueEmail("plain");
    for (let i = 0; i < 2; i++) {
      const response = await api("/api/v1/invitations", jsonBody({ email, role: "staff" }, tenant.members.admin.headers));
      expect(response.status).toBe(201);
    }
    expect(await invitationsTo(email)).toHaveLength(2);
  });

  it("refuses the same key with a different body with 422, and creates nothing", async () => {
    const key = newKey();
    const first = uniqueEmail("first");
    const other = uniqueEmail("other");
    expect((await invite(tenant.members.admin.headers, key, { email: first, role: "clinician" })).status).toBe(201);
    const response = await invite(tenant.members.admin.headers, key, { email: other, role: "clinician" });

    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.detail).toBe("Idempotency-Key was used with a different request.");
    expect(problem.errors).toEqual([{ path: "header.Idempotency-Key", message: "was used with a different request" }]);
    expect(await invitationsTo(other)).toHaveLength(0);
  });

  it("runs exactly one of two concurrent requests with the same key", async () => {
    const key = newKey();
    const email = uniqueEmail("race");
    const responses = await Promise.all(
      [0, 1].map(() => invite(tenant.members.admin.headers, key, { email, role: "caregiver" })),
    );
    const ran = responses.filter((response) => response.status === 201 && !response.headers.has("Idempotent-Replayed"));
    const others = responses.filter((response) => !ran.includes(response));

    expect(ran).toHaveLength(1);
    for (const response of others) {
      expect(response.status === 409 || response.headers.get("Idempotent-Replayed") === "true").toBe(true);
      if (response.status === 409) expect(response.headers.get("Retry-After")).toBe("1");
    }
    expect(await invitationsTo(email)).toHaveLength(1);
    expect(mails.filter((mail) => mail.to.includes(email))).toHaveLength(1);
  });

  it("answers 409 with Retry-After while the first request runs, and lets a retry take over an abandoned claim", async () => {
    const key = newKey();
    const email = uniqueEmail("held");
    const body = { email, role: "staff" };
    expect((await invite(tenant.members.admin.headers, key, body)).status).toBe(201);
    const db = testDb();
    await db.update(idempotencyKeys).set({ status: null, response: null }).where(eq(idempotencyKeys.key, key));

    const busy = await invite(tenant.members.admin.headers, key, body);
    expect(busy.status).toBe(409);
    expect(busy.headers.get("Retry-After")).toBe("1");
    await problemOf(busy);

    await db.update(idempotencyKeys).set({ createdAt: sql`now() - interval '2 minutes'` }).where(eq(idempotencyKeys.key, key));
    const retried = await invite(tenant.members.admin.headers, key, body);
    expect(retried.status).toBe(201);
    expect(retried.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("replays a refusal too: the handler does not run again", async () => {
    const key = newKey();
    const email = uniqueEmail("owner");
    const first = await invite(tenant.members.admin.headers, key, { email, role: "owner" });
    const second = await invite(tenant.members.admin.headers, key, { email, role: "owner" });

    expect(first.status).toBe(403);
    expect(second.status).toBe(403);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(second.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    expect(await invitationsTo(email)).toHaveLength(0);
  });

  it("keeps keys per caller: another member's same key is not a replay", async () => {
    const key = newKey();
    const email = uniqueEmail("scoped");
    const byAdmin = await invite(tenant.members.admin.headers, key, { email, role: "clinician" });
    const byOwner = await invite(tenant.members.owner.headers, key, { email, role: "clinician" });

    expect(byAdmin.status).toBe(201);
    expect(byOwner.status).toBe(201);
    expect(byOwner.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await invitationsTo(email)).toHaveLength(2);
    expect((await storedRows(key)).map((row) => row.scope).sort()).toEqual(
      [`user:${tenant.members.admin.id}:${tenant.organizationId}`, `user:${tenant.members.owner.id}:${tenant.organizationId}`].sort(),
    );
  });

  it.each([
    ["has a space", "not a key"],
    ["is too long", "k".repeat(256)],
    ["is empty", ""],
  ])("refuses a header that %s with 422, and creates nothing", async (_label, key) => {
    const email = uniqueEmail("badkey");
    const response = await invite(tenant.members.admin.headers, key, { email, role: "clinician" });

    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.errors).toEqual([expect.objectContaining({ path: "header.Idempotency-Key" })]);
    expect(await invitationsTo(email)).toHaveLength(0);
  });

  it("checks permission before the key: a forbidden caller claims nothing", async () => {
    const key = newKey();
    const response = await invite(tenant.members.patient.headers, key, { email: uniqueEmail("nope"), role: "staff" });
    expect(response.status).toBe(403);
    expect(await storedRows(key)).toHaveLength(0);
  });

  it("replays a sign-up confirmation as the same user, not a 409 for a registered email", async () => {
    const key = newKey();
    const email = uniqueEmail("signup");
    expect((await requestSignup(email, { organizationName: "Idem Clinic", name: "Ida" })).status).toBe(202);
    const [token] = await mailedTokens(mails, email, "/signup/confirm");
    const signup = () => confirmSignup(token ?? "", { "Idempotency-Key": key });
    const first = await signup();
    const second = await signup();

    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    const created = (await first.json()) as { user: { id: string }; tokens: { accessToken: string; refreshToken: string } };
    expect(await second.json()).toEqual(created);
    const [row] = await storedRows(key);
    expect(row?.scope).toMatch(/^anon:/);
    // Keyed by the idempotency key derived from the current pepper, named by that key's id.
    expect(row?.requestHash).toMatch(/^i1\.p1:[0-9a-f]{64}$/);
    expect(row?.scope).toBe(`anon:${row?.requestHash}`);
    expect(row?.response).not.toContain(created.tokens.refreshToken);
    expect(row?.response).not.toContain(created.tokens.accessToken);
    expect(row?.requestHash).not.toContain(token);
  });

  it("never lets two anonymous callers collide on one key: different signups under the same key both run", async () => {
    const key = "0193b0c4-5f7e-7c1a-9d2e-4b8f6a1c2d3e";
    const signup = (label: string) =>
      api(
        "/api/v1/auth/signup",
        jsonBody({ organizationName: `${label} Clinic`, name: label, email: uniqueEmail(label) }, { "CF-Connecting-IP": uniqueIp(), "Idempotency-Key": key }),
      );
    const first = await signup("alice");
    const second = await signup("bob");
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("hands out no fixed example key in the document", async () => {
    const document = (await (await api("/api/v1/openapi.json")).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; example?: unknown; schema?: { example?: unknown } }[] }>> };
    const header = document.paths["/api/v1/auth/signup"]?.post?.parameters?.find((parameter) => parameter.name === "Idempotency-Key");
    expect(header).toBeDefined();
    expect(header?.example ?? header?.schema?.example).toBeUndefined();
  });

  it("stores an issued API key's response sealed, never the secret in clear, and replays it", async () => {
    const key = newKey();
    const body = { name: "Idempotent sync", scopes: ["organization:read"] };
    const create = () => api("/api/v1/api-keys", jsonBody(body, withKey(key, tenant.members.admin.headers)));
    const first = await create();
    const second = await create();

    expect(first.status).toBe(201);
    const issued = (await first.json()) as { id: string; key: string };
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(second.headers.get("Cache-Control")).toBe("no-store");
    expect(await second.json()).toEqual(issued);
    const [row] = await storedRows(key);
    expect(row?.status).toBe(201);
    expect(row?.response).toMatch(/^v1\./);
    expect(row?.response).not.toContain(issued.key);
    expect(row?.response).not.toContain(issued.id);
  });

  it("replays a rotation, so a lost response does not lose the new secret", async () => {
    const issued = await api("/api/v1/api-keys", jsonBody({ name: "To rotate", scopes: ["organization:read"] }, tenant.members.admin.headers));
    const { id } = (await issued.json()) as { id: string };
    const key = newKey();
    const rotate = () => api(`/api/v1/api-keys/${id}/rotate`, { method: "POST", headers: withKey(key, tenant.members.admin.headers) });
    const first = await rotate();
    const second = await rotate();
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    const rotated = (await first.json()) as { key: string };
    expect(((await second.json()) as { key: string }).key).toBe(rotated.key);
    const works = await api("/api/v1/organization", { headers: { "X-API-Key": rotated.key } });
    expect(works.status).toBe(200);
  });

  it("replays an invitation acceptance instead of answering 409 to the retry", async () => {
    const email = uniqueEmail("accept-retry");
    expect((await invite(tenant.members.admin.headers, newKey(), { email, role: "staff" })).status).toBe(201);
    const token = /token=([A-Za-z0-9_%-]+)/.exec(mails.find((mail) => mail.to.includes(email))?.text ?? "")?.[1] ?? "";
    const key = newKey();
    const accept = () =>
      api("/api/v1/invitations/accept", jsonBody({ token: decodeURIComponent(token), name: "Retry", password: PASSWORD }, { "Idempotency-Key": key, "CF-Connecting-IP": uniqueIp() }));
    const first = await accept();
    const second = await accept();
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await second.json()).toEqual(await first.json());
    const plainRetry = await api("/api/v1/invitations/accept", jsonBody({ token: decodeURIComponent(token), name: "Retry", password: PASSWORD }, { "CF-Connecting-IP": uniqueIp() }));
    expect(plainRetry.status).toBe(409);
  });

  it("treats an expired key as new", async () => {
    const key = newKey();
    const db = testDb();
    expect((await invite(tenant.members.admin.headers, key, { email: uniqueEmail("old"), role: "staff" })).status).toBe(201);
    await db.update(idempotencyKeys).set({ expiresAt: sql`now() - interval '1 minute'` }).where(eq(idempotencyKeys.key, key));

    const email = uniqueEmail("new");
    const response = await invite(tenant.members.admin.headers, key, { email, role: "staff" });
    expect(response.status).toBe(201);
    expect(response.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await invitationsTo(email)).toHaveLength(1);
  });

  it("is swept by the maintenance job once expired, and kept before", async () => {
    const expired = newKey();
    const live = newKey();
    for (const key of [expired, live]) {
      expect((await invite(tenant.members.admin.headers, key, { email: uniqueEmail("sweep"), role: "staff" })).status).toBe(201);
    }
    const db = testDb();
    await db.update(idempotencyKeys).set({ expiresAt: sql`now() - interval '1 minute'` }).where(eq(idempotencyKeys.key, expired));

    await sweep(db, new Date());
    const left = await db
      .select({ key: idempotencyKeys.key })
      .from(idempotencyKeys)
      .where(eq(idempotencyKeys.scope, `user:${tenant.members.admin.id}:${tenant.organizationId}`));
    expect(left.map((row) => row.key)).toContain(live);
    expect(left.map((row) => row.key)).not.toContain(expired);
  });
});

describe("the OpenAPI document", () => {
  it("declares the optional Idempotency-Key header and the 409 and 422 it can cause on every create", async () => {
    const document = (await (await api("/api/v1/openapi.json")).json()) as {
      paths: Record<string, { post: { parameters?: { name: string; in: string; required?: boolean }[]; responses: Record<string, unknown> } }>;
    };
    for (const path of ["/api/v1/auth/signup", "/api/v1/invitations", "/api/v1/api-keys", "/api/v1/api-keys/{id}/rotate", "/api/v1/invitations/accept"]) {
      const operation = document.paths[path]?.post;
      expect(operation?.parameters).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false }));
      expect(Object.keys(operation?.responses ?? {})).toEqual(expect.arrayContaining(["409", "422"]));
    }
  });
});
