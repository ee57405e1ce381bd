import { z } from "@hono/zod-openapi";
import { minutesOf } from "#src/features/clinicians/clinicians.hours.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { email, text, timestamp, uuid } from "#src/lib/text.ts";
import { TimeZoneSchema } from "#src/lib/timezone.ts";

export const MAX_INTERVALS = 50;
/** Longest availability window: a month of slots, bounded work per request. */
export const MAX_RANGE_DAYS = 31;
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 0, 1);

const HHMM = z
  .string()
  .max(5)
  .regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, "must be a 24-hour time HH:MM (24:00 is the end of the day)")
  .openapi({ example: "09:00" });

export const IntervalSchema = z
  .object({
    weekday: z.number().int().min(1).max(7).openapi({ format: "int32", description: "ISO weekday: Monday = 1 … Sunday = 7", example: 1 }),
    start: HHMM,
    end: HHMM.openapi({ example: "17:00" }),
  })
  .strict()
  .openapi("WorkingInterval");

type Interval = z.infer<typeof IntervalSchema>;

/** start < end within each interval, no two intervals of a day overlapping: each issue names its field. */
function checkIntervals(intervals: Interval[], ctx: z.RefinementCtx): void {
  const spans = intervals.map((interval, index) => ({ index, weekday: interval.weekday, start: minutesOf(interval.start) ?? 0, end: minutesOf(interval.end) ?? 0 }));
  for (const span of spans) {
    if (span.start >= span.end) ctx.addIssue({ code: "custom", path: [span.index, "end"], message: "must be after start" });
  }
  const valid = spans.filter((span) => span.start < span.end).sort((a, b) => a.weekday - b.weekday || a.start - b.start);
  for (let i = 1; i < valid.length; i++) {
    const previous = valid[i - 1];
    const current = valid[i];
    if (previous && current && previous.weekday === current.weekday && current.start < previous.end) {
      ctx.addIssue({ code: "custom", path: [current.index, "start"], message: `overlaps intervals[${previous.index}] on weekday ${current.weekday}` });
    }
  }
}

export const WorkingHoursInputSchema = z
  .object({
    timezone: TimeZoneSchema,
    intervals: z.array(IntervalSchema).max(MAX_INTERVALS).superRefine(checkIntervals),
  })
  .strict()
  .openapi("WorkingHoursInput");

export const WorkingHoursSchema = z
  .object({
    clinicianId: uuid(),
    timezone: text(64),
    intervals: z.array(IntervalSchema).max(MAX_INTERVALS),
    updatedAt: timestamp().nullable().openapi({ description: "null: never set, so bookings are not restricted" }),
  })
  .openapi("WorkingHours");

export const ClinicianSchema = z
  .object({
    id: uuid(),
    name: text(200),
    email: email().optional().openapi({ description: "Only for callers who may read members" }),
    timezone: text(64),
    patientCount: z.number().int().min(0).max(1_000_000_000).openapi({ format: "int32", description: "Patients (not discharged) on whose care team they are" }),
  })
  .openapi("Clinician");

const ClinicianListSchema = z.object({ data: z.array(ClinicianSchema).max(1000) }).openapi("ClinicianList");

const ClinicianParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });

const minutes = (min: number, max: number, description: string) =>
  z.coerce.number().int().min(min).max(max).openapi({ type: "integer", format: "int32", minimum: min, maximum: max, description });

export const AvailabilityQuery = z
  .object({
    clinicianId: uuid(),
    from: timestamp().openapi({ example: "2027-03-29T00:00:00+02:00" }),
    to: timestamp().openapi({ example: "2027-04-03T00:00:00+02:00" }),
    duration: minutes(15, 480, "Slot length in minutes"),
    step: minutes(5, 480, "Minutes between slot starts; defaults to duration").optional(),
  })
  .superRefine((query, ctx) => {
    for (const field of ["from", "to"] as const) {
      const at = Date.parse(query[field]);
      if (!(at >= EARLIEST && at <= LATEST)) ctx.addIssue({ code: "custom", path: [field], message: "must be between 1970 and 9999" });
    }
    const span = Date.parse(query.to) - Date.parse(query.from);
    if (!(span > 0)) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
    else if (span > MAX_RANGE_DAYS * 86_400_000) ctx.addIssue({ code: "custom", path: ["to"], message: `must be at most ${MAX_RANGE_DAYS} days after from` });
  });

const SlotSchema = z
  .object({
    start: timestamp(),
    end: timestamp(),
    localStart: timestamp().openapi({ description: "start in the clinician's time zone, with its offset" }),
  })
  .openapi("Slot");

const AvailabilitySchema = z
  .object({
    clinicianId: uuid(),
    timezone: text(64),
    from: timestamp(),
    to: timestamp(),
    duration: z.number().int().min(15).max(480).openapi({ format: "int32" }),
    step: z.number().int().min(5).max(480).openapi({ format: "int32" }),
    workingHoursSet: z.boolean().openapi({ description: "false: no working hours, so the whole range counts as working time" }),
    truncated: z.boolean().openapi({ description: "true: more slots exist than the response holds; ask again from the last one" }),
    slots: z.array(SlotSchema).max(3000),
  })
  .openapi("Availability");

const CacheHeader = { "X-Cache": { description: "hit: served from KV with no database round trip; miss: built from the database", schema: { type: "string" as const, enum: ["hit", "miss"] } } };

const tags: ["Clinicians"] = ["Clinicians"];

export const list = defineRoute({
  method: "get",
  path: "/clinicians",
  operationId: "listClinicians",
  tags,
  summary: "The organization's clinicians with how many patients each cares for (cached)",
  description:
    "A hot list served from KV for up to 60 s. Every change to it (role change, removal, care team, working hours) invalidates it at once for the writer; others see it within the TTL.",
  permission: "clinicians:read",
  responses: { 200: { ...jsonResponse("Clinicians, by name", ClinicianListSchema), headers: CacheHeader } },
});

export const getWorkingHours = defineRoute({
  method: "get",
  path: "/clinicians/{id}/working-hours",
  operationId: "getWorkingHours",
  tags,
  summary: "A clinician's weekly working hours, in their own time zone",
  description: "No working hours set (updatedAt null, no intervals) means bookings are not restricted.",
  permission: "clinicians:read",
  problems: [404],
  request: { params: ClinicianParam },
  responses: { 200: jsonResponse("Working hours", WorkingHoursSchema) },
});

export const putWorkingHours = defineRoute({
  method: "put",
  path: "/clinicians/{id}/working-hours",
  operationId: "putWorkingHours",
  tags,
  summary: "Replace a clinician's weekly working hours",
  description:
    "A clinician sets their own; an owner or admin (or an API key with the scope) sets any clinician's. Intervals of a day may not overlap; an empty list lifts the restriction.",
  permission: "working-hours:write",
  problems: [404],
  request: { params: ClinicianParam, body: jsonBody(WorkingHoursInputSchema) },
  responses: { 200: jsonResponse("The working hours as stored", WorkingHoursSchema) },
});

export const availability = defineRoute({
  method: "get",
  path: "/availability",
  operationId: "getAvailability",
  tags,
  summary: "A clinician's free slots: working hours minus booked appointments",
  description:
    "Working hours are expanded day by day through the clinician's time zone (DST-correct); scheduled and confirmed appointments are taken out. At most 31 days at once.",
  permission: "clinicians:read",
  problems: [404],
  request: { query: AvailabilityQuery },
  responses: { 200: jsonResponse("Free slots", AvailabilitySchema) },
});
