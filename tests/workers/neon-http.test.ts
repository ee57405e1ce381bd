import { env } from "cloudflare:test";
import { NeonDbError as DriverError, neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import { describe, expect, it } from "vitest";
import { problemForDbError } from "#src/db/errors.ts";
import { NeonDbError } from "#src/db/neon-errors.ts";
import { createHttpClient, HttpQuery, resolveTarget } from "#src/db/neon-http.ts";
import { serializeParam } from "#src/db/pg-text.ts";
import type { HttpClientConfig } from "#src/db/neon-http.ts";

/**
 * src/db/neon-http.ts against @neondatabase/serverless itself: the same statements through the
 * same gateway, and the answers must match. The driver is set up as drizzle-orm/neon-http sets it
 * up (its type overrides), since that is what the Worker used before.
 */
const url = env.DATABASE_URL;
const endpoint = env.DATABASE_HTTP_ENDPOINT;
neonConfig.fetchEndpoint = endpoint;
const driver = neon(url, { fullResults: true });
drizzle({ client: driver });

function ours(overrides: Partial<HttpClientConfig> = {}) {
  let roundTrips = 0;
  const client = createHttpClient({ connectionString: url, endpoint, timeoutMs: 8000, onRoundTrip: () => roundTrips++, ...overrides });
  return { client, roundTrips: () => roundTrips };
}

const RESULT_KEYS = ["fields", "rows", "rowCount", "command", "rowAsArray", "viaNeonFetch"] as const;

function comparable(result: unknown): Record<string, unknown> {
  const record = result as Record<string, unknown>;
  return Object.fromEntries(RESULT_KEYS.map((key) => [key, bytesAsArrays(record[key])]));
}

/** The driver's bytea values are its own Buffer class; ours are plain Uint8Arrays. */
function bytesAsArrays(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  if (Array.isArray(value)) return value.map(bytesAsArrays);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, bytesAsArrays(item)]));
  return value;
}

async function rejection(promise: PromiseLike<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error("expected a rejection");
}

const ERROR_KEYS = ["name", "message", "severity", "code", "detail", "hint", "position", "where", "schema", "table", "column", "constraint", "routine"];
const errorShape = (error: Record<string, unknown>) => Object.fromEntries(ERROR_KEYS.map((key) => [key, error[key]]));

const TYPES_SQL = String.raw`select true as b, false as f, 32767::int2 as i2, 2147483647::int4 as i4,
  9007199254740993::int8 as i8, 1.5::float4 as f4, 0.1::float8 as f8, 'NaN'::float8 as fnan, 12.30::numeric as n,
  'x'::text as t, 'v'::varchar as vc, '{"a":[1,null,"é"]}'::json as j, '{"b":true}'::jsonb as jb, '"123"'::jsonb as jstr,
  '2026-01-02 03:04:05.123456+00'::timestamptz as tz, '2026-01-02 03:04:05'::timestamp as ts, '2026-01-02'::date as d,
  '1 day 02:03:04'::interval as iv, '019a0000-0000-7000-8000-000000000001'::uuid as u, '\x00ff10'::bytea as by,
  array['a', 'b,c', 'd"e', 'f\g', null, '', 'NULL', ' sp ']::text[] as ta, array[1, null, 3]::int4[] as ia,
  array[9007199254740993, null]::int8[] as i8a, array[true, false, null]::bool[] as ba,
  array['{"x":1}'::jsonb, null] as ja, array[[1, 2], [3, 4]]::int4[] as nested, array[1.5, 2]::numeric[] as na,
  array['2026-01-02T00:00:00Z'::timestamptz] as tza, array['2026-01-02'::date] as da,
  array['019a0000-0000-7000-8000-000000000001'::uuid] as ua, array[1.25]::float8[] as fa, '{}'::text[] as empty,
  array['\x01'::bytea] as bya, null::int4 as nul, null::text[] as nula, 1 as dup, 2 as dup`;

