import { expect, it } from "vitest";
import { describeEachBackend, uniqueName } from "./gateway-harness.ts";

const BIG_INT8 = "9007199254740993"; // 2^53 + 1: not representable as a JS number
const BIG_NUMERIC = "12345678901234567890.123456789";
const UUID = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
const INSTANT = new Date("2024-01-02T03:04:05.123Z");
const DOCUMENT = { patient: { tags: ["a", "b"], score: 1.5, empty: null, nested: { ok: true } } };
const TEXTS = ["a,b", 'q"x', null, "back\\slash", "{braces}"];
const BYTES = new Uint8Array([0, 1, 2, 127, 128, 255]);

describeEachBackend("gateway type round-trips", (harness) => {
  const createTypesTable = async (): Promise<string> => {
    const table = uniqueName("types");
    await harness().sql.query(
      `CREATE TABLE ${table} (
        id int PRIMARY KEY, i8 int8, num numeric, ts timestamptz, d date, doc jsonb,
        texts text[], bin bytea, flag bool, uid uuid
      )`,
    );
    return table;
  };

  it("round-trips each type through the neon driver as the driver's own JS values", async () => {
    const { sql } = harness();
    const table = await createTypesTable();
    await sql.query(`INSERT INTO ${table} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
      1,
      BIG_INT8,
      BIG_NUMERIC,
      INSTANT,
      "2024-01-02",
      DOCUMENT,
      TEXTS,
      BYTES,
      true,
      UUID,
    ]);
    const [row] = await sql.query(`SELECT * FROM ${table} WHERE id = 1`);
    expect(row).toBeDefined();
    expect(row?.i8).toBe(BIG_INT8); // the driver keeps int8 as a string to avoid precision loss
    expect(row?.num).toBe(BIG_NUMERIC);
    expect(row?.ts).toEqual(INSTANT);
    expect(row?.d).toEqual(new Date(2024, 0, 2)); // pg-types reads a date as local midnight
    expect(row?.doc).toEqual(DOCUMENT);
    expect(row?.texts).toEqual(TEXTS);
    expect(new Uint8Array(row?.bin as Uint8Array)).toEqual(BYTES);
    expect(row?.flag).toBe(true);
    expect(row?.uid).toBe(UUID);
  });

  it("round-trips SQL NULL of every type", async () => {
    const { sql } = harness();
    const table = await createTypesTable();
    const nulls = Array.from({ length: 9 }, () => null);
    await sql.query(`INSERT INTO ${table} VALUES (2, $1, $2, $3, $4, $5, $6, $7, $8, $9)`, nulls);
    const [row] = await sql.query(`SELECT i8, num, ts, d, doc, texts, bin, flag, uid FROM ${table} WHERE id = 2`);
    expect(row).toEqual({ i8: null, num: null, ts: null, d: null, doc: null, texts: null, bin: null, flag: null, uid: null });
  });

  it("keeps false, empty text, empty arrays and JSON null distinct from SQL NULL", async () => {
    const { sql } = harness();
    const [row] = await sql`SELECT false AS f, ''::text AS e, '{}'::text[] AS a, 'null'::jsonb AS j, ''::bytea AS b`;
    expect(row?.f).toBe(false);
    expect(row?.e).toBe("");
    expect(row?.a).toEqual([]);
    expect(row?.j).toBeNull(); // JSON null parses to null: check the raw text instead
    const [raw] = await sql`SELECT 'null'::jsonb::text AS j, ''::bytea::text AS b`;
    expect(raw).toEqual({ j: "null", b: "\\x" });
  });

  it("hands over Postgres' exact text output for each type", async () => {
    const { sql } = harness();
    // ::text makes Postgres itself render the value, the same bytes the gateway must forward.
    const [row] = await sql.query(
      `SELECT $1::timestamptz::text AS ts, $2::bytea::text AS bin, $3::jsonb::text AS doc,
              $4::text[]::text AS texts, $5::numeric::text AS num, true::text AS flag, '2024-01-02'::date::text AS d`,
      [INSTANT, BYTES, { b: 1, a: [true] }, TEXTS, BIG_NUMERIC],
    );
    expect(row).toEqual({
      ts: "2024-01-02 03:04:05.123+00",
      bin: "\\x0001027f80ff",
      doc: '{"a": [true], "b": 1}',
      texts: '{"a,b","q\\"x",NULL,"back\\\\slash","{braces}"}',
      num: BIG_NUMERIC,
      flag: "true",
      d: "2024-01-02",
    });
  });

  it("reports each column's type OID in the field list", async () => {
    const { sql } = harness();
    const result = await sql.query(
      "SELECT 1::int8 AS a, 1::numeric AS b, now() AS c, current_date AS d, '{}'::jsonb AS e, '{}'::text[] AS f, ''::bytea AS g, true AS h, gen_random_uuid() AS i",
      [],
      { fullResults: true },
    );
    expect(result.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ["a", 20],
      ["b", 1700],
      ["c", 1184],
      ["d", 1082],
      ["e", 3802],
      ["f", 1009],
      ["g", 17],
      ["h", 16],
      ["i", 2950],
    ]);
    expect(result.command).toBe("SELECT");
    expect(result.rowCount).toBe(1);
  });

  it("reports command and rowCount for writes", async () => {
    const { sql } = harness();
    const table = uniqueName("counts");
    await sql.query(`CREATE TABLE ${table} (k int)`);
    const inserted = await sql.query(`INSERT INTO ${table} SELECT generate_series(1, 3)`, [], { fullResults: true });
    expect([inserted.command, inserted.rowCount]).toEqual(["INSERT", 3]);
    const deleted = await sql.query(`DELETE FROM ${table} WHERE k > 1`, [], { fullResults: true });
    expect([deleted.command, deleted.rowCount]).toEqual(["DELETE", 2]);
  });

  it("creates the extensions Tend's migrations use", async () => {
    const { sql } = harness();
    for (const extension of ["btree_gist", "pg_trgm", "citext"]) {
      // oxlint-disable-next-line no-await-in-loop -- DDL on one database, kept sequential for clarity
      await sql.query(`CREATE EXTENSION IF NOT EXISTS ${extension}`);
    }
    const [row] = await sql`SELECT 'Ada'::citext = 'ADA'::citext AS same, similarity('clinic', 'clinics') > 0.5 AS close`;
    expect(row).toEqual({ same: true, close: true });
    const table = uniqueName("slots");
    await sql.query(
      `CREATE TABLE ${table} (room int, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&))`,
    );
    await sql.query(`INSERT INTO ${table} VALUES (1, '[2024-01-01 09:00Z, 2024-01-01 10:00Z)')`);
    await expect(
      sql.query(`INSERT INTO ${table} VALUES (1, '[2024-01-01 09:30Z, 2024-01-01 10:30Z)')`),
    ).rejects.toMatchObject({ code: "23P01" });
  });
});
