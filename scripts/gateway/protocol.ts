/**
 * The SQL-over-HTTP protocol spoken by `@neondatabase/serverless`'s `neon()` driver:
 * request parsing and validation, result and error shapes. Backend-agnostic.
 */
import { ERROR_FIELDS } from "../../src/db/neon-errors.ts";

/** A bind parameter as the driver sends it: already text-serialized, or SQL NULL. */
export type SqlParam = string | null;

/** One statement with its positional parameters ($1, $2, ...). */
export interface SqlStatement {
  query: string;
  params: SqlParam[];
}

/** Transaction isolation levels, spelled as in the `Neon-Batch-Isolation-Level` header. */
export type IsolationLevel = "ReadUncommitted" | "ReadCommitted" | "RepeatableRead" | "Serializable";

/** Transaction characteristics of a batch, from the `Neon-Batch-*` headers. */
export interface BatchOptions {
  isolationLevel?: IsolationLevel;
  readOnly?: boolean;
  deferrable?: boolean;
}

/** Column metadata, shaped like node-postgres' FieldDef (which the driver mirrors). */
export interface FieldInfo {
  name: string;
  dataTypeID: number;
  tableID: number;
  columnID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
  format: "text";
}

/** A raw Postgres text value, or null for SQL NULL. */
export type RawValue = string | null;

/** The outcome of one statement, rows always positional; the server reshapes them on demand. */
export interface StatementResult {
  command: string;
  rowCount: number | null;
  fields: FieldInfo[];
  rows: RawValue[][];
}

/** A validated request to `POST /sql`. */
export type SqlRequest =
  | { kind: "single"; statement: SqlStatement; arrayMode: boolean }
  | { kind: "batch"; statements: SqlStatement[]; options: BatchOptions; arrayMode: boolean };

/** A client mistake: answered with its HTTP status and a JSON `{message}` the driver can surface. */
export class RequestError extends Error {
  status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = "RequestError";
    this.status = status;
  }
}

/** Read-only view of request headers (node lower-cases names). */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

const ISOLATION_SQL: Record<IsolationLevel, string> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function booleanHeader(headers: HeaderBag, name: string): boolean | undefined {
  const value = header(headers, name);
  if (value === undefined) return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new RequestError(`${name} must be "true" or "false"`);
}

function isolationHeader(headers: HeaderBag): IsolationLevel | undefined {
  const value = header(headers, "neon-batch-isolation-level");
  if (value === undefined) return undefined;
  if (Object.hasOwn(ISOLATION_SQL, value)) return value as IsolationLevel;
  throw new RequestError(`Neon-Batch-Isolation-Level must be one of ${Object.keys(ISOLATION_SQL).join(", ")}`);
}

// The driver only ever sends strings and nulls; numbers and booleans are accepted for
// hand-written clients, anything structured is refused rather than guessed at.
function toParam(value: unknown, index: number): SqlParam {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  throw new RequestError(`params[${index}] must be a string or null`);
}

function toStatement(value: unknown, where: string): SqlStatement {
  if (typeof value !== "object" || value === null) throw new RequestError(`${where} must be an object`);
  const { query, params } = value as { query?: unknown; params?: unknown };
  if (typeof query !== "string") throw new RequestError(`${where}.query must be a string`);
  if (params !== undefined && !Array.isArray(params)) throw new RequestError(`${where}.params must be an array`);
  return { query, params: (params ?? []).map(toParam) };
}

/** Validates a parsed JSON body plus headers into a request; throws RequestError on anything off. */
export function parseSqlRequest(body: unknown, headers: HeaderBag): SqlRequest {
  if (!header(headers, "neon-connection-string")) throw new RequestError("Missing Neon-Connection-String header");
  // Absent means object rows, as with Neon's own endpoint; the driver always sends "true".
  const arrayMode = booleanHeader(headers, "neon-array-mode") ?? false;
  if (typeof body !== "object" || body === null) throw new RequestError("Request body must be a JSON object");
  const { queries } = body as { queries?: unknown };
  if (queries === undefined) return { kind: "single", statement: toStatement(body, "body"), arrayMode };
  if (!Array.isArray(queries)) throw new RequestError("queries must be an array");
  const statements = queries.map((q, i) => toStatement(q, `queries[${i}]`));
  const options: BatchOptions = {
    isolationLevel: isolationHeader(headers),
    readOnly: booleanHeader(headers, "neon-batch-read-only"),
    deferrable: booleanHeader(headers, "neon-batch-deferrable"),
  };
  return { kind: "batch", statements, options, arrayMode };
}

/** The BEGIN that opens a batch's transaction; unset options fall back to server defaults. */
export function beginStatement(options: BatchOptions): string {
  const parts = ["BEGIN"];
  if (options.isolationLevel) parts.push(`ISOLATION LEVEL ${ISOLATION_SQL[options.isolationLevel]}`);
  if (options.readOnly !== undefined) parts.push(options.readOnly ? "READ ONLY" : "READ WRITE");
  if (options.deferrable !== undefined) parts.push(options.deferrable ? "DEFERRABLE" : "NOT DEFERRABLE");
  return parts.join(" ");
}

/** Reshapes a result for the wire: positional rows stay as-is, otherwise rows become objects. */
export function toWireResult(result: StatementResult, arrayMode: boolean): Record<string, unknown> {
  const names = result.fields.map((f) => f.name);
  const rows = arrayMode
    ? result.rows
    : result.rows.map((row) => Object.fromEntries(row.map((value, i) => [names[i] ?? String(i), value])));
  return { command: result.command, rowCount: result.rowCount, fields: result.fields, rows, rowAsArray: arrayMode };
}


/**
 * The JSON body for a Postgres error (anything with a SQLSTATE and a severity), or undefined
 * when the error did not come from Postgres and so deserves a 500 instead.
 */
export function postgresErrorBody(error: unknown): Record<string, string> | undefined {
  if (!(error instanceof Error)) return undefined;
  const fields = error as unknown as Record<string, unknown>;
  if (typeof fields.code !== "string" || typeof fields.severity !== "string") return undefined;
  const body: Record<string, string> = { message: error.message };
  for (const key of ERROR_FIELDS) {
    const value = fields[key];
    if (value !== undefined && value !== null) body[key] = String(value);
  }
  return body;
}