describe("type parsing, as the driver parses", () => {
  it("matches every column type, in object rows and positional rows", async () => {
    const { client } = ours();
    for (const arrayMode of [false, true]) {
      const mine = await client.query(TYPES_SQL, [], { arrayMode, fullResults: true });
      const theirs = await driver.query(TYPES_SQL, [], { arrayMode, fullResults: true });
      expect(comparable(mine)).toEqual(comparable(theirs));
    }
  });

  it("gives the values drizzle's columns expect", async () => {
    const { client } = ours();
    const rows = (await client.query(TYPES_SQL)) as Record<string, unknown>[];
    expect(rows[0]).toMatchObject({
      b: true,
      f: false,
      i4: 2147483647,
      i8: "9007199254740993",
      f8: 0.1,
      n: "12.30",
      jb: { b: true },
      jstr: "123",
      tz: "2026-01-02 03:04:05.123456+00",
      d: "2026-01-02",
      ta: ["a", "b,c", 'd"e', "f\\g", null, "", "NULL", " sp "],
      ia: [1, null, 3],
      i8a: ["9007199254740993", null],
      nested: [
        [1, 2],
        [3, 4],
      ],
      na: "{1.5,2}",
      tza: '{"2026-01-02 00:00:00+00"}',
      nul: null,
      nula: null,
      dup: 2,
    });
    expect(rows[0]?.by).toEqual(Uint8Array.from([0, 255, 16]));
  });

  it("answers rows alone unless full results are asked for", async () => {
    const { client } = ours();
    expect(await client.query("select 1 as one")).toEqual([{ one: 1 }]);
    expect(await client("select 1 as one", [], { arrayMode: true })).toEqual([[1]]);
  });
});

describe("parameters, serialized as the driver serializes them", () => {
  const values: [string, unknown][] = [
    ["a string", "héllo"],
    ["a number", 1.5],
    ["a bigint", 9007199254740993n],
    ["true", true],
    ["false", false],
    ["null", null],
    ["undefined", undefined],
    ["a Date", new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6))],
    ["an object", { a: [1, "two"], b: null }],
    ["an array with quotes, commas, backslashes and NULL", ["a", 'b"c', "d,e", "f\\g", null, undefined, 3, true]],
    ["a nested array", [[1, 2], ["x", null]]],
    ["an array of objects", [{ a: 1 }]],
    ["bytes", Uint8Array.from([0, 1, 254, 255])],
    ["a value with toPostgres", { toPostgres: () => "custom" }],
  ];

  for (const [name, value] of values) {
    it(`sends ${name} as the driver does`, async () => {
      const { client } = ours();
      const statement = "select $1::text as v";
      const mine = (await client.query(statement, [value])) as { v: unknown }[];
      const theirs = (await driver.query(statement, [value])).rows;
      expect(mine).toEqual(theirs);
    });
  }

  it("sends bytes as bytea hex", () => {
    expect(serializeParam(Uint8Array.from([0, 171]))).toBe("\\x00ab");
    expect(serializeParam(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)))).toBe("2026-01-02T03:04:05.006+00:00");
  });
});

describe("errors, as the driver raises them", () => {
  it("copies the server's fields from a 400 onto a NeonDbError", async () => {
    const { client } = ours();
    for (const statement of ["select 1/0", "select * from no_such_table", "selec 1", "select 'x'::int4"]) {
      const mine = await rejection(client.query(statement));
      const theirs = await rejection(driver.query(statement));
      expect(mine).toBeInstanceOf(NeonDbError);
      expect(theirs).toBeInstanceOf(DriverError);
      expect(errorShape(mine)).toEqual(errorShape(theirs));
      expect(mine.code).toEqual(expect.stringMatching(/^[0-9A-Z]{5}$/));
    }
  });

  it("names another status and its body, without a code", async () => {
    const elsewhere = endpoint.replace(/\/sql$/, "/elsewhere");
    const { client } = ours({ endpoint: elsewhere });
    const mine = await rejection(client.query("select 1"));
    neonConfig.fetchEndpoint = elsewhere;
    const theirs = await rejection(driver.query("select 1")).finally(() => {
      neonConfig.fetchEndpoint = endpoint;
    });
    expect(mine.message).toBe(theirs.message);
    expect(mine.message).toMatch(/^Server error \(HTTP status 404\): /);
    expect(mine.code).toBeUndefined();
  });

  it("turns a failed connection into a NeonDbError without a code, which is a 503", async () => {
    const { client, roundTrips } = ours({ endpoint: "http://127.0.0.1:9/sql" });
    const error = await rejection(client.query("select 1"));
    expect(error).toBeInstanceOf(NeonDbError);
    expect(error.message).toMatch(/^Error connecting to database: /);
    expect(error.code).toBeUndefined();
    expect(error.sourceError).toBeDefined();
    expect(problemForDbError(error)?.status).toBe(503);
    expect(roundTrips()).toBe(1);
  });

  it("gives up at the deadline with a NeonDbError without a code", async () => {
    const { client } = ours({ timeoutMs: 20 });
    const error = await rejection(client.query("select pg_sleep(0.3)"));
    expect(error).toBeInstanceOf(NeonDbError);
    expect(error.code).toBeUndefined();
    expect(problemForDbError(error)?.status).toBe(503);
  });

  it("refuses a connection string that is not a Postgres URL, without quoting it", () => {
    expect(() => resolveTarget("mysql://user:secret@host/db")).toThrow(NeonDbError);
    expect(() => resolveTarget("not a url secret")).toThrow("Database connection string is not a valid URL");
  });
});

