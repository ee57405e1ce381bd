import { z } from "@hono/zod-openapi";
import { SCHEDULE_KINDS } from "#src/db/schema/index.ts";
import { CursorQuery, LimitQuery } from "#src/lib/cursor.ts";
import { longText, text, timestamp, uuid } from "#src/lib/text.ts";

/** A schedule on the wire: times are local to the patient's timezone. */

export const ScheduleKindSchema = z.enum(SCHEDULE_KINDS).openapi("ScheduleKind");

const TimeOfDay = z
  .string()
  .max(5)
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (00:00 to 23:59)")
  .openapi({ example: "08:00", pattern: "^([01]\\d|2[0-3]):[0-5]\\d$" });
const distinct = (values: readonly unknown[]) => new Set(values).size === values.length;
const TimesOfDay = z
  .array(TimeOfDay)
  .min(1)
  .max(24)
  .refine(distinct, "must not repeat a time")
  .openapi({ description: "Local times in the patient's timezone, 1 to 24, each once", example: ["08:00", "20:00"] });
const Weekday = z.number().int().min(1).max(7).openapi({ type: "integer", format: "int32", minimum: 1, maximum: 7 });
const DaysOfWeek = z
  .array(Weekday)
  .min(1)
  .max(7)
  .refine(distinct, "must not repeat a day")
  .openapi({ description: "ISO weekdays (Monday = 1, Sunday = 7), each once", example: [1, 2, 3, 4, 5, 6, 7] });
const LocalDate = z.iso
  .date()
  .max(10)
  .refine((value) => value >= "2000-01-01" && value < "9000-01-01", "must be between 2000 and 9000")
  .openapi({ description: "YYYY-MM-DD, the patient's local date", example: "2026-12-01" });
const Grace = z
  .number()
  .int()
  .min(5)
  .max(1440)
  .openapi({ type: "integer", format: "int32", minimum: 5, maximum: 1440, description: "Minutes after the due time an unacknowledged occurrence counts as missed" });
const Title = text(200).trim().min(1).openapi({ example: "Morning tablets" });
const Dose = text(200).trim().min(1).openapi({ description: "Medication only", example: "500 mg" });
const Instructions = longText(2000);

type Fields = { kind?: string | undefined; dose?: string | null | undefined; startDate?: string | null | undefined; endDate?: string | null | undefined };

/** What one body can get wrong on its own: a dose on a task that is not medication, dates in the wrong order. */
function crossFieldIssues(value: Fields, ctx: z.RefinementCtx) {
  if (value.dose && value.kind !== undefined && value.kind !== "medication") ctx.addIssue({ code: "custom", path: ["dose"], message: "is only for a medication schedule" });
  if (value.startDate && value.endDate && value.endDate < value.startDate) ctx.addIssue({ code: "custom", path: ["endDate"], message: "must be on or after startDate" });
}

export const ScheduleCreateSchema = z
  .object({
    kind: ScheduleKindSchema,
    title: Title,
    dose: Dose.optional(),
    instructions: Instructions.optional(),
    timesOfDay: TimesOfDay,
    daysOfWeek: DaysOfWeek.default([1, 2, 3, 4, 5, 6, 7]),
    active: z.boolean().default(true),
    startDate: LocalDate.optional(),
    endDate: LocalDate.optional(),
    graceMinutes: Grace.default(60),
  })
  .strict()
  .superRefine(crossFieldIssues)
  .openapi("ScheduleCreate");

export const SchedulePatchSchema = z
  .object({
    kind: ScheduleKindSchema.optional().openapi({ description: "Leaving medication clears the dose" }),
    title: Title.optional(),
    dose: Dose.nullable().optional(),
    instructions: Instructions.nullable().optional(),
    timesOfDay: TimesOfDay.optional(),
    daysOfWeek: DaysOfWeek.optional(),
    active: z.boolean().optional().openapi({ description: "false pauses it: no further reminders, and its pending ones are cancelled" }),
    startDate: LocalDate.nullable().optional(),
    endDate: LocalDate.nullable().optional(),
    graceMinutes: Grace.optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (Object.values(value).every((field) => field === undefined)) ctx.addIssue({ code: "custom", path: [], message: "names nothing to change" });
    crossFieldIssues(value, ctx);
  })
  .openapi("SchedulePatch");

export type ScheduleCreate = z.infer<typeof ScheduleCreateSchema>;
export type SchedulePatch = z.infer<typeof SchedulePatchSchema>;

export const ScheduleSchema = z
  .object({
    id: uuid(),
    patientId: uuid(),
    kind: ScheduleKindSchema,
    title: text(200),
    dose: text(200).nullable(),
    instructions: longText(2000).nullable(),
    timesOfDay: z.array(text(5)).max(24),
    daysOfWeek: z.array(Weekday).max(7),
    active: z.boolean(),
    startDate: z.iso.date().max(10).nullable(),
    endDate: z.iso.date().max(10).nullable(),
    graceMinutes: Grace,
    version: z.number().int().min(1).max(2_147_483_647).openapi({ type: "integer", format: "int32", minimum: 1, maximum: 2_147_483_647, description: "What the ETag carries" }),
    createdBy: uuid().nullable(),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .openapi("Schedule");

export const ScheduleListSchema = z.object({ data: z.array(ScheduleSchema).max(100), nextCursor: CursorQuery.nullable() }).openapi("ScheduleList");

export const ScheduleListQuery = z.object({
  active: z.enum(["true", "false"]).optional().openapi({ description: "Only active (true) or paused (false) schedules" }),
  kind: ScheduleKindSchema.optional(),
  limit: LimitQuery,
  cursor: CursorQuery.optional(),
});

export type ScheduleListInput = z.infer<typeof ScheduleListQuery>;

export const PatientIdParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });
export const ScheduleIdParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });
