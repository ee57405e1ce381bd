import { firstRow } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { expandWorkingHours, type InstantRange, offsetAt } from "#src/features/clinicians/clinicians.hours.ts";
import { AvailabilityRow, availabilityRow } from "#src/features/clinicians/clinicians.repo.ts";
import type { Deps } from "#src/lib/deps.ts";
import { NotFound } from "#src/lib/errors.ts";
import { isTimeZone } from "#src/lib/timezone.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

const MINUTE_MS = 60_000;
export const MAX_SLOTS = 3000;

export interface Slot {
  start: string;
  end: string;
  localStart: string;
}

export interface SlotQuery {
  clinicianId: string;
  from: string;
  to: string;
  duration: number;
  step?: number | undefined;
}

/** An instant as ISO 8601 in a zone, with that zone's offset then: 2027-03-29T09:00:00+02:00. */
export function localIso(instant: Date, timeZone: string): string {
  const offsetMinutes = Math.round(offsetAt(instant.getTime(), timeZone) / MINUTE_MS);
  const local = new Date(instant.getTime() + offsetMinutes * MINUTE_MS).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/**
 * Slots of `durationMs` every `stepMs` inside each free range, counted from the range's working
 * start (so 09:00, 09:30, … rather than from whenever `from` falls), skipping any that touch a
 * busy range. Working ranges come unclipped, so a window opened mid-shift keeps the shift's grid.
 */
export function cutSlots(
  working: InstantRange[],
  busy: Array<[number, number]>,
  window: { from: number; to: number },
  durationMs: number,
  stepMs: number,
  limit = MAX_SLOTS,
): { slots: Array<[number, number]>; truncated: boolean } {
  const slots: Array<[number, number]> = [];
  let b = 0;
  for (const range of working) {
    const rangeEnd = Math.min(range.end.getTime(), window.to);
    let start = range.start.getTime();
    if (start < window.from) start += Math.ceil((window.from - start) / stepMs) * stepMs;
    for (; start + durationMs <= rangeEnd; start += stepMs) {
      const end = start + durationMs;
      while (b < busy.length && (busy[b]?.[1] ?? 0) <= start) b++;
      // busy is sorted by start; a later one could end earlier, so look on while they may overlap
      let clash = false;
      for (let i = b; i < busy.length && (busy[i]?.[0] ?? Infinity) < end; i++) {
        if ((busy[i]?.[1] ?? 0) > start) {
          clash = true;
          break;
        }
      }
      if (clash) continue;
      if (slots.length === limit) return { slots, truncated: true };
      slots.push([start, end]);
    }
  }
  return { slots, truncated: false };
}

/**
 * Free slots of one clinician: one SQL statement (working hours and live appointments), then pure
 * arithmetic. No working hours set: the whole window counts as working time, on a grid of `step`
 * from the Unix epoch (whole hours and quarters in whole-hour zones), as bookings are not
 * restricted then either.
 */
export async function availability(deps: Pick<Deps, "db">, auth: AuthContext, query: SlotQuery) {
  const from = new Date(query.from);
  const to = new Date(query.to);
  const row = firstRow(AvailabilityRow, await availabilityRow(scoped(deps.db, auth.organizationId), query.clinicianId, from, to));
  if (!row) throw NotFound("No such clinician.");
  const durationMs = query.duration * MINUTE_MS;
  const step = query.step ?? query.duration;
  const stepMs = step * MINUTE_MS;
  const intervals = row.intervals ?? [];
  // a zone this runtime's ICU does not know (stored before it was checked) reads as UTC
  const timezone = isTimeZone(row.timezone) ? row.timezone : "UTC";
  const workingHoursSet = row.updated_at !== null && intervals.length > 0;
  const day = 86_400_000;
  const working = workingHoursSet
    ? expandWorkingHours(intervals, timezone, new Date(from.getTime() - day), new Date(to.getTime() + day))
    : [{ start: new Date(Math.floor(from.getTime() / stepMs) * stepMs), end: to }];
  const { slots, truncated } = cutSlots(working, row.busy, { from: from.getTime(), to: to.getTime() }, durationMs, stepMs);
  return {
    clinicianId: row.user_id,
    timezone,
    from: from.toISOString(),
    to: to.toISOString(),
    duration: query.duration,
    step,
    workingHoursSet,
    truncated,
    slots: slots.map(([start, end]) => ({
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      localStart: localIso(new Date(start), timezone),
    })),
  };
}
