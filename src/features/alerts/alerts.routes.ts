import { AlertConflictSchema, AlertCreateSchema, AlertIdParam, AlertListQuery, AlertListSchema, AlertSchema } from "#src/features/alerts/alerts.schemas.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { problemResponseSpec } from "#src/lib/problem.ts";
import { defineRoute } from "#src/lib/route.ts";

const tags: ["Alerts"] = ["Alerts"];

const REACH = "Narrowed to the caller's reach: clinicians and caregivers see their care-team patients' alerts, a patient their own; anything else is a 404.";

const statusConflict = problemResponseSpec(409, {
  description: "The alert's status does not allow this change (the current one is named)",
  schema: AlertConflictSchema,
  example: { detail: "The alert is resolved: it cannot be acknowledged.", instance: "/api/v1/alerts/0193a5c2-7d1e-7b3a-9f00-2c4d6e8f0a1b/acknowledge", currentStatus: "resolved" },
});

export const list = defineRoute({
  method: "get",
  path: "/alerts",
  operationId: "listAlerts",
  tags,
  summary: "Alerts the caller may see, newest first",
  description: `Filters: severity, status, patientId, from (created at or after), to (created before). Keyset pages: pass nextCursor back until it is null. ${REACH}`,
  permission: "alerts:read",
  phi: true,
  request: { query: AlertListQuery },
  responses: { 200: jsonResponse("A page of alerts", AlertListSchema) },
});

export const getOne = defineRoute({
  method: "get",
  path: "/alerts/{id}",
  operationId: "getAlert",
  tags,
  summary: "One alert",
  description: REACH,
  permission: "alerts:read",
  phi: true,
  problems: [404],
  request: { params: AlertIdParam },
  responses: { 200: jsonResponse("The alert", AlertSchema) },
});

export const create = defineRoute({
  method: "post",
  path: "/alerts",
  operationId: "createAlert",
  tags,
  summary: "Raise a manual alert about a patient",
  description:
    "Type manual. The message is patient data: it is shown in the app, never in a push, SMS or mail. A high or critical alert escalates if nobody acknowledges it within the organization's escalationMinutes. Writes alert.created. " +
    REACH,
  permission: "alerts:write",
  phi: true,
  create: true,
  request: { body: jsonBody(AlertCreateSchema) },
  responses: { 201: jsonResponse("The new alert", AlertSchema) },
});

const transition = (verb: "acknowledge" | "resolve", operationId: string, summary: string, description: string) =>
  defineRoute({
    method: "post",
    path: `/alerts/{id}/${verb}`,
    operationId,
    tags,
    summary,
    description: `${description} Any other status is a 409 naming it. ${REACH}`,
    permission: "alerts:write",
    phi: true,
    problems: [404],
    request: { params: AlertIdParam },
    responses: { 200: jsonResponse("The alert in its new status", AlertSchema), 409: statusConflict },
  });

export const acknowledge = transition(
  "acknowledge",
  "acknowledgeAlert",
  "Acknowledge an open alert: escalation stops",
  "open → acknowledged; records who and when (timeToAcknowledgeSeconds). Writes alert.acknowledged.",
);
export const resolve = transition(
  "resolve",
  "resolveAlert",
  "Resolve an open or acknowledged alert",
  "open or acknowledged → resolved; records who and when (timeToResolveSeconds). Writes alert.resolved.",
);
