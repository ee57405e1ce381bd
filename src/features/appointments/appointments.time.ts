/**
 * Instants on the wire: UTC ISO 8601 (`…Z`) for the record, and the same instant as a wall-clock
 * time with its offset in the patient's timezone (`2026-12-03T10:00:00+01:00`), which is what a
 * reminder or a front desk reads out.
 */
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

const pad = (value: number, width = 2) => String(Math.abs(value)).padStart(width, "0");

/** `instant` as local time in `timeZone`, with that zone's offset at that instant. */
export function localIso(instant: Date, timeZone: string): string {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = fields;
  const wallClockAsUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const offsetMinutes = Math.round((wallClockAsUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const offset = `${sign}${pad(Math.trunc(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}${offset}`;
}

/**
 * A timestamptz as Postgres writes it, in a row or in jsonb (`2026-12-03 09:00:00.123456+00`,
 * `2026-12-03T09:00:00.123456+00:00`), as a Date (milliseconds kept, microseconds dropped).
 */
export function parseInstant(value: string): Date {
  const iso = value
    .trim()
    .replace(" ", "T")
    .replace(/(\.\d{3})\d+/, "$1")
    .replace(/([+-]\d{2})$/, "$1:00");
  return new Date(iso);
}
