/**
 * Weekly working hours in a clinician's own time zone, turned into instants. Pure: no I/O, only
 * Intl, so the appointments feature can check a booking and availability can cut free slots with
 * the same DST-correct arithmetic.
 *
 * An interval is { weekday: 1..7 (ISO, Monday = 1), start: "HH:MM", end: "HH:MM" } with
 * start < end; end may be "24:00" (midnight at the end of that day), so a night shift is two
 * intervals (Mon 22:00–24:00, Tue 00:00–06:00) that meet and count as one range.
 */

export interface WorkingInterval {
  weekday: number;
  start: string;
  end: string;
}

export interface InstantRange {
  start: Date;
  end: Date;
}

const DAY_MS = 86_400_000;
/** Longest range expanded at once (a booking or an availability query is far shorter). */
const MAX_EXPANDED_DAYS = 400;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    if (formatters.size >= 500) formatters.clear();
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(instantMs: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** The zone's offset from UTC at an instant, in milliseconds (Berlin in summer: +7_200_000). */
export function offsetAt(instantMs: number, timeZone: string): number {
  const p = localParts(instantMs, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (instantMs - (((instantMs % 1000) + 1000) % 1000));
}

/**
 * The instant at which a wall-clock time occurs in a zone. `minutes` counts from the local
 * midnight of the date and may reach 1440 (the next midnight). Disambiguates as Postgres's
 * `timestamp … at time zone` does, so this and the booking check in SQL (appointments.sql.ts)
 * agree to the minute: a time skipped by a spring-forward gap takes the offset before the change
 * (02:30 on Berlin's spring day is 03:30 CEST); a time repeated by a fall-back overlap takes the
 * offset after it (02:30 on Berlin's autumn day is 02:30 CET, the later of its two instants).
 */
export function localToUtc(year: number, month: number, day: number, minutes: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  if (offsetAt(wall - after, timeZone) === after) return new Date(wall - after);
  return new Date(wall - before);
}

/** "HH:MM" (00:00–24:00) as minutes since midnight, or null. */
export function minutesOf(hhmm: string): number | null {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(hhmm);
  if (match === null) return null;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return minutes <= 1440 ? minutes : null;
}

/** ISO weekday (Monday = 1 … Sunday = 7) of a calendar date. */
function isoWeekday(year: number, month: number, day: number): number {
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return weekday === 0 ? 7 : weekday;
}

/**
 * The working-hours ranges, as instants, that touch [from, to): each local day's intervals
 * converted through the zone (so a 09:00 start is 08:00Z in winter and 07:00Z in summer in
 * Berlin), sorted, with touching or overlapping ranges merged, and clipped to [from, to).
 */
export function expandWorkingHours(
  intervals: readonly WorkingInterval[],
  timeZone: string,
  from: Date,
  to: Date,
): InstantRange[] {
  const fromMs = from.getTime();
  const toMs = to.getTime();
  if (!(toMs > fromMs) || (toMs - fromMs) / DAY_MS > MAX_EXPANDED_DAYS) return [];
  const first = localParts(fromMs - DAY_MS, timeZone);
  const last = localParts(toMs + DAY_MS, timeZone);
  const lastDay = Date.UTC(last.year, last.month - 1, last.day);
  const ranges: Array<[number, number]> = [];
  for (let date = Date.UTC(first.year, first.month - 1, first.day); date <= lastDay; date += DAY_MS) {
    const d = new Date(date);
    const [year, month, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
    const weekday = isoWeekday(year, month, day);
    for (const interval of intervals) {
      if (interval.weekday !== weekday) continue;
      const startMin = minutesOf(interval.start);
      const endMin = minutesOf(interval.end);
      if (startMin === null || endMin === null || startMin >= endMin) continue;
      const start = Math.max(localToUtc(year, month, day, startMin, timeZone).getTime(), fromMs);
      const end = Math.min(localToUtc(year, month, day, endMin, timeZone).getTime(), toMs);
      if (end > start) ranges.push([start, end]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const range of ranges) {
    const previous = merged.at(-1);
    if (previous !== undefined && range[0] <= previous[1]) previous[1] = Math.max(previous[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged.map(([start, end]) => ({ start: new Date(start), end: new Date(end) }));
}

/**
 * Whether [startsAt, endsAt) lies wholly inside the clinician's working hours. No working hours
 * set (null, undefined or an empty list) means no restriction: true. An empty or inverted range,
 * or one longer than 400 days, is false. `timezone` must be an IANA zone the runtime knows (PUT
 * working-hours checks it); Intl throws a RangeError otherwise.
 */
export function withinWorkingHours(
  intervals: readonly WorkingInterval[] | null | undefined,
  timezone: string,
  startsAt: Date,
  endsAt: Date,
): boolean {
  if (!(endsAt.getTime() > startsAt.getTime())) return false;
  if (intervals === null || intervals === undefined || intervals.length === 0) return true;
  const ranges = expandWorkingHours(intervals, timezone, startsAt, endsAt);
  return (
    ranges.length === 1 &&
    ranges[0]?.start.getTime() === startsAt.getTime() &&
    ranges[0]?.end.getTime() === endsAt.getTime()
  );
}
