/**
 * The errors of the Neon SQL-over-HTTP protocol (src/db/neon-http.ts), as the driver shapes them:
 * a 400 carries Postgres's fields, anything else is an error without a code.
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

export function connectionError(error: unknown): NeonDbError {
  const wrapped = new NeonDbError(`Error connecting to database: ${String(error)}`);
  wrapped.sourceError = error;
  return wrapped;
}

/** The error for a failed answer: Postgres's fields from a 400, else a server error. */
export async function errorOf(response: Response, text: string): Promise<NeonDbError> {
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
