import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "#src/app.ts";
import { firstRow, RowShapeError, rowsOf } from "#src/db/rows.ts";
import { ROLES } from "#src/db/schema/index.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import { BASE, testDb } from "./helpers.ts";

const SECRET = "Jane Doe, diagnosis: confidential";

const Member = z.object({
  id: z.string(),
  totp_enabled: z.boolean(),
  organizations: z.array(z.object({ id: z.string(), role: z.enum(ROLES) })),
});

/** The error a check throws, for its message and columns. */
function refusal(check: () => unknown): RowShapeError {
  try {
    check();
  } catch (error) {
    if (error instanceof RowShapeError) return error;
    throw error;
  }
  throw new Error("expected a RowShapeError");
}

describe("rowsOf and firstRow", () => {
  it("pass a row that matches, typed, and drop the columns the schema does not name", () => {
    const row = firstRow(Member, { rows: [{ id: "u1", totp_enabled: false, organizations: [{ id: "o1", role: "admin" }], audited: "1" }] });
    expect(row).toEqual({ id: "u1", totp_enabled: false, organizations: [{ id: "o1", role: "admin" }] });
  });

  it("refuse a column of the wrong type, naming it and never its value", () => {
    const error = refusal(() => firstRow(Member, { rows: [{ id: "u1", totp_enabled: SECRET, organizations: [] }] }));
    expect(error.columns).toEqual(["totp_enabled"]);
    expect(error.message).toBe("a database row did not match its schema: totp_enabled");
    expect(error.cause).toBeUndefined();
  });

  it("refuse a missing (renamed) column, naming it", () => {
    const error = refusal(() => firstRow(Member, { rows: [{ user_id: SECRET, totp_enabled: true, organizations: [] }] }));
    expect(error.columns).toEqual(["id"]);
    expect(error.message).not.toContain(SECRET);
  });

  it("name the path inside a json column, not the value found there", () => {
    const error = refusal(() => firstRow(Member, { rows: [{ id: "u1", totp_enabled: true, organizations: [{ id: "o1", role: SECRET }] }] }));
    expect(error.columns).toEqual(["organizations.0.role"]);
    expect(error.message).not.toContain(SECRET);
  });

  it("check every row, not just the first", () => {
    const good = { id: "u1", totp_enabled: true, organizations: [] };
    const error = refusal(() => rowsOf(Member, { rows: [good, { ...good, id: 7 }] }));
    expect(error.columns).toEqual(["id"]);
    expect(rowsOf(Member, { rows: [good, good] })).toHaveLength(2);
  });

  it("answer undefined, not an error, when the statement returned no row", () => {
    expect(firstRow(Member, { rows: [] })).toBeUndefined();
  });
});

describe("rows from the database driver", () => {
  const statement = sql`select count(*) as n, now() as at, true as flag, array['a', 'b']::text[] as tags,
    json_build_object('id', 'o1', 'role', 'owner') as organization, 7::int as status`;

  it("arrive with Postgres's wire types: bigint and timestamptz as strings, json as objects", async () => {
    const result = await testDb().execute(statement);
    const row = firstRow(
      z.object({
        n: z.string(),
        at: z.string(),
        flag: z.boolean(),
        tags: z.array(z.string()),
        organization: z.object({ id: z.string(), role: z.enum(ROLES) }),
        status: z.number().int(),
      }),
      result,
    );
    expect(row).toEqual({ n: "1", at: expect.any(String), flag: true, tags: ["a", "b"], organization: { id: "o1", role: "owner" }, status: 7 });
    expect(Number.isNaN(Date.parse(row?.at ?? ""))).toBe(false);
  });

  it("refuse a count typed as a number: the driver sends it as a string", async () => {
    const result = await testDb().execute(statement);
    expect(refusal(() => firstRow(z.object({ n: z.number() }), result)).columns).toEqual(["n"]);
  });
});

describe("a drifted row in a request", () => {
  afterEach(() => vi.restoreAllMocks());

  const app = createApp(cloudflarePlatform);
  app.get("/api/v1/probe/drifted-row", async (c) => {
    const result = await c.get("db").execute(sql`select ${SECRET}::text as name`);
    const row = firstRow(z.object({ name: z.number() }), result);
    return c.json({ name: row?.name }, 200);
  });

  async function request(overrides: Record<string, unknown> = {}) {
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request(`${BASE}/api/v1/probe/drifted-row`), { ...env, ...overrides }, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }

  it("answers 500 and reports the column name, never the value", async () => {
    const sent: string[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.includes("sentry.tend.test")) return realFetch(input, init);
      sent.push(String(init?.body ?? ""));
      return new Response("{}", { status: 200 });
    });
    const logged = [vi.spyOn(console, "log"), vi.spyOn(console, "error")];
    const response = await request({ SENTRY_DSN: "https://publickey@sentry.tend.test/42" });
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain("Jane");
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain("a database row did not match its schema: name");
    expect(sent[0]).not.toContain("Jane");
    const lines = JSON.stringify(logged.map((spy) => spy.mock.calls));
    expect(lines).toContain("RowShapeError");
    expect(lines).not.toContain("Jane");
  });
});
