import {
  PatientIdParam,
  ScheduleCreateSchema,
  ScheduleIdParam,
  ScheduleListQuery,
  ScheduleListSchema,
  SchedulePatchSchema,
  ScheduleSchema,
} from "#src/features/schedules/schedules.schemas.ts";
import { IfMatchHeader } from "#src/lib/etag.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";

const tags: ["Schedules"] = ["Schedules"];

const ETAG = { ETag: { description: 'The version to send back in If-Match (e.g. `"2"`)', schema: { type: "string" as const, maxLength: 16 } } };
const LOCATION = { Location: { description: "The new schedule's URL", schema: { type: "string" as const, maxLength: 100 } } };

const REACH =
  "Writers: owners, admins and clinicians on the patient's care team; caregivers on the care team and the patient read. A patient or schedule outside the caller's reach is a 404.";

export const list = defineRoute({
  method: "get",
  path: "/patients/{id}/schedules",
  operationId: "listPatientSchedules",
  tags,
  summary: "A patient's schedules, oldest first",
  description: `Filters: active, kind. Keyset pages: pass nextCursor back as cursor until it is null. Deleted schedules are not listed. ${REACH}`,
  permission: "schedules:read",
  phi: true,
  problems: [404],
  request: { params: PatientIdParam, query: ScheduleListQuery },
  responses: { 200: jsonResponse("A page of schedules", ScheduleListSchema) },
});

export const create = defineRoute({
  method: "post",
  path: "/patients/{id}/schedules",
  operationId: "createSchedule",
  tags,
  summary: "Create a recurring care task: medication (with dose), exercise or check-in",
  description: `timesOfDay are local to the patient's timezone; the reminder tick fires each occurrence once, from the schedule's creation on, inside startDate..endDate. Writes schedule.created. ${REACH}`,
  permission: "schedules:write",
  phi: true,
  create: true,
  problems: [404],
  request: { params: PatientIdParam, body: jsonBody(ScheduleCreateSchema) },
  responses: { 201: { ...jsonResponse("The new schedule", ScheduleSchema), headers: { ...ETAG, ...LOCATION } } },
});

export const patch = defineRoute({
  method: "patch",
  path: "/schedules/{id}",
  operationId: "updateSchedule",
  tags,
  summary: "Change a schedule; If-Match required",
  description: `Send If-Match with the version (the ETag of the create, or "<version>" from the list): a stale one is a 412, a missing one a 428. active: false pauses it and cancels its open reminders. Writes schedule.updated. ${REACH}`,
  permission: "schedules:write",
  phi: true,
  problems: [404, 412, 428],
  request: { params: ScheduleIdParam, headers: IfMatchHeader, body: jsonBody(SchedulePatchSchema) },
  responses: { 200: { ...jsonResponse("The updated schedule", ScheduleSchema), headers: ETAG } },
});

export const remove = defineRoute({
  method: "delete",
  path: "/schedules/{id}",
  operationId: "deleteSchedule",
  tags,
  summary: "Delete a schedule: no further reminders, its open ones cancelled",
  description: `A soft delete: the row and its reminders stay as adherence history; the schedule is a 404 from then on. Writes schedule.deleted. ${REACH}`,
  permission: "schedules:write",
  phi: true,
  problems: [404],
  request: { params: ScheduleIdParam },
  responses: { 204: { description: "Deleted" } },
});
