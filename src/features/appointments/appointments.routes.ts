import {
  AppointmentCreateSchema,
  AppointmentListSchema,
  AppointmentPatchSchema,
  AppointmentSchema,
  BookingSchema,
  CancelSchema,
  ConflictSchema,
  IdParam,
  ListQuery,
} from "#src/features/appointments/appointments.schemas.ts";
import { IfMatchHeader } from "#src/lib/etag.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { problemResponseSpec } from "#src/lib/problem.ts";
import { defineRoute } from "#src/lib/route.ts";

const tags: ["Appointments"] = ["Appointments"];

const ETAG_HEADER = { ETag: { description: 'The version, for If-Match (e.g. `"2"`)', schema: { type: "string" as const, maxLength: 16 } } };

const withEtag = (description: string) => ({ ...jsonResponse(description, AppointmentSchema), headers: ETAG_HEADER });

const slotTaken = problemResponseSpec(409, {
  description: "The slot is taken (every clashing occurrence is listed), or the appointment's status forbids the change",
  schema: ConflictSchema,
  example: {
    detail: "The clinician or the patient already has an appointment at that time.",
    instance: "/api/v1/appointments",
    conflicts: [{ startsAt: "2026-12-10T09:00:00.000Z", with: "clinician", appointmentId: "0193a5c2-7d1e-7b3a-9f00-2c4d6e8f0a1b" }],
  },
});

const statusConflict = problemResponseSpec(409, {
  description: "The appointment's status does not allow this change (the current one is named), or the new time is taken",
  schema: ConflictSchema,
  example: { detail: "The appointment is completed: it cannot be cancelled.", instance: "/api/v1/appointments/0193a5c2-7d1e-7b3a-9f00-2c4d6e8f0a1b/cancel", currentStatus: "completed" },
});

export const list = defineRoute({
  method: "get",
  path: "/appointments",
  operationId: "listAppointments",
  tags,
  summary: "Appointments the caller may see, in time order",
  description:
    "Filters: from (ending after), to (starting before), clinicianId, patientId, status. Keyset pages on (startsAt, id): pass nextCursor back until it is null. A clinician sees their care-team patients' and their own appointments, a caregiver their care-team patients', a patient their own.",
  permission: "appointments:read",
  phi: true,
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of appointments", AppointmentListSchema) },
});

export const create = defineRoute({
  method: "post",
  path: "/appointments",
  operationId: "createAppointment",
  tags,
  summary: "Book an appointment, or a weekly series of up to 52, all or nothing",
  description:
    "Never double-books: an overlap with a live (scheduled or confirmed) appointment of the clinician or of the patient is a 409 listing every clashing occurrence, with the id of the appointment in the way when the caller may see it; the database's exclusion constraints hold the same line under concurrent bookings. Outside the clinician's working hours is a 422, unless an owner or admin sends overrideWorkingHours. A clinician books their own sessions.",
  permission: "appointments:write",
  create: true,
  phi: true,
  problems: [404],
  request: { body: jsonBody(AppointmentCreateSchema) },
  responses: { 201: { ...jsonResponse("Booked: the appointment (and for a series, every occurrence)", BookingSchema), headers: ETAG_HEADER }, 409: slotTaken },
});

export const getOne = defineRoute({
  method: "get",
  path: "/appointments/{id}",
  operationId: "getAppointment",
  tags,
  summary: "One appointment",
  description: "404 for an appointment outside the caller's reach, exactly as for a missing one.",
  permission: "appointments:read",
  phi: true,
  problems: [404],
  request: { params: IdParam },
  responses: { 200: withEtag("The appointment") },
});

export const patch = defineRoute({
  method: "patch",
  path: "/appointments/{id}",
  operationId: "updateAppointment",
  tags,
  summary: "Reschedule or edit a scheduled or confirmed appointment",
  description:
    "Changes startsAt/endsAt (startsAt alone keeps the duration), clinicianId, kind, location, videoUrl or reason. A new time keeps the no-double-booking guarantee (409) and the working-hours rule (422), and sends a confirmed appointment back to scheduled. If-Match is optional here; when sent, a stale one is a 412.",
  permission: "appointments:write",
  phi: true,
  problems: [404, 412],
  request: { params: IdParam, headers: IfMatchHeader, body: jsonBody(AppointmentPatchSchema) },
  responses: { 200: withEtag("The appointment as changed"), 409: statusConflict },
});

const transition = (verb: "confirm" | "complete" | "no-show", operationId: string, summary: string) =>
  defineRoute({
    method: "post",
    path: `/appointments/{id}/${verb}`,
    operationId,
    tags,
    summary,
    description: "Status machine: scheduled → confirmed → completed or no_show; scheduled or confirmed → cancelled. Any other transition is a 409 naming the current status.",
    permission: "appointments:write",
    phi: true,
    problems: [404],
    request: { params: IdParam },
    responses: { 200: withEtag("The appointment in its new status"), 409: statusConflict },
  });

export const confirm = transition("confirm", "confirmAppointment", "Confirm a scheduled appointment");
export const complete = transition("complete", "completeAppointment", "Mark a confirmed appointment completed");
export const noShow = transition("no-show", "markAppointmentNoShow", "Mark a confirmed appointment a no-show");

export const cancel = defineRoute({
  method: "post",
  path: "/appointments/{id}/cancel",
  operationId: "cancelAppointment",
  tags,
  summary: "Cancel a scheduled or confirmed appointment, with a reason",
  description: "Frees the slot at once. Any other status is a 409 naming it.",
  permission: "appointments:write",
  phi: true,
  problems: [404],
  request: { params: IdParam, body: jsonBody(CancelSchema) },
  responses: { 200: withEtag("The cancelled appointment"), 409: statusConflict },
});
