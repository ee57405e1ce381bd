import { z } from "@hono/zod-openapi";
import { ACTIVITY_TYPES } from "#src/db/schema/index.ts";
import { CursorQuery, LimitQuery } from "#src/lib/cursor.ts";
import { text, timestamp, uuid } from "#src/lib/text.ts";

/** A heartbeat's body and the activity list on the wire. */

/** At most this many device events ride on one heartbeat. */
export const MAX_HEARTBEAT_EVENTS = 50;

const ActivityTypeSchema = z.enum(ACTIVITY_TYPES).openapi("ActivityType");
const REPORTED_TYPES = ["app_open", "reminder_interaction", "battery"] as const;

const batteryLevel = z.number().int().min(0).max(100).openapi({ type: "integer", format: "int32", minimum: 0, maximum: 100, description: "Percent" });
const appVersion = text(64).trim().min(1).openapi({ example: "2.4.1 (318)" });

const HeartbeatEventSchema = z
  .object({
    type: z.enum(REPORTED_TYPES),
    at: timestamp().openapi({ description: "When it happened on the device: at most 7 days ago, not in the future (5 minutes of clock skew allowed)" }),
    reminderId: uuid().optional().openapi({ description: "For reminder_interaction: one of the patient's reminders" }),
    batteryLevel: batteryLevel.optional().openapi({ description: "For battery: the level then" }),
  })
  .strict()
  .superRefine((event, ctx) => {
    if (event.type === "reminder_interaction" && !event.reminderId) ctx.addIssue({ code: "custom", path: ["reminderId"], message: "is required for a reminder_interaction" });
    if (event.type !== "reminder_interaction" && event.reminderId) ctx.addIssue({ code: "custom", path: ["reminderId"], message: "is only for a reminder_interaction" });
    if (event.type === "battery" && event.batteryLevel === undefined) ctx.addIssue({ code: "custom", path: ["batteryLevel"], message: "is required for a battery event" });
    if (event.type !== "battery" && event.batteryLevel !== undefined) ctx.addIssue({ code: "custom", path: ["batteryLevel"], message: "is only for a battery event" });
  })
  .openapi("HeartbeatEvent");

export const HeartbeatSchema = z
  .object({
    appVersion: appVersion.optional(),
    batteryLevel: batteryLevel.optional(),
    events: z.array(HeartbeatEventSchema).max(MAX_HEARTBEAT_EVENTS).optional(),
  })
  .strict()
  .openapi("Heartbeat");

export type HeartbeatInput = z.infer<typeof HeartbeatSchema>;

export const HeartbeatReceiptSchema = z
  .object({
    receivedAt: timestamp(),
    lastHeartbeatAt: timestamp().openapi({ description: "The patient's latest heartbeat: it never moves backwards" }),
    recorded: z.number().int().min(1).max(MAX_HEARTBEAT_EVENTS + 1).openapi({ type: "integer", format: "int32", minimum: 1, maximum: MAX_HEARTBEAT_EVENTS + 1, description: "Activity rows written: the heartbeat and its events" }),
    resolvedAlertIds: z.array(uuid()).max(1).openapi({ description: "The open inactivity alert this heartbeat resolved, if any" }),
  })
  .openapi("HeartbeatReceipt");

export const ActivitySchema = z
  .object({
    id: uuid(),
    patientId: uuid(),
    type: ActivityTypeSchema,
    occurredAt: timestamp(),
    receivedAt: timestamp(),
    batteryLevel: batteryLevel.nullable(),
    appVersion: text(64).nullable(),
    reminderId: uuid().nullable(),
  })
  .openapi("Activity");

export const ActivityListSchema = z.object({ data: z.array(ActivitySchema).max(100), nextCursor: text(512).nullable() }).openapi("ActivityList");

export const ActivityListQuery = z
  .object({
    type: ActivityTypeSchema.optional(),
    from: timestamp().optional().openapi({ description: "Activity at or after this instant" }),
    to: timestamp().optional().openapi({ description: "Activity before this instant" }),
    limit: LimitQuery,
    cursor: CursorQuery.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.from && value.to && Date.parse(value.to) <= Date.parse(value.from)) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
  });

export type ActivityListInput = z.infer<typeof ActivityListQuery>;

export const PatientIdParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });
