import { NeonDbError } from "@neondatabase/serverless";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/neon-http";
import { integer, jsonb, pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";
import { expect, it } from "vitest";
import { describeEachBackend, uniqueName } from "./gateway-harness.ts";

/** Resolves to the rejection of `promise`, failing the test if it resolved instead. */
async function rejectionOf(promise: Promise<unknown>): Promise<NeonDbError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(NeonDbError);
  return error as NeonDbError;
}

describeEachBackend("gateway errors", (harness) => {
  it("reports a unique violation as 23505 with the constraint name", async () => {
    const { sql } = harness();
    const table = uniqueName("uniq");
    await sql.query(`CREATE TABLE ${table} (email text CONSTRAINT ${table}_email_key UNIQUE)`);
    await sql.query(`INSERT INTO ${table} VALUES ($1)`, ["a@example.com"]);
    const error = await rejectionOf(sql.query(`INSERT INTO ${table} VALUES ($1)`, ["a@example.com"]));
    expect(error.code).toBe("23505");
    expect(error.constraint).toBe(`${table}_email_key`);
    expect(error.table).toBe(table);
    expect(error.severity).toBe("ERROR");
    expect(error.detail).toContain("already exists");
  });

  it("reports a syntax error as 42601 with its position", async () => {
    const error = await rejectionOf(harness().sql.query("SELEC 1"));
    expect(error.code).toBe("42601");
    expect(error.position).toBe("1");
  });

  it("reports an undefined table as 42P01", async () => {
    const error = await rejectionOf(harness().sql.query(`SELECT * FROM ${uniqueName("missing")}`));
    expect(error.code).toBe("42P01");
    expect(error.message).toMatch(/does not exist/);
  });

  it("refuses several statements in one query, as Neon's extended protocol does", async () => {
    const error = await rejectionOf(harness().sql.query("SELECT 1; SELECT 2"));
    expect(error.code).toBe("42601");
  });

  it("does not leak a stray BEGIN into later requests", async () => {
    const { sql } = harness();
    const table = uniqueName("leak");
    await sql.query(`CREATE TABLE ${table} (k int)`);
    await sql.query("BEGIN");
    // Were the BEGIN still open, this insert would join it and the ROLLBACK below would undo it.
    await sql.query(`INSERT INTO ${table} VALUES (1)`);
    await sql.query("ROLLBACK");
    expect(await sql.query(`SELECT k FROM ${table}`)).toEqual([{ k: 1 }]);
  });
});

