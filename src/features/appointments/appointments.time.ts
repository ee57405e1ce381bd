import { wallClock } from "#src/lib/timezone.ts";

/**
 * Instants on the wire: UTC ISO 8601 (`…Z`) for the record, and the same instant as a wall-clock
 * time with its offset in the patient's timezone (`2026-12-03T10:00:00+01:00`), which is what a
 * reminder or a front desk reads out.
 */
const pad = (value: number, width = 2) => String(Math.abs(value)).padStart(width, "0");

/** `instant` as local time in `timeZone`, with that zone's offset at that instant. */
export function localIso(instant: Date, timeZone: string): string {
  const wall = wallClock(instant, timeZone);
  const offsetMinutes = Math.round((wall.getTime() - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const offset = `${sign}${pad(Math.trunc(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
  return `${wall.toISOString().slice(0, 19)}${offset}`;
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
