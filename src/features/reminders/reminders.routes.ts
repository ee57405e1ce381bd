import { AckSchema, ReminderIdParam, ReminderListQuery, ReminderListSchema, ReminderSchema } from "#src/features/reminders/reminders.schemas.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";

const tags: ["Reminders"] = ["Reminders"];

export const list = defineRoute({
  method: "get",
  path: "/reminders",
  operationId: "listReminders",
  tags,
  summary: "Reminders of the patients the caller may see, newest due first",
  description:
    "Filters: patientId, status, from (due at or after), to (due before). Keyset pages on (dueAt, id), descending: pass nextCursor back until it is null. A clinician or caregiver sees their care-team patients' reminders, a patient their own. One audit row names the patients returned.",
  permission: "reminders:read",
  phi: true,
  request: { query: ReminderListQuery },
  responses: { 200: jsonResponse("A page of reminders", ReminderListSchema) },
});

export const ack = defineRoute({
  method: "post",
  path: "/reminders/{id}/ack",
  operationId: "acknowledgeReminder",
  tags,
  summary: "Acknowledge a reminder: taken or skipped",
  description:
    "By the patient themself, or a member who reaches the patient (a caregiver or clinician on the care team, an owner or admin). A missed reminder may still be acknowledged, late: it becomes acknowledged and its missed-medication alert stays. An acknowledged or cancelled reminder is a 409. Writes reminder.acknowledged.",
  permission: "reminders:ack",
  phi: true,
  problems: [404, 409],
  request: { params: ReminderIdParam, body: jsonBody(AckSchema) },
  responses: { 200: jsonResponse("The acknowledged reminder", ReminderSchema) },
});