describeEachBackend("gateway batches", (harness) => {
  it("rolls back the whole batch when its third statement fails", async () => {
    const { sql } = harness();
    const table = uniqueName("atomic");
    await sql.query(`CREATE TABLE ${table} (k int PRIMARY KEY)`);
    const error = await rejectionOf(
      sql.transaction([
        sql.query(`INSERT INTO ${table} VALUES (1)`),
        sql.query(`INSERT INTO ${table} VALUES (2)`),
        sql.query(`INSERT INTO ${table} VALUES (1)`),
      ]),
    );
    expect(error.code).toBe("23505");
    const rows = await sql.query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(rows).toEqual([{ n: 0 }]);
  });

  it("returns one result per statement of a committed batch", async () => {
    const { sql } = harness();
    const table = uniqueName("committed");
    await sql.query(`CREATE TABLE ${table} (k int)`);
    const results = await sql.transaction((tx) => [
      tx.query(`INSERT INTO ${table} VALUES (1), (2) RETURNING k`),
      tx.query(`SELECT sum(k)::int AS total FROM ${table}`),
    ]);
    expect(results).toEqual([[{ k: 1 }, { k: 2 }], [{ total: 3 }]]);
  });

  it("honours readOnly: a write fails with 25006", async () => {
    const { sql } = harness();
    const table = uniqueName("ro");
    await sql.query(`CREATE TABLE ${table} (k int)`);
    const error = await rejectionOf(sql.transaction([sql.query(`INSERT INTO ${table} VALUES (1)`)], { readOnly: true }));
    expect(error.code).toBe("25006");
  });

  it("honours isolation level, read-only and deferrable together", async () => {
    const { sql } = harness();
    const [rows] = await sql.transaction(
      [
        sql`SELECT current_setting('transaction_isolation') AS iso,
                   current_setting('transaction_read_only') AS ro,
                   current_setting('transaction_deferrable') AS def`,
      ],
      { isolationLevel: "Serializable", readOnly: true, deferrable: true },
    );
    expect(rows).toEqual([{ iso: "serializable", ro: "on", def: "on" }]);
    const [repeatable] = await sql.transaction([sql`SELECT current_setting('transaction_isolation') AS iso`], {
      isolationLevel: "RepeatableRead",
    });
    expect(repeatable).toEqual([{ iso: "repeatable read" }]);
  });

  it("keeps 20 concurrent batches in their own transactions", async () => {
    const { sql } = harness();
    const table = uniqueName("parallel");
    await sql.query(`CREATE TABLE ${table} (k int PRIMARY KEY, tx text NOT NULL)`);
    const batch = (k: number) =>
      sql.transaction([
        sql.query(`INSERT INTO ${table} VALUES ($1, txid_current()::text)`, [k]),
        sql.query(`SELECT count(*)::int AS mine FROM ${table} WHERE tx = txid_current()::text`),
        sql.query(`SELECT k FROM ${table} WHERE tx = txid_current()::text`),
      ]);
    const keys = Array.from({ length: 20 }, (_, i) => i + 1);
    const results = await Promise.all(keys.map(batch));
    // Interleaved batches would share a transaction and see each other's rows.
    results.forEach(([, mine, own], i) => {
      expect(mine).toEqual([{ mine: 1 }]);
      expect(own).toEqual([{ k: keys[i] }]);
    });
    const [summary] = await sql.query(`SELECT count(*)::int AS n, count(DISTINCT tx)::int AS txs FROM ${table}`);
    expect(summary).toEqual({ n: 20, txs: 20 });
  });

  it("rolls back only the failing ones among concurrent batches", async () => {
    const { sql } = harness();
    const table = uniqueName("mixed");
    await sql.query(`CREATE TABLE ${table} (k int PRIMARY KEY)`);
    const batch = (k: number) =>
      sql.transaction([
        sql.query(`INSERT INTO ${table} VALUES ($1)`, [k]),
        // Odd keys divide by zero after their insert, so that insert must vanish.
        sql.query("SELECT 1 / ($1::int % 2 - 1)", [k]),
      ]);
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => batch(i)));
    expect(outcomes.map((o) => o.status)).toEqual(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? "fulfilled" : "rejected")),
    );
    const rows = await sql.query(`SELECT k FROM ${table} ORDER BY k`);
    expect(rows.map((r) => r.k)).toEqual([0, 2, 4, 6, 8, 10]);
  });
});

const makePatientsTable = (name: string) =>
  pgTable(name, {
    id: serial("id").primaryKey(),
    name: text("name").notNull(),
    visits: integer("visits").notNull().default(0),
    profile: jsonb("profile").$type<{ tags: string[] }>(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  });

describeEachBackend("drizzle-orm/neon-http through the gateway", (harness) => {

  const setup = async () => {
    const name = uniqueName("patients");
    await harness().sql.query(
      `CREATE TABLE ${name} (id serial PRIMARY KEY, name text NOT NULL, visits integer NOT NULL DEFAULT 0,
        profile jsonb, created_at timestamptz NOT NULL DEFAULT now())`,
    );
    return { db: drizzle({ client: harness().sql }), patients: makePatientsTable(name) };
  };

  it("inserts, selects and updates with returning()", async () => {
    const { db, patients } = await setup();
    const [created] = await db.insert(patients).values({ name: "Ada", profile: { tags: ["x"] } }).returning();
    expect(created).toMatchObject({ name: "Ada", visits: 0, profile: { tags: ["x"] } });
    expect(created?.createdAt).toBeInstanceOf(Date);
    const id = created?.id ?? -1;
    const [updated] = await db
      .update(patients)
      .set({ visits: 3 })
      .where(eq(patients.id, id))
      .returning({ id: patients.id, visits: patients.visits });
    expect(updated).toEqual({ id, visits: 3 });
    const found = await db.select().from(patients).where(eq(patients.id, id));
    expect(found).toEqual([{ ...created, visits: 3 }]);
  });

  it("runs db.batch([...]) as one transaction", async () => {
    const { db, patients } = await setup();
    const [inserted, counted] = await db.batch([
      db.insert(patients).values([{ name: "A" }, { name: "B" }]).returning({ name: patients.name }),
      db.select({ name: patients.name }).from(patients),
    ]);
    expect(inserted).toEqual([{ name: "A" }, { name: "B" }]);
    expect(counted).toHaveLength(2);
    await expect(
      db.batch([db.insert(patients).values({ name: "C" }), db.insert(patients).values({ id: 1, name: "dup" })]),
    ).rejects.toThrow();
    expect(await db.select().from(patients)).toHaveLength(2);
  });
});
