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

/** Fields the driver copies from a 400 answer onto its error, in its order (the gateway sends them). */
export const ERROR_FIELDS = [
  "severity",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

/** A database failure: Postgres's fields when the server answered, no `code` when it did not. */
export class NeonDbError extends Error {
  override name = "NeonDbError";
  severity: string | undefined;
  code: string | undefined;
  detail: string | undefined;
  hint: string | undefined;
  position: string | undefined;
  internalPosition: string | undefined;
  internalQuery: string | undefined;
  where: string | undefined;
  schema: string | undefined;
  table: string | undefined;
  column: string | undefined;
  dataType: string | undefined;
  constraint: string | undefined;
  file: string | undefined;
  line: string | undefined;
  routine: string | undefined;
  /** What fetch threw, for a connection error. */
  sourceError: unknown;
}

function connectionError(error: unknown): NeonDbError {
  const wrapped = new NeonDbError(`Error connecting to database: ${String(error)}`);
  wrapped.sourceError = error;
  return wrapped;
}

// ---------------------------------------------------------------------------------------------
// Parameters: node-postgres's prepareValue (pg/lib/utils.js), then bytes as bytea hex, as the
// driver sends them.

const hex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

const bytesOf = (view: ArrayBufferView): Uint8Array => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

const pad = (value: number, length: number): string => String(value).padStart(length, "0");

/** A Date in local time with its offset, as node-postgres sends it (Workers run in UTC). */
function dateToString(date: Date): string {
  let offset = -date.getTimezoneOffset();
  let year = date.getFullYear();
  const bc = year < 1;
  if (bc) year = Math.abs(year) + 1;
  let text = `${pad(year, 4)}-${pad(date.getMonth() + 1, 2)}-${pad(date.getDate(), 2)}T${pad(date.getHours(), 2)}:${pad(date.getMinutes(), 2)}:${pad(date.getSeconds(), 2)}.${pad(date.getMilliseconds(), 3)}`;
  if (offset < 0) {
    text += "-";
    offset *= -1;
  } else text += "+";
  text += `${pad(Math.floor(offset / 60), 2)}:${pad(offset % 60, 2)}`;
  return bc ? `${text} BC` : text;
}

const escapeElement = (text: string): string => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

function arrayString(values: unknown[]): string {
  const parts = values.map((value) => {
    if (value === null || value === undefined) return "NULL";
    if (Array.isArray(value)) return arrayString(value);
    if (ArrayBuffer.isView(value)) return `\\\\x${hex(bytesOf(value))}`;
    return escapeElement(String(prepare(value)));
  });
  return `{${parts.join(",")}}`;
}

type Prepared = string | Uint8Array | null;

function prepare(value: unknown, seen: unknown[] = []): Prepared {
  if (value === null || value === undefined) return null;
  if (ArrayBuffer.isView(value)) return bytesOf(value);
  if (value instanceof Date) return dateToString(value);
  if (Array.isArray(value)) return arrayString(value);
  if (typeof value === "object") {
    const toPostgres = (value as { toPostgres?: unknown }).toPostgres;
    if (typeof toPostgres !== "function") return JSON.stringify(value);
    if (seen.includes(value)) throw new Error(`circular reference detected while preparing "${String(value)}" for query`);
    seen.push(value);
    return prepare(toPostgres.call(value, prepare), seen);
  }
  return (value as { toString(): string }).toString();
}

/** One parameter as it goes on the wire: text, or null for SQL NULL. */
export function serializeParam(value: unknown): string | null {
  const prepared = prepare(value);
  return prepared instanceof Uint8Array ? `\\x${hex(prepared)}` : prepared;
}

// ---------------------------------------------------------------------------------------------
// Results: pg-types' text parsers (the driver's copy of pg-types 2 and postgres-array 2), with
// the overrides drizzle-orm/neon-http installs (dates, timestamps, intervals and numeric arrays
// stay text, drizzle's columns map them). Any other type stays text, as in pg-types.

/** postgres-array 2's parser, ported as is. */
class ArrayParser {
  position = 0;
  entries: unknown[] = [];
  recorded: string[] = [];
  dimension = 0;

  readonly source: string;
  readonly transform: (text: string) => unknown;

  // No parameter properties: Node's type stripping (scripts run this file) refuses them.
  constructor(source: string, transform: (text: string) => unknown) {
    this.source = source;
    this.transform = transform;
  }

  isEof(): boolean {
    return this.position >= this.source.length;
  }

  nextCharacter(): { value: string; escaped: boolean } {
    const character = this.source[this.position++] ?? "";
    if (character === "\\") return { value: this.source[this.position++] ?? "", escaped: true };
    return { value: character, escaped: false };
  }

  newEntry(includeEmpty = false): void {
    if (this.recorded.length > 0 || includeEmpty) {
      const text = this.recorded.join("");
      this.entries.push(text === "NULL" && !includeEmpty ? null : this.transform(text));
      this.recorded = [];
    }
  }

  consumeDimensions(): void {
    if (this.source[0] !== "[") return;
    while (!this.isEof()) if (this.nextCharacter().value === "=") break;
  }

  parse(nested = false): unknown[] {
    let quote = false;
    this.consumeDimensions();
    while (!this.isEof()) {
      const character = this.nextCharacter();
      if (character.value === "{" && !quote) {
        this.dimension++;
        if (this.dimension > 1) {
          const parser = new ArrayParser(this.source.substring(this.position - 1), this.transform);
          this.entries.push(parser.parse(true));
          this.position += parser.position - 2;
        }
      } else if (character.value === "}" && !quote) {
        this.dimension--;
        if (!this.dimension) {
          this.newEntry();
          if (nested) return this.entries;
        }
      } else if (character.value === '"' && !character.escaped) {
        if (quote) this.newEntry(true);
        quote = !quote;
      } else if (character.value === "," && !quote) {
        this.newEntry();
      } else {
        this.recorded.push(character.value);
      }
    }
    if (this.dimension !== 0) throw new Error("array dimension not balanced");
    return this.entries;
  }
}

type Parser = (text: string) => unknown;

const arrayOf =
  (element: Parser): Parser =>
  (text) =>
    text ? new ArrayParser(text, element).parse() : null;

const identity: Parser = (text) => text;
const parseBool: Parser = (text) => text === "TRUE" || text === "t" || text === "true" || text === "y" || text === "yes" || text === "on" || text === "1";
const parseInteger: Parser = (text) => Number.parseInt(text, 10);
const parseJson: Parser = (text) => JSON.parse(text);
const parseBigIntegerElement: Parser = (text) => text.trim();
/** bytea, hex or escape format, as bytes (the driver gives its Buffer, a Uint8Array). */
const parseBytea: Parser = (text) => {
  if (text.startsWith("\\x")) {
    const digits = text.slice(2);
    const bytes = new Uint8Array(digits.length >> 1);
    for (let index = 0; index < bytes.length; index++) bytes[index] = Number.parseInt(digits.substring(index * 2, index * 2 + 2), 16);
    return bytes;
  }
  const bytes: number[] = [];
  for (let index = 0; index < text.length; ) {
    if (text[index] !== "\\") {
      bytes.push(text.charCodeAt(index) & 0xff);
      index++;
    } else if (/[0-7]{3}/.test(text.substring(index + 1, index + 4))) {
      bytes.push(Number.parseInt(text.substring(index + 1, index + 4), 8));
      index += 4;
    } else {
      let backslashes = 1;
      while (index + backslashes < text.length && text[index + backslashes] === "\\") backslashes++;
      for (let count = 0; count < Math.floor(backslashes / 2); count++) bytes.push(0x5c);
      index += Math.floor(backslashes / 2) * 2;
    }
  }
  return Uint8Array.from(bytes);
};
const stringArray = arrayOf(identity);
const integerArray = arrayOf(parseInteger);
const floatArray = arrayOf(Number.parseFloat);

/** Parsers by type OID, for text output. */
const PARSERS = new Map<number, Parser>([
  [16, parseBool], // bool
  [20, identity], // int8: text, as pg-types (no precision lost)
  [21, parseInteger], // int2
  [23, parseInteger], // int4
  [26, parseInteger], // oid
  [700, Number.parseFloat], // float4
  [701, Number.parseFloat], // float8
  [17, parseBytea], // bytea
  [1001, arrayOf(parseBytea)], // bytea[]
  [114, parseJson], // json
  [3802, parseJson], // jsonb
  [1000, arrayOf(parseBool)], // bool[]
  [1005, integerArray], // int2[]
  [1007, integerArray], // int4[]
  [1028, integerArray], // oid[]
  [1016, arrayOf(parseBigIntegerElement)], // int8[]
  [1021, floatArray], // float4[]
  [1022, floatArray], // float8[]
  [199, arrayOf(parseJson)], // json[]
  [3807, arrayOf(parseJson)], // jsonb[]
  // Text-like arrays: char, varchar, name, text, macaddr, inet, cidr, numrange, uuid, money, time, timetz.
  ...[1014, 1015, 1003, 1008, 1009, 1040, 1041, 651, 3907, 2951, 791, 1183, 1270].map((oid): [number, Parser] => [oid, stringArray]),
  // drizzle-orm/neon-http's overrides: timestamptz, timestamp, date, interval, numeric[],
  // timestamp[], timestamptz[], interval[], date[] stay text.
  ...[1184, 1114, 1082, 1186, 1231, 1115, 1185, 1187, 1182].map((oid): [number, Parser] => [oid, identity]),
]);

/** The parser for a type OID; text for any type without one. */
export function typeParser(oid: number): Parser {
  return PARSERS.get(oid) ?? identity;
}

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

async function errorOf(response: Response, text: string): Promise<NeonDbError> {
  if (response.status === 400) {
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    if (body && typeof body === "object") {
      const error = new NeonDbError(String(body.message));
      for (const field of ERROR_FIELDS) (error as unknown as Record<string, unknown>)[field] = body[field] ?? undefined;
      return error;
    }
  }
  return new NeonDbError(`Server error (HTTP status ${response.status}): ${text}`);
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
