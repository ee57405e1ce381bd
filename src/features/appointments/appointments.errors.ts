import { NeonDbError } from "#src/db/neon-errors.ts";
import { type AppointmentStatus } from "#src/db/schema/index.ts";
import { Conflict, NotFound, ProblemError, ValidationFailed } from "#src/lib/errors.ts";

/** The SQLSTATE of a database failure, wherever drizzle wrapped the driver's error. */
export function sqlStateOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof NeonDbError) return current.code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A booking that lost a race: the exclusion constraints (23P01) refused an overlap the pre-check
 * could not see yet, or two overlapping inserts waited on each other (40P01, the deadlock
 * detector's pick). Re-running the statement then sees the winner.
 */
export const lostBookingRace = (error: unknown): boolean => {
  const state = sqlStateOf(error);
  return state === "23P01" || state === "40P01";
};

export interface Clash {
  startsAt: string;
  with: "clinician" | "patient";
  appointmentId?: string;
}

export function SlotTaken(conflicts: Clash[]) {
  const dates = [...new Set(conflicts.map((clash) => clash.startsAt))];
  const detail =
    dates.length > 1
      ? `${dates.length} occurrences clash with live appointments of the clinician or the patient: nothing was booked.`
      : "The clinician or the patient already has an appointment at that time.";
  return Conflict(detail, { extensions: { conflicts: conflicts.map((clash) => ({ ...clash, startsAt: new Date(clash.startsAt).toISOString() })) } });
}

/** Lost a race and the second look found nothing it may name either. */
export const SlotTakenConcurrently = () =>
  Conflict("The clinician or the patient was booked at that time by a concurrent request.", { extensions: { conflicts: [] } });

export const StatusForbids = (status: AppointmentStatus, attempt: string) =>
  Conflict(`The appointment is ${status.replace("_", "-")}: it cannot be ${attempt}.`, { extensions: { currentStatus: status } });

export const NoSuchAppointment = () => NotFound("No such appointment.");
export const NoSuchPatient = () => NotFound("No such patient.");

export const fieldError = (path: string, message: string) => ValidationFailed([{ path, message }]);

export function OutsideWorkingHours(startsAt: string[], canOverride: boolean) {
  const when = startsAt.length > 1 ? `${startsAt.length} occurrences fall` : "The appointment falls";
  const remedy = canOverride ? "send overrideWorkingHours: true to book it anyway" : "only an owner or admin can override them";
  const base = ValidationFailed([{ path: "body.startsAt", message: `${when} outside the clinician's working hours: ${remedy}` }]);
  const outsideHours = startsAt.map((instant) => new Date(instant).toISOString());
  return new ProblemError({ status: base.status, slug: base.slug, title: base.title, detail: base.detail, errors: base.errors, extensions: { outsideHours } });
}
