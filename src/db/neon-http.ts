/**
 * A small SQL-over-HTTP client for Neon, speaking the same wire protocol as
 * `@neondatabase/serverless`'s `neon()` (1.2.0) so drizzle-orm's neon-http session can use it.
 * The driver's single pre-bundled file loads its whole node-postgres client at import, about a
 * fifth of the Worker and 14-23 ms of startup CPU, for a path that is one `fetch`.
 *
 * The protocol, as the driver speaks it:
 * - `POST https://api.<host without its first label>/sql` (or the endpoint given), with headers
 *   `Neon-Connection-String`, `Neon-Raw-Text-Output: true`, `Neon-Array-Mode: true` and, for a
 *   batch only, `Neon-Batch-Isolation-Level` / `Neon-Batch-Read-Only` / `Neon-Batch-Deferrable`.
 * - Body `{query, params}` for one statement, `{queries: [{query, params}, ...]}` for a batch
 *   (one transaction). Parameters are text or null, serialized as node-postgres does.
 * - Answer `{fields: [{name, dataTypeID}], rows: [[text|null]], rowCount, command}`, or
 *   `{results: [...]}` for a batch. Values are Postgres text, parsed here by type OID.
 * - HTTP 400 carries `{message, code, severity, ...}`: a NeonDbError with those fields. Any other
 *   failure (no connection, other status) is a NeonDbError without a code.
 *
 * Deliberate differences from the driver, all on paths the driver handles worse:
 * - A body lost or unreadable mid-answer is a connection error (no code), not a stray TypeError
 *   or SyntaxError; a 400 whose body is not JSON is a server error rather than a SyntaxError.
 * - An invalid connection string's error does not quote the string (it holds the password).
 * - `application_name` defaults to `tend`, not the driver's package URL.
 * - Only the `text` type parsers below exist (no custom `types`, no `authToken` functions).
 */

import { connectionError, errorOf, NeonDbError } from "#src/db/neon-errors.ts";
import { type Parser, serializeParam, typeParser } from "#src/db/pg-text.ts";

// ---------------------------------------------------------------------------------------------
// The client drizzle's session calls.

export interface WireStatement {
  query: string;
  params: unknown[];
}

export interface Field {
  name: string;
  dataTypeID: number;
  [more: string]: unknown;
}

interface WireResult {
  fields: Field[];
  rows: unknown[][];
  rowCount: number | null;
  command: string;
  [more: string]: unknown;
}

/** A result with `fullResults`: the server's answer with its rows parsed. */
export interface FullResult {
  fields: Field[];
  rows: unknown[];
  rowCount: number | null;
  command: string;
  rowAsArray: boolean;
  viaNeonFetch: true;
}

export interface QueryOptions {
  arrayMode?: boolean;
  fullResults?: boolean;
  /** A bearer token for Neon's authenticated endpoint. */
  authToken?: string;
}

export interface TransactionOptions extends QueryOptions {
  isolationLevel?: "ReadUncommitted" | "ReadCommitted" | "RepeatableRead" | "Serializable";
  readOnly?: boolean;
  deferrable?: boolean;
}

export interface HttpClientConfig {
  connectionString: string;
  /** Where to POST; by default the driver's `https://api.<host minus its first label>/sql`. */
  endpoint?: string | undefined;
  /** Deadline of each round trip, body included (the driver has none). */
  timeoutMs: number;
  /** Called after each round trip, success or not, with its duration. */
  onRoundTrip?: ((ms: number) => void) | undefined;
  /**
   * Statements that open every request: the request becomes a transaction (one batch) that runs
   * them first, and their results are dropped. Still one round trip.
   */
  prelude?: (() => WireStatement[]) | undefined;
}

const TRANSACTION_USAGE = "transaction() expects an array of queries, or a function returning an array of queries";

/** A query that runs when first awaited, or rides in a `transaction()` unrun, as the driver's does. */
export class HttpQuery implements PromiseLike<unknown> {
  #run: (() => Promise<unknown>) | undefined;
  #result: Promise<unknown> | undefined;

  readonly statement: WireStatement;
  readonly options: QueryOptions;

  constructor(statement: WireStatement, options: QueryOptions, run: () => Promise<unknown>) {
    this.statement = statement;
    this.options = options;
    this.#run = run;
  }

  #execute(): Promise<unknown> {
    if (!this.#result) {
      this.#result = (this.#run ?? (() => Promise.resolve(undefined)))();
      this.#run = undefined;
    }
    return this.#result;
  }

  // oxlint-disable-next-line unicorn/no-thenable -- lazy by design: drizzle's batch collects queries unrun
  then<A = unknown, B = never>(onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.#execute().then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<unknown> {
    return this.#execute().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<unknown> {
    return this.#execute().finally(onFinally);
  }
}

export interface HttpClient {
  (query: string, params?: unknown[], options?: QueryOptions): HttpQuery;
  query(query: string, params?: unknown[], options?: QueryOptions): HttpQuery;
  transaction(queries: HttpQuery[] | ((client: HttpClient) => HttpQuery[]), options?: TransactionOptions): Promise<unknown[]>;
}

interface Target {
  endpoint: string;
  connectionString: string;
}

