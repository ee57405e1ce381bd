import { z } from "@hono/zod-openapi";
import { ALERT_STATUSES, ALERT_TYPES, SEVERITIES } from "#src/db/schema/index.ts";
import { CursorQuery, LimitQuery } from "#src/lib/cursor.ts";
import { ProblemSchema } from "#src/lib/problem.ts";
import { longText, text, timestamp, uuid } from "#src/lib/text.ts";

/** Alerts on the wire. */

export const SeveritySchema = z.enum(SEVERITIES).openapi("Severity");
export const AlertStatusSchema = z.enum(ALERT_STATUSES).openapi("AlertStatus");
const AlertTypeSchema = z.enum(ALERT_TYPES).openapi("AlertType");
const seconds = z.number().int().min(0).max(2_147_483_647).openapi({ type: "integer", format: "int32", minimum: 0, maximum: 2_147_483_647 });

export const AlertSchema = z
  .object({
    id: uuid(),
    patientId: uuid(),
    type: AlertTypeSchema,
    severity: SeveritySchema,
    status: AlertStatusSchema,
    message: longText(2000).nullable().openapi({ description: "A manual alert's text. Patient data: shown here, never in a push, SMS or mail" }),
    reminderId: uuid().nullable().openapi({ description: "The missed reminder (missed_medication)" }),
    createdBy: uuid().nullable().openapi({ description: "Who raised it; null when the system (or an API key) did" }),
    createdAt: timestamp(),
    acknowledgedAt: timestamp().nullable(),
    acknowledgedBy: uuid().nullable().openapi({ description: "Who acknowledged it; null for an API key" }),
    resolvedAt: timestamp().nullable(),
    resolvedBy: uuid().nullable().openapi({ description: "Who resolved it; null when the system did (heartbeats resumed) or an API key" }),
    escalationLevel: z.number().int().min(0).max(3).openapi({
      type: "integer",
      format: "int32",
      minimum: 0,
      maximum: 3,
      description: "0 the primary caregiver, 1 the whole care team, 2 the owners and admins, 3 a voice call to the primary (critical only)",
    }),
    nextEscalationAt: timestamp().nullable().openapi({ description: "When it escalates a step unless acknowledged; null once acknowledged or at the last step" }),
    updatedAt: timestamp(),
    timeToAcknowledgeSeconds: seconds.nullable(),
    timeToResolveSeconds: seconds.nullable(),
  })
  .openapi("Alert");

export const AlertListSchema = z.object({ data: z.array(AlertSchema).max(100), nextCursor: text(512).nullable() }).openapi("AlertList");

export const AlertListQuery = z
  .object({
    severity: SeveritySchema.optional(),
    status: AlertStatusSchema.optional(),
    patientId: uuid().optional(),
    from: timestamp().optional().openapi({ description: "Alerts created at or after this instant" }),
    to: timestamp().optional().openapi({ description: "Alerts created before this instant" }),
    limit: LimitQuery,
    cursor: CursorQuery.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.from && value.to && Date.parse(value.to) <= Date.parse(value.from)) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
  });

export type AlertListInput = z.infer<typeof AlertListQuery>;

export const AlertCreateSchema = z
  .object({
    patientId: uuid(),
    severity: SeveritySchema,
    message: longText(2000).trim().min(1).openapi({ description: "What is wrong (patient data: stays in the app)", example: "Fell in the garden, says she is fine" }),
  })
  .strict()
  .openapi("AlertCreate");

export type AlertCreate = z.infer<typeof AlertCreateSchema>;

export const AlertIdParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });

/** A 409: the alert's status forbids the transition (`currentStatus` names it). */
export const AlertConflictSchema = ProblemSchema.and(z.object({ currentStatus: AlertStatusSchema.optional() })).openapi("AlertConflict");
