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
