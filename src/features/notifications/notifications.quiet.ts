import { wallClock } from "#src/lib/timezone.ts";
import { z } from "zod";

/** A recipient's quiet hours as the sender reads them (notifications.prefs.ts, quietHoursOf). */
export const QuietHours = z.object({ enabled: z.boolean(), start: z.string(), end: z.string(), timezone: z.string() });
export type QuietHours = z.infer<typeof QuietHours>;

const minutesOf = (hhmm: string): number => {
  const [hours, minutes] = hhmm.split(":").map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
};


/** The instant whose wall clock in `timeZone` is `wall` (the later one in a fall-back hour; a skipped one moves forward). */
function instantOf(wall: Date, timeZone: string): Date {
  let guess = new Date(wall.getTime());
  for (let pass = 0; pass < 2; pass++) {
    const offset = wallClock(guess, timeZone).getTime() - guess.getTime();
    guess = new Date(wall.getTime() - offset);
  }
  return guess;
}

/**
 * When the recipient's quiet hours end, if `now` falls inside them; null otherwise. Quiet hours
 * may wrap midnight (22:00–07:00); equal start and end means none. An unknown zone counts as UTC.
 */
export function quietUntil(now: Date, quiet: QuietHours): Date | null {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (!quiet.enabled || start === end) return null;
  let timeZone = quiet.timezone;
  let wall: Date;
  try {
    wall = wallClock(now, timeZone);
  } catch {
    timeZone = "UTC";
    wall = wallClock(now, timeZone);
  }
  const minute = wall.getUTCHours() * 60 + wall.getUTCMinutes();
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return null;
  const endWall = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate(), Math.floor(end / 60), end % 60));
  if (minute >= end) endWall.setUTCDate(endWall.getUTCDate() + 1);
  const until = instantOf(endWall, timeZone);
  return until > now ? until : new Date(now.getTime() + 60_000);
}
