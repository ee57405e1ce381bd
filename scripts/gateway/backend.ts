import type { BatchOptions, SqlStatement, StatementResult } from "./protocol.ts";

/** Where the gateway's SQL actually runs. Implementations must return raw Postgres text values. */
export interface Backend {
  /** Short name reported by `GET /health`, e.g. "pglite" or "postgres". */
  readonly name: string;
  /** Runs one statement in autocommit mode. Rejects with the Postgres error on failure. */
  query(statement: SqlStatement): Promise<StatementResult>;
  /** Runs all statements in one transaction; any failure rolls the whole batch back and rejects. */
  batch(statements: SqlStatement[], options: BatchOptions): Promise<StatementResult[]>;
  /** Waits for in-flight work, then releases the database. */
  close(): Promise<void>;
}
