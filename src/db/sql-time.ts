import { type SQL, sql } from "drizzle-orm";

/** A timestamptz column as the API writes it (ISO 8601, UTC, milliseconds), formatted in SQL. */
export const isoOf = (column: string): SQL => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/** A timestamptz to the microsecond, for keyset cursors (a Date would lose the last three digits). */
export const exactOf = (column: string): SQL => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