const prelude = () => [{ query: "select set_config('app.neon_http_test', $1, true)", params: ["set by prelude"] }];

describe("transactions and the request shape", () => {
  it("runs nothing until a query is awaited or sent in a transaction", async () => {
    const { client, roundTrips } = ours();
    const first = client.query("select 1 as a");
    const second = client.query("select 2 as b", [], { arrayMode: true });
    expect(first).toBeInstanceOf(HttpQuery);
    expect(roundTrips()).toBe(0);
    const results = await client.transaction([first, second], { fullResults: false });
    expect(results).toEqual([[{ a: 1 }], [[2]]]);
    expect(roundTrips()).toBe(1);
  });

  it("answers a transaction as the driver does, per-query options over the transaction's", async () => {
    const { client } = ours();
    const statements: [string, unknown[]][] = [
      ["select $1::int4 as n", [7]],
      ["select 'a'::text as t, array[1]::int4[] as a", []],
    ];
    const mine = await client.transaction(
      [client.query(...statements[0]!, { arrayMode: false, fullResults: true }), client.query(...statements[1]!)],
      { arrayMode: true, fullResults: true },
    );
    const theirs = await driver.transaction([driver.query(...statements[0]!, { arrayMode: false, fullResults: true }), driver.query(...statements[1]!)], {
      arrayMode: true,
      fullResults: true,
    });
    expect(mine.map(comparable)).toEqual(theirs.map(comparable));
  });

  it("sends the isolation level, read-only and deferrable of a transaction", async () => {
    const { client } = ours();
    const [settings] = await client.transaction(
      [client.query("select current_setting('transaction_isolation') as isolation, current_setting('transaction_read_only') as read_only, current_setting('transaction_deferrable') as deferrable")],
      { isolationLevel: "Serializable", readOnly: true, deferrable: true },
    );
    expect(settings).toEqual([{ isolation: "serializable", read_only: "on", deferrable: "on" }]);
  });

  it("rolls the whole transaction back when one statement fails", async () => {
    const { client } = ours();
    const name = `neon_http_${crypto.randomUUID().replaceAll("-", "")}`;
    const error = await rejection(client.transaction([client.query(`create table ${name} (id int4)`), client.query("select 1/0")]));
    expect(error.code).toBe("22012");
    expect(await client.query("select to_regclass($1) as found", [name])).toEqual([{ found: null }]);
  });

  it("opens every request with the prelude, in the same transaction, and answers only the request's own statements", async () => {
    const { client, roundTrips } = ours({ prelude });
    expect(await client.query("select current_setting('app.neon_http_test', true) as v")).toEqual([{ v: "set by prelude" }]);
    const results = await client.transaction([client.query("select 1 as a"), client.query("select current_setting('app.neon_http_test', true) as v")]);
    expect(results).toEqual([[{ a: 1 }], [{ v: "set by prelude" }]]);
    expect(roundTrips()).toBe(2);
  });

  it("refuses a transaction of anything but its own queries", async () => {
    const { client } = ours();
    await expect(client.transaction([Promise.resolve() as unknown as HttpQuery])).rejects.toThrow("transaction() expects an array of queries");
  });

  it("normalises the connection string as the driver does and derives Neon's endpoint from the host", () => {
    expect(resolveTarget("postgres://user:pw@ep-cool-name-123.eu-central-1.aws.neon.tech/app?sslmode=require")).toEqual({
      connectionString: "postgresql://user:pw@ep-cool-name-123.eu-central-1.aws.neon.tech/app?sslmode=require&application_name=tend",
      endpoint: "https://api.eu-central-1.aws.neon.tech/sql",
    });
    expect(resolveTarget("postgresql://user:pw@host.example/app?application_name=x", "http://127.0.0.1:1/sql")).toEqual({
      connectionString: "postgresql://user:pw@host.example/app?application_name=x",
      endpoint: "http://127.0.0.1:1/sql",
    });
  });
});