/** The driver's check and normalisation of the connection string, and its default endpoint. */
export function resolveTarget(connectionString: string, endpoint?: string): Target {
  let protocol: string;
  let url: URL;
  try {
    protocol = new URL(connectionString).protocol;
    url = new URL(`http:${connectionString.slice(protocol.length)}`);
  } catch {
    throw new NeonDbError("Database connection string is not a valid URL");
  }
  const { username, hostname, pathname } = url;
  if ((protocol !== "postgres:" && protocol !== "postgresql:") || !username || !hostname || hostname === "-" || !pathname || pathname === "/") {
    throw new NeonDbError("Wrong URL scheme or missing user, host or database in connection parameters");
  }
  if (!url.searchParams.has("application_name")) url.searchParams.append("application_name", "tend");
  return {
    connectionString: `postgresql:${url.href.slice(url.protocol.length)}`,
    endpoint: endpoint ?? `https://${hostname.replace(/^[^.]+\./, "api.")}/sql`,
  };
}

function shapeResult(result: WireResult, arrayMode: boolean, fullResults: boolean): unknown {
  const names = result.fields.map((field) => field.name);
  const parsers = result.fields.map((field) => typeParser(field.dataTypeID));
  const parse = (value: unknown, index: number): unknown => (value === null ? null : (parsers[index] as Parser)(value as string));
  const rows = arrayMode
    ? result.rows.map((row) => row.map(parse))
    : result.rows.map((row) => Object.fromEntries(row.map((value, index) => [names[index], parse(value, index)])));
  if (!fullResults) return rows;
  return { ...result, rows, rowAsArray: arrayMode, viaNeonFetch: true } satisfies FullResult;
}

/** Resolved targets by endpoint and connection string: two URL parses saved on every request. */
const targets = new Map<string, Target>();
const TARGETS_KEPT = 16;

function targetOf(connectionString: string, endpoint: string | undefined): Target {
  const key = `${endpoint ?? ""}\n${connectionString}`;
  let target = targets.get(key);
  if (!target) {
    target = resolveTarget(connectionString, endpoint);
    if (targets.size >= TARGETS_KEPT) targets.clear();
    targets.set(key, target);
  }
  return target;
}

/** A client over one connection string; cheap to make, so one per request. */
export function createHttpClient(config: HttpClientConfig): HttpClient {
  let target: Target | undefined;

  /** One round trip: the answer of one statement, or each statement's answer for a batch. */
  async function send(statements: WireStatement[], batch: boolean, options: TransactionOptions): Promise<WireResult[]> {
    target ??= targetOf(config.connectionString, config.endpoint);
    const prelude = config.prelude?.() ?? [];
    const wire = [...prelude, ...statements].map(({ query, params }) => ({ query, params: params.map(serializeParam) }));
    const asBatch = batch || prelude.length > 0;
    const headers: Record<string, string> = {
      "Neon-Connection-String": target.connectionString,
      "Neon-Raw-Text-Output": "true",
      "Neon-Array-Mode": "true",
    };
    if (options.authToken !== undefined) headers.Authorization = `Bearer ${options.authToken}`;
    if (batch) {
      if (options.isolationLevel !== undefined) headers["Neon-Batch-Isolation-Level"] = options.isolationLevel;
      if (options.readOnly !== undefined) headers["Neon-Batch-Read-Only"] = String(options.readOnly);
      if (options.deferrable !== undefined) headers["Neon-Batch-Deferrable"] = String(options.deferrable);
    }
    const started = performance.now();
    let response: Response;
    let text: string;
    try {
      // The deadline covers the body too: a database that stalls mid-answer is a 503, not a hang.
      try {
        response = await fetch(target.endpoint, {
          method: "POST",
          body: JSON.stringify(asBatch ? { queries: wire } : wire[0]),
          headers,
          signal: AbortSignal.timeout(config.timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        throw connectionError(error);
      }
    } finally {
      config.onRoundTrip?.(performance.now() - started);
    }
    if (!response.ok) throw await errorOf(response, text);
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch (error) {
      throw connectionError(error);
    }
    if (!asBatch) return [answer as WireResult];
    const results = (answer as { results?: unknown } | null)?.results;
    if (!Array.isArray(results) || results.length !== wire.length) throw new NeonDbError("Neon internal error: unexpected result format");
    return (results as WireResult[]).slice(prelude.length);
  }

  const query = (text: string, params: unknown[] = [], options: QueryOptions = {}): HttpQuery => {
    const statement = { query: text, params };
    return new HttpQuery(statement, options, async () => {
      const [result] = await send([statement], false, options);
      return shapeResult(result as WireResult, options.arrayMode ?? false, options.fullResults ?? false);
    });
  };

  const client = ((text: string, params?: unknown[], options?: QueryOptions) => query(text, params, options)) as HttpClient;
  client.query = query;
  client.transaction = async (queries, options = {}) => {
    const list = typeof queries === "function" ? queries(client) : queries;
    if (!Array.isArray(list) || !list.every((item) => item instanceof HttpQuery)) throw new Error(TRANSACTION_USAGE);
    const results = await send(
      list.map((item) => item.statement),
      true,
      options,
    );
    return results.map((result, index) => {
      const own = (list[index] as HttpQuery).options;
      return shapeResult(result, own.arrayMode ?? options.arrayMode ?? false, own.fullResults ?? options.fullResults ?? false);
    });
  };
  return client;
}
