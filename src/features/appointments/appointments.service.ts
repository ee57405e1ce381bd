import { z } from "zod";
import { firstRow, rowsOf } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { type BookingInput, BookingOutcome, bookAppointments } from "#src/features/appointments/appointments.booking.repo.ts";
import {
  fieldError,
  lostBookingRace,
  NoSuchAppointment,
  NoSuchPatient,
  OutsideWorkingHours,
  SlotTaken,
  SlotTakenConcurrently,
  StatusForbids,
} from "#src/features/appointments/appointments.errors.ts";
import { type AppointmentChanges, RescheduleOutcome, rescheduleAppointment } from "#src/features/appointments/appointments.reschedule.repo.ts";
import {
  AppointmentJsonRow,
  type ListFilters,
  listAppointments,
  readAppointment,
  type Transition,
  TransitionOutcome,
  transitionAppointment,
} from "#src/features/appointments/appointments.repo.ts";
import { type AppointmentView, appointmentView } from "#src/features/appointments/appointments.view.ts";
import { actorOf, auditInsert } from "#src/lib/audit.ts";
import { timestamp } from "#src/lib/text.ts";
import { decodeCursor, pageOf } from "#src/lib/cursor.ts";
import type { Deps } from "#src/lib/deps.ts";
import { Forbidden } from "#src/lib/errors.ts";
import { expectedVersion, PreconditionFailed } from "#src/lib/etag.ts";
import { publishEvents } from "#src/lib/events.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export type AppointmentDeps = Pick<Deps, "db" | "origin" | "jobs" | "defer" | "logger">;

/** Owners and admins may book outside a clinician's working hours; nobody else, no key. */
const mayOverrideHours = (auth: AuthContext) => auth.kind === "user" && (auth.role === "owner" || auth.role === "admin");

/**
 * A clinician books and moves their own sessions; booking a colleague's calendar is the front
 * desk's (staff) or a manager's. The refusal is audited (one statement) before the 403.
 */
async function assertOwnCalendar(deps: AppointmentDeps, auth: AuthContext, clinicianId: string | undefined, operation: string) {
  if (auth.role !== "clinician" || clinicianId === undefined || clinicianId === auth.userId) return;
  await auditInsert(deps.db, deps.origin, {
    action: "access.denied",
    organizationId: auth.organizationId,
    ...actorOf(auth),
    targetType: "operation",
    targetId: operation,
    metadata: { reason: "clinician_books_own_calendar" },
  });
  throw Forbidden("A clinician books their own sessions: ask the front desk to book a colleague.");
}

/** A clinician who may see a colleague's session (a shared patient) may still not change it. */
const ForeignCalendar = () => Forbidden("A clinician changes only their own sessions: ask the front desk to change a colleague's.");

/**
 * Runs a booking statement; when it lost a race to a concurrent overlapping booking (the
 * exclusion constraint's 23P01, or a deadlock between two overlapping inserts), runs it once
 * more: its pre-check then sees the winner and answers the 409 with the id. Only the race pays
 * the second round trip.
 */
async function withRaceRetry<T>(statement: () => Promise<T>): Promise<T> {
  try {
    return await statement();
  } catch (error) {
    if (!lostBookingRace(error)) throw error;
  }
  try {
    return await statement();
  } catch (error) {
    if (lostBookingRace(error)) throw SlotTakenConcurrently();
    throw error;
  }
}

/** The list's query: the repository's filters, with the cursor still encoded. */
export type ListInput = Omit<ListFilters, "after"> & { cursor?: string };

const CursorPosition = z.object({ s: timestamp(), i: z.uuid() });

export async function listAppointmentsFor(deps: AppointmentDeps, auth: AuthContext, input: ListInput) {
  const position = decodeCursor(input.cursor, CursorPosition);
  const { cursor, ...filters } = input;
  void cursor;
  const result = await listAppointments(scoped(deps.db, auth.organizationId), deps.origin, auth, {
    ...filters,
    ...(position ? { after: { startsAt: position.s, id: position.i } } : {}),
  });
  const rows = rowsOf(AppointmentJsonRow, result).map((row) => row.appointment);
  return pageOf(rows, input.limit, appointmentView, (row) => ({ s: row.cursor_at, i: row.id }));
}

export async function getAppointment(deps: AppointmentDeps, auth: AuthContext, id: string): Promise<AppointmentView> {
  const row = firstRow(AppointmentJsonRow, await readAppointment(scoped(deps.db, auth.organizationId), deps.origin, auth, id));
  if (!row) throw NoSuchAppointment();
  return appointmentView(row.appointment);
}

export interface BookingRequest {
  patientId: string;
  clinicianId: string;
  startsAt: string;
  endsAt: string;
  kind: "in_person" | "telehealth";
  location?: string | undefined;
  videoUrl?: string | undefined;
  reason?: string | undefined;
  recurrence?: { frequency: "weekly"; count: number } | undefined;
  overrideWorkingHours?: boolean | undefined;
}

