import { NeonDbError } from "@neondatabase/serverless";
import { Conflict, type ProblemError, ServiceUnavailable } from "#src/lib/errors.ts";

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
