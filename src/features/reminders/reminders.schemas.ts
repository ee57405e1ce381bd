import { z } from "@hono/zod-openapi";
import { REMINDER_KINDS, REMINDER_RESPONSES, REMINDER_STATUSES } from "#src/db/schema/index.ts";
import { CursorQuery, LimitQuery } from "#src/lib/cursor.ts";
import { timestamp, uuid } from "#src/lib/text.ts";

export const ReminderStatusSchema = z.enum(REMINDER_STATUSES).openapi("ReminderStatus");
export const ReminderResponseSchema = z.enum(REMINDER_RESPONSES).openapi("ReminderResponse");

export const ReminderSchema = z
  .object({
    id: uuid(),
    patientId: uuid(),
    scheduleId: uuid().nullable().openapi({ description: "The schedule it is an occurrence of (or appointmentId)" }),
    appointmentId: uuid().nullable().openapi({ description: "The appointment it announces, 24 h or 1 h ahead" }),
    kind: z.enum(REMINDER_KINDS).openapi("ReminderKind"),
    occurrenceKey: z.string().max(128).openapi({ description: "schedule:<id>:<local date>T<HH:MM>, or appointment:<id>:<start, UTC>:24h / :1h (a rescheduled appointment is reminded again)", example: "schedule:0193a5c2-7d1e-7b3a-9f00-2c4d6e8f0a1b:2026-12-03T08:00" }),
    dueAt: timestamp(),
    missedAfter: timestamp().nullable().openapi({ description: "When an unacknowledged occurrence counts as missed; null for appointments" }),
    status: ReminderStatusSchema,
    response: ReminderResponseSchema.nullable(),
    acknowledgedAt: timestamp().nullable(),
    acknowledgedBy: uuid().nullable(),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .openapi("Reminder");

export const ReminderListSchema = z.object({ data: z.array(ReminderSchema).max(100), nextCursor: CursorQuery.nullable() }).openapi("ReminderList");

export const ReminderListQuery = z
  .object({
    patientId: uuid().optional(),
    status: ReminderStatusSchema.optional(),
    from: timestamp().optional().openapi({ description: "Due at or after this instant" }),
    to: timestamp().optional().openapi({ description: "Due before this instant" }),
    limit: LimitQuery,
    cursor: CursorQuery.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.from && value.to && Date.parse(value.to) <= Date.parse(value.from)) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
  });

export type ReminderListInput = z.infer<typeof ReminderListQuery>;

export const AckSchema = z.object({ response: ReminderResponseSchema }).strict().openapi("ReminderAck");

export const ReminderIdParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });
