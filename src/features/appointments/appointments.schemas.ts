import { z } from "@hono/zod-openapi";
import { APPOINTMENT_KINDS, APPOINTMENT_STATUSES } from "#src/db/schema/index.ts";
import { CursorQuery, LimitQuery } from "#src/lib/cursor.ts";
import { ProblemSchema } from "#src/lib/problem.ts";
import { longText, text, timestamp, uuid } from "#src/lib/text.ts";

/** The longest session: the schema's range check says the same (24 hours). */
export const MAX_DURATION_MS = 24 * 60 * 60 * 1000;
export const MAX_OCCURRENCES = 52;

/** Sessions happen between 1900 and 9000: outside that, years lose their four digits (BC, 10000) on the way back. */
const EARLIEST = Date.UTC(1900, 0, 1);
const LATEST = Date.UTC(9000, 0, 1);
const Instant = timestamp()
  .refine((value) => {
    const at = Date.parse(value);
    return at >= EARLIEST && at < LATEST;
  }, "must be between 1900 and 9000")
  .openapi({ description: "ISO 8601 with an offset", example: "2026-12-03T09:00:00Z" });
const Location = text(500).trim().min(1);
const VideoUrl = text(2048)
  .refine((value) => {
    try {
      return new URL(value).protocol === "https:";
    } catch {
      return false;
    }
  }, "must be an https URL")
  .openapi({ example: "https://meet.example.com/room-42" });
const Reason = longText(2000);

export const AppointmentStatusSchema = z.enum(APPOINTMENT_STATUSES).openapi("AppointmentStatus");
export const AppointmentKindSchema = z.enum(APPOINTMENT_KINDS).openapi("AppointmentKind");

export const AppointmentSchema = z
  .object({
    id: uuid(),
    patientId: uuid(),
    clinicianId: uuid(),
    startsAt: Instant,
    endsAt: Instant,
    status: AppointmentStatusSchema,
    kind: AppointmentKindSchema,
    location: text(500).nullable(),
    videoUrl: text(2048).nullable(),
    reason: longText(2000).nullable(),
    cancelReason: longText(2000).nullable(),
    seriesId: uuid().nullable().openapi({ description: "The weekly series this occurrence belongs to" }),
    outsideHours: z.boolean().openapi({ description: "Booked outside the clinician's working hours by an owner's or admin's override" }),
    version: z.number().int().min(1).max(2_147_483_647).openapi({ format: "int32", description: "What the ETag carries" }),
    createdBy: uuid().nullable(),
    createdAt: timestamp(),
    updatedAt: timestamp(),
    confirmedAt: timestamp().nullable(),
    completedAt: timestamp().nullable(),
    cancelledAt: timestamp().nullable(),
    local: z
      .object({ startsAt: timestamp(), endsAt: timestamp(), timezone: text(64) })
      .openapi({
        description: "The same instants as wall-clock time in the patient's timezone",
        example: { startsAt: "2026-12-03T10:00:00+01:00", endsAt: "2026-12-03T10:50:00+01:00", timezone: "Europe/Berlin" },
      }),
  })
  .openapi("Appointment");

export const BookingSchema = AppointmentSchema.extend({
  occurrences: z
    .array(AppointmentSchema)
    .max(MAX_OCCURRENCES)
    .optional()
    .openapi({ description: "For a weekly series: every occurrence booked, in order (the first is this one)" }),
}).openapi("AppointmentBooking");

export const AppointmentListSchema = z
  .object({ data: z.array(AppointmentSchema).max(100), nextCursor: CursorQuery.nullable() })
  .openapi("AppointmentList");

const rangeIssues = (value: { startsAt?: string | undefined; endsAt?: string | undefined }, ctx: z.RefinementCtx) => {
  if (!value.startsAt || !value.endsAt) return;
  const duration = Date.parse(value.endsAt) - Date.parse(value.startsAt);
  if (!(duration > 0)) ctx.addIssue({ code: "custom", path: ["endsAt"], message: "must be after startsAt" });
  else if (duration > MAX_DURATION_MS) ctx.addIssue({ code: "custom", path: ["endsAt"], message: "must be at most 24 hours after startsAt" });
};

const kindIssues = (value: { kind?: string | undefined; location?: string | null | undefined; videoUrl?: string | null | undefined }, ctx: z.RefinementCtx) => {
  if (value.kind === "in_person" && value.videoUrl) ctx.addIssue({ code: "custom", path: ["videoUrl"], message: "belongs to a telehealth appointment" });
  if (value.kind === "telehealth" && value.location) ctx.addIssue({ code: "custom", path: ["location"], message: "belongs to an in-person appointment" });
};

export const RecurrenceSchema = z
  .object({
    frequency: z.literal("weekly"),
    count: z.number().int().min(2).max(MAX_OCCURRENCES).openapi({ format: "int32", description: "Occurrences, the first included" }),
  })
  .strict()
  .openapi("AppointmentRecurrence", {
    description: "A weekly series at the same wall-clock time in the patient's timezone (across DST changes), booked all or nothing",
  });

export const AppointmentCreateSchema = z
  .object({
    patientId: uuid(),
    clinicianId: uuid().openapi({ description: "A member of the organization with the clinician role" }),
    startsAt: Instant,
    endsAt: Instant,
    kind: AppointmentKindSchema.default("in_person"),
    location: Location.optional().openapi({ description: "In person: where" }),
    videoUrl: VideoUrl.optional().openapi({ description: "Telehealth: the https link" }),
    reason: Reason.optional(),
    recurrence: RecurrenceSchema.optional(),
    overrideWorkingHours: z.boolean().optional().openapi({ description: "Owner or admin only: book outside the clinician's working hours" }),
  })
  .strict()
  .superRefine((value, ctx) => {
    rangeIssues(value, ctx);
    kindIssues(value, ctx);
  })
  .openapi("AppointmentCreate");

export const AppointmentPatchSchema = z
  .object({
    startsAt: Instant.optional().openapi({ description: "Alone, the session keeps its duration" }),
    endsAt: Instant.optional(),
    clinicianId: uuid().optional(),
    kind: AppointmentKindSchema.optional().openapi({ description: "Changing it clears the other kind's location or link" }),
    location: Location.nullable().optional(),
    videoUrl: VideoUrl.nullable().optional(),
    reason: Reason.nullable().optional(),
    overrideWorkingHours: z.boolean().optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const { overrideWorkingHours, ...changes } = value;
    void overrideWorkingHours;
    if (Object.values(changes).every((field) => field === undefined)) ctx.addIssue({ code: "custom", path: [], message: "names nothing to change" });
    rangeIssues(value, ctx);
    kindIssues(value, ctx);
  })
  .openapi("AppointmentPatch");

export const CancelSchema = z.object({ reason: Reason.trim().min(1) }).strict().openapi("AppointmentCancel");

export const IdParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });

export const ListQuery = z
  .object({
    from: Instant.optional().openapi({ description: "Appointments ending after this instant" }),
    to: Instant.optional().openapi({ description: "Appointments starting before this instant" }),
    clinicianId: uuid().optional(),
    patientId: uuid().optional(),
    status: AppointmentStatusSchema.optional(),
    limit: LimitQuery,
    cursor: CursorQuery.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.from && value.to && Date.parse(value.to) <= Date.parse(value.from)) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
  });

const ConflictEntry = z.object({
  startsAt: timestamp().openapi({ description: "The requested occurrence that clashes" }),
  with: z.enum(["clinician", "patient"]).openapi({ description: "Whose existing appointment it overlaps" }),
  appointmentId: uuid().optional().openapi({ description: "The appointment in the way, when the caller may see it" }),
});

/** A 409: the slot is taken (`conflicts`), or the appointment's status forbids the change (`currentStatus`). */
export const ConflictSchema = ProblemSchema.and(
  z.object({
    conflicts: z.array(ConflictEntry).max(520).optional().openapi({ description: "Every clashing occurrence" }),
    currentStatus: AppointmentStatusSchema.optional().openapi({ description: "The appointment's current status, which forbids the change" }),
  }),
).openapi("AppointmentConflict");
