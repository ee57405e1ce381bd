import { NeonDbError } from "#src/db/neon-errors.ts";
import { Conflict, type ProblemError, ServiceUnavailable, UnprocessableInput } from "#src/lib/errors.ts";

/** The driver's error, wherever drizzle wrapped it. */
function findNeonError(error: unknown): NeonDbError | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof NeonDbError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Maps a database failure to the problem the caller should see, or undefined for a bug (500).
 * Unreachable or slow databases are the caller's to retry; no SQL text ever leaves this function.
 */
export function problemForDbError(error: unknown): ProblemError | undefined {
  const neonError = findNeonError(error);
  if (!neonError) return undefined;
  switch (neonError.code) {
    case undefined:
      return ServiceUnavailable("The database is unavailable.");
    case "23505":
      return Conflict("A record with the same unique value already exists.");
    case "23P01":
      return Conflict("This conflicts with an existing record.");
    // A reference to a row that a concurrent change removed (a membership ended between the
    // token's check and the write): the state changed under the request, not a server fault.
    case "23503":
      return Conflict("The change refers to a record that no longer exists.");
    // Input the database cannot take (NUL bytes, bad encodings, out-of-range or oversized values,
    // malformed literals): the caller's to fix, never a 500. The field schemas refuse most of it
    // first; this is the net under them.
    case "22001":
    case "22003":
    case "22007":
    case "22008":
    case "22009":
    case "22021":
    case "22023":
    case "22025":
    case "2202E":
    case "22P02":
    case "22P05":
    case "54000":
    case "54001":
      return UnprocessableInput("The request holds a value the database cannot store: check for control characters, invalid text or values out of range.");
    case "40001":
    case "40P01":
      return ServiceUnavailable("The database could not serialize this change; retry it.", 1);
    case "53300":
    case "57P01":
    case "57P03":
      return ServiceUnavailable("The database is unavailable.");
    default:
      return undefined;
  }
}
