import { Pool } from "pg";
import type { FieldDef, PoolClient, QueryArrayConfig, QueryArrayResult } from "pg";
import type { Backend } from "./backend.ts";
import { beginStatement } from "./protocol.ts";
import type { BatchOptions, FieldInfo, RawValue, SqlStatement, StatementResult } from "./protocol.ts";

/** Hands every value through as Postgres sent it: the driver on the other side parses by OID. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

// Neon runs sessions in UTC; matching it keeps ::text renderings of timestamptz identical
// between production and a developer's local server in another zone.
const SESSION_SETUP = "SET TIME ZONE 'UTC'";

// `queryMode: "extended"` forces Parse/Bind/Execute even without params, like Neon does, so a
// multi-statement string fails here too instead of only in production. @types/pg lacks the key.
type ExtendedQuery = QueryArrayConfig<RawValue[]> & { queryMode: "extended" };

function toField(field: FieldDef): FieldInfo {
  return {
    name: field.name,
    dataTypeID: field.dataTypeID,
    tableID: field.tableID,
    columnID: field.columnID,
    dataTypeSize: field.dataTypeSize,
    dataTypeModifier: field.dataTypeModifier,
    format: "text",
  };
}

function toResult(result: QueryArrayResult<RawValue[]>): StatementResult {
  return {
    command: result.command ?? "",
    rowCount: result.rowCount ?? null,
    fields: (result.fields ?? []).map(toField),
    rows: result.rows,
  };
}

async function run(client: PoolClient, statement: SqlStatement): Promise<StatementResult> {
  const config: ExtendedQuery = {
    text: statement.query,
    values: statement.params,
    rowMode: "array",
    types: RAW_TEXT,
    queryMode: "extended",
  };
  return toResult(await client.query(config));
}

// A client still inside a transaction (a stray BEGIN, a failed ROLLBACK) is destroyed rather
// than returned to the pool, so no request ever inherits another's transaction.
function release(client: PoolClient): void {
  client.release(client.getTransactionStatus() !== "I");
}

async function runBatch(client: PoolClient, statements: SqlStatement[], options: BatchOptions): Promise<StatementResult[]> {
  await client.query(beginStatement(options));
  try {
    const results: StatementResult[] = [];
    // oxlint-disable-next-line no-await-in-loop -- a transaction runs its statements in order
    for (const statement of statements) results.push(await run(client, statement));
    await client.query("COMMIT");
    return results;
  } catch (error) {
    if (client.getTransactionStatus() !== "I") await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * A real PostgreSQL server reached through a node-postgres pool. Every batch gets its own pooled
 * client for the span of BEGIN…COMMIT, so concurrent batches are isolated by Postgres itself.
 */
export async function createPostgresBackend(connectionString: string): Promise<Backend> {
  const pool = new Pool({ connectionString, max: 10, types: RAW_TEXT });
  pool.on("connect", (client) => {
    client.query(SESSION_SETUP).catch((error: unknown) => console.error("gateway: session setup failed:", String(error)));
  });
  // Idle clients can lose their socket (server restart); without a listener that would crash us.
  pool.on("error", (error) => console.error("gateway: idle postgres client error:", error.message));

  const withClient = async <T>(job: (client: PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      return await job(client);
    } finally {
      release(client);
    }
  };

  // Fail at startup, not on the first request, when the URL is wrong or the server is down.
  await withClient((client) => client.query("SELECT 1"));

  return {
    name: "postgres",
    query: (statement) => withClient((client) => run(client, statement)),
    batch: (statements, options) => withClient((client) => runBatch(client, statements, options)),
    close: () => pool.end(),
  };
}
