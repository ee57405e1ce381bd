import { ActivityListQuery, ActivityListSchema, HeartbeatReceiptSchema, HeartbeatSchema, PatientIdParam } from "#src/features/activity/activity.schemas.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";

const tags: ["Activity"] = ["Activity"];

export const heartbeat = defineRoute({
  method: "post",
  path: "/patients/{id}/heartbeat",
  operationId: "recordHeartbeat",
  tags,
  summary: "The companion app's heartbeat, with the events it has seen since the last one",
  description:
    "Only the patient's own session (another patient's record is a 404) or an API key with heartbeats:write; any other member is a 403. " +
    "Records the heartbeat and its events (app_open, reminder_interaction, battery: at most 50, none older than 7 days or in the future), moves lastHeartbeatAt forward (never back) and sets appVersion, " +
    "and resolves the patient's open inactivity alert (alert.resolved), all in one round trip.",
  permission: "heartbeats:write",
  phi: true,
  problems: [404],
  request: { params: PatientIdParam, body: jsonBody(HeartbeatSchema) },
  responses: { 200: jsonResponse("Recorded", HeartbeatReceiptSchema) },
});

export const list = defineRoute({
  method: "get",
  path: "/patients/{id}/activity",
  operationId: "listPatientActivity",
  tags,
  summary: "A patient's activity, newest first",
  description:
    "Heartbeats and the events the companion app reported. Filters: type, from (at or after), to (before). Keyset pages: pass nextCursor back until it is null. " +
    "Narrowed to the caller's reach (care team, the patient themself); anything else is a 404.",
  permission: "activity:read",
  phi: true,
  problems: [404],
  request: { params: PatientIdParam, query: ActivityListQuery },
  responses: { 200: jsonResponse("A page of activity", ActivityListSchema) },
});
