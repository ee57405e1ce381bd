import { z } from "@hono/zod-openapi";

/**
 * Time zones are stored as the runtime's canonical IANA name, and only names of real zones are
 * taken: `Intl.supportedValuesOf("timeZone")` (plus UTC). ICU also accepts offset "zones" such as
 * `+05:00` (UTC+5 to JavaScript but POSIX UTC−5 to Postgres) and links that tzdata has since
 * dropped (`US/Pacific-New`, unknown to Postgres): either would make the Worker and the database
 * disagree about the same local time, so they are refused, and a link is stored as the zone it
 * names (`Asia/Kolkata` as ICU's `Asia/Calcutta`), which Postgres knows under both.
 */
let supported: ReadonlySet<string> | undefined;
const supportedZones = (): ReadonlySet<string> => (supported ??= new Set([...Intl.supportedValuesOf("timeZone"), "UTC"]));

/** The canonical name of a zone the runtime and Postgres agree on, or null. */
export function canonicalTimeZone(name: string): string | null {
  if (name.length === 0 || name.length > 64) return null;
  try {
    const canonical = new Intl.DateTimeFormat("en", { timeZone: name }).resolvedOptions().timeZone;
    const zone = canonical === "Etc/UTC" || canonical === "Etc/GMT" || canonical === "GMT" ? "UTC" : canonical;
    return supportedZones().has(zone) ? zone : null;
  } catch {
    return null;
  }
}

/** Whether the name is a real IANA zone (see canonicalTimeZone). */
export function isTimeZone(name: string): boolean {
  return canonicalTimeZone(name) !== null;
}

export const TimeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, "is not an IANA time zone name (such as Europe/Berlin or America/New_York)")
  .overwrite((name) => canonicalTimeZone(name) ?? name)
  .openapi({ example: "Europe/Berlin" });

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    // Zone names come from validated rows: a handful per deployment, so the cache stays small.
    if (formatters.size < 500) formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall clock in `timeZone` at `instant` (whole seconds), as UTC fields: Date arithmetic on it is plain. */
export function wallClock(instant: Date, timeZone: string): Date {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = fields;
  // setUTCFullYear, not Date.UTC: that one reads years 0 to 99 as 1900 to 1999.
  const wall = new Date(0);
  wall.setUTCFullYear(year, month - 1, day);
  wall.setUTCHours(hour, minute, second);
  return wall;
}
