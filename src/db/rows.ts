import type { z } from "zod";

/**
 * Rows of a raw `db.execute(sql…)` statement, checked against a zod schema instead of trusted: a
 * renamed column, or a type the driver returns differently (Neon's HTTP driver gives bigint as a
 * string, timestamps as strings, json as objects), fails here rather than flowing on. Columns the
 * schema does not name are dropped. Declare the schema next to its SQL; check where the result is
 * consumed, so a repo can still hand its statement un-awaited to a `db.batch`.
 */

/**
 * A row that does not match its schema: a bug (500 through `onError`). The message names the
 * columns only, never a value: rows can hold PHI and secrets, and errors reach logs and reports.
 */
export class RowShapeError extends Error {
  readonly columns: string[];
  constructor(columns: string[]) {
    super(`a database row did not match its schema: ${columns.join(", ")}`);
    this.name = "RowShapeError";
    this.columns = columns;
  }
}

interface QueryResult {
  rows: readonly unknown[];
}

function checked<S extends z.ZodType>(schema: S, row: unknown): z.output<S> {
  const parsed = schema.safeParse(row);
  if (parsed.success) return parsed.data;
  const columns = parsed.error.issues.map((issue) => (issue.path.length > 0 ? issue.path.map(String).join(".") : "(row)"));
  // The zod error itself is not kept as the cause: its messages may quote what was received.
  throw new RowShapeError([...new Set(columns)].sort());
}

/** Every row, checked. */
export function rowsOf<S extends z.ZodType>(schema: S, result: QueryResult): z.output<S>[] {
  return result.rows.map((row) => checked(schema, row));
}

/** The first row, checked, or undefined when the statement returned none. */
export function firstRow<S extends z.ZodType>(schema: S, result: QueryResult): z.output<S> | undefined {
  const [row] = result.rows;
  return row === undefined ? undefined : checked(schema, row);
}