/** Books one appointment or a whole weekly series, all or nothing, in one statement. */
export async function bookAppointment(deps: AppointmentDeps, auth: AuthContext, request: BookingRequest): Promise<AppointmentView & { occurrences?: AppointmentView[] }> {
  await assertOwnCalendar(deps, auth, request.clinicianId, "createAppointment");
  const count = request.recurrence?.count ?? 1;
  const input: BookingInput = {
    patientId: request.patientId,
    clinicianId: request.clinicianId,
    startsAt: request.startsAt,
    endsAt: request.endsAt,
    kind: request.kind,
    location: request.location ?? null,
    videoUrl: request.videoUrl ?? null,
    reason: request.reason ?? null,
    ids: Array.from({ length: count }, () => uuidv7()),
    seriesId: count > 1 ? uuidv7() : null,
    override: request.overrideWorkingHours === true && mayOverrideHours(auth),
  };
  const scope = scoped(deps.db, auth.organizationId);
  const outcome = firstRow(BookingOutcome, await withRaceRetry(() => bookAppointments(scope, deps.origin, auth, input)));
  if (!outcome?.patient_found) throw NoSuchPatient();
  if (!outcome.patient_open) throw fieldError("body.patientId", "is discharged: book only for an active or inactive patient");
  if (!outcome.clinician_ok) throw fieldError("body.clinicianId", "is not a member of this organization with the clinician role");
  if (!outcome.hours_ok) throw OutsideWorkingHours(outcome.outside, mayOverrideHours(auth));
  if (!outcome.free) throw SlotTaken(outcome.conflicts);
  publishEvents(deps, auth.organizationId, outcome.event_ids);
  const views = outcome.created.map(appointmentView);
  const [first] = views;
  if (!first) throw new Error("the booking statement booked nothing");
  return count > 1 ? { ...first, occurrences: views } : first;
}

export interface PatchRequest extends AppointmentChanges {
  overrideWorkingHours?: boolean | undefined;
}

/** Reschedules or edits a live appointment in one statement; If-Match, when sent, must be current. */
export async function updateAppointment(deps: AppointmentDeps, auth: AuthContext, id: string, request: PatchRequest, ifMatch: string | undefined): Promise<AppointmentView> {
  const expected = ifMatch === undefined ? null : expectedVersion(ifMatch);
  await assertOwnCalendar(deps, auth, request.clinicianId, "updateAppointment");
  const { overrideWorkingHours, ...fields } = request;
  const changes = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as AppointmentChanges;
  const scope = scoped(deps.db, auth.organizationId);
  const input = { id, changes, expectedVersion: expected, override: overrideWorkingHours === true && mayOverrideHours(auth) };
  const outcome = firstRow(RescheduleOutcome, await withRaceRetry(() => rescheduleAppointment(scope, deps.origin, auth, input)));
  if (!outcome?.found) throw NoSuchAppointment();
  if (outcome.foreign_calendar) throw ForeignCalendar();
  if (!outcome.fresh) throw PreconditionFailed();
  if (!outcome.open && outcome.current_status) throw StatusForbids(outcome.current_status, "changed");
  if (!outcome.range_ok) throw fieldError("body.endsAt", "must be after startsAt and at most 24 hours after it");
  if (!outcome.kind_ok) {
    const path = changes.videoUrl ? "body.videoUrl" : changes.location ? "body.location" : "body.kind";
    throw fieldError(path, "does not fit the appointment's kind: a location is for in_person, a videoUrl for telehealth");
  }
  if (!outcome.clinician_ok) throw fieldError("body.clinicianId", "is not a member of this organization with the clinician role");
  if (!outcome.hours_ok) throw OutsideWorkingHours(outcome.outside, mayOverrideHours(auth));
  if (!outcome.free) throw SlotTaken(outcome.conflicts);
  if (!outcome.appointment) throw new Error("the reschedule statement changed nothing");
  publishEvents(deps, auth.organizationId, outcome.event_ids);
  return appointmentView(outcome.appointment);
}

export type TransitionVerb = "confirm" | "complete" | "no-show" | "cancel";

/** The status machine: scheduled → confirmed → completed or no_show; scheduled or confirmed → cancelled. */
const TRANSITIONS: Record<TransitionVerb, Transition & { past: string }> = {
  confirm: { from: ["scheduled"], to: "confirmed", stamp: "confirmed_at", event: "appointment.updated", action: "appointment.confirmed", past: "confirmed" },
  complete: { from: ["confirmed"], to: "completed", stamp: "completed_at", event: "appointment.updated", action: "appointment.completed", past: "completed" },
  "no-show": { from: ["confirmed"], to: "no_show", stamp: null, event: "appointment.updated", action: "appointment.no_show", past: "marked a no-show" },
  cancel: { from: ["scheduled", "confirmed"], to: "cancelled", stamp: "cancelled_at", event: "appointment.cancelled", action: "appointment.cancelled", past: "cancelled" },
};

export async function changeAppointmentStatus(deps: AppointmentDeps, auth: AuthContext, id: string, verb: TransitionVerb, cancelReason?: string): Promise<AppointmentView> {
  const step = TRANSITIONS[verb];
  const result = await transitionAppointment(scoped(deps.db, auth.organizationId), deps.origin, auth, id, step, cancelReason);
  const outcome = firstRow(TransitionOutcome, result);
  if (!outcome?.current_status) throw NoSuchAppointment();
  if (outcome.foreign_calendar) throw ForeignCalendar();
  if (!outcome.appointment) throw StatusForbids(outcome.current_status, step.past);
  publishEvents(deps, auth.organizationId, outcome.event_ids);
  return appointmentView(outcome.appointment);
}
