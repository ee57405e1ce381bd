import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { PGlite, types } from "@electric-sql/pglite";
import type { ParserOptions, Results, SerializerOptions } from "@electric-sql/pglite";
import { btree_gist } from "@electric-sql/pglite/contrib/btree_gist";
import { citext } from "@electric-sql/pglite/contrib/citext";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { unaccent } from "@electric-sql/pglite/contrib/unaccent";
import type { Backend } from "./backend.ts";
import { beginStatement } from "./protocol.ts";
import { createQueue } from "./queue.ts";
import type { BatchOptions, FieldInfo, RawValue, SqlStatement, StatementResult } from "./protocol.ts";

/** Extensions Tend's migrations create; PGlite only knows those handed to it at startup. */
const EXTENSIONS = { btree_gist, citext, pg_trgm, unaccent };

const identity = (value: string): string => value;

/**
 * PGlite parses result values itself from a per-OID table (its instance table merged over the
 * query's `parsers`, then a global fallback). Mapping every OID it knows to identity leaves
 * Postgres' text output untouched; OIDs it does not know (enums, extension types) are already
 * passed through as text.
 */
function identityParsers(db: PGlite): ParserOptions {
  const parsers: ParserOptions = {};
  for (const key of [...Object.keys(types.parsers), ...Object.keys(db.parsers)]) {
    const oid = Number(key);
    if (Number.isInteger(oid)) parsers[oid] = identity;
  }
  return parsers;
}

// Serializers are looked up by the parameter's OID, so a proxy covers every type, including
// ones created after startup: the driver's params are already Postgres text (bytea as \x..).
const identitySerializers: SerializerOptions = new Proxy({}, { get: () => identity });

// PGlite's results only carry name and type; the rest is "unknown" in node-postgres terms.
function toField(field: { name: string; dataTypeID: number }): FieldInfo {
  return {
    name: field.name,
    dataTypeID: field.dataTypeID,
    tableID: 0,
    columnID: 0,
    dataTypeSize: -1,
    dataTypeModifier: -1,
    format: "text",
  };
}

function toResult(result: Results<RawValue[]>): StatementResult {
  return {
    command: result.command ?? "",
    rowCount: result.rowCount ?? null,
    fields: result.fields.map(toField),
    rows: result.rows,
  };
}

async function openDatabase(dataDir: string | undefined): Promise<PGlite> {
  if (dataDir === undefined) return PGlite.create({ extensions: EXTENSIONS });
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  return PGlite.create({ dataDir: dir, extensions: EXTENSIONS });
}

/**
 * Embedded Postgres (WebAssembly). `dataDir` persists the cluster on disk; undefined keeps it in
 * memory. PGlite is one connection, so every single query and every whole batch goes through one
 * queue: a batch's transaction never has foreign statements interleaved. (PGlite's own mutex only
 * covers one call, and today its calls happen not to yield to the event loop; the queue makes
 * the guarantee ours instead of an accident of its implementation.)
 */
export async function createPgliteBackend(dataDir?: string): Promise<Backend> {
  const db = await openDatabase(dataDir);
  const parsers = identityParsers(db);
  const exclusive = createQueue();

  const run = async (statement: SqlStatement): Promise<StatementResult> =>
    toResult(
      await db.query<RawValue[]>(statement.query, statement.params, {
        rowMode: "array",
        parsers,
        serializers: identitySerializers,
      }),
    );

  // A stray BEGIN (or a failed COMMIT) must not leak an open transaction into the next request,
  // since every request shares this one connection.
  const rollbackLeftovers = async (): Promise<void> => {
    if (db.isInTransaction()) await db.exec("ROLLBACK");
  };

  const runBatch = async (statements: SqlStatement[], options: BatchOptions): Promise<StatementResult[]> => {
    await db.exec(beginStatement(options));
    try {
      const results: StatementResult[] = [];
      // oxlint-disable-next-line no-await-in-loop -- a transaction runs its statements in order
      for (const statement of statements) results.push(await run(statement));
      await db.exec("COMMIT");
      return results;
    } finally {
      await rollbackLeftovers();
    }
  };

  return {
    name: "pglite",
    query: (statement) =>
      exclusive(async () => {
        try {
          return await run(statement);
        } finally {
          await rollbackLeftovers();
        }
      }),
    batch: (statements, options) => exclusive(() => runBatch(statements, options)),
    close: () => exclusive(() => db.close()),
  };
}
