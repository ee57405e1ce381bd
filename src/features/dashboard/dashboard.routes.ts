import { z } from "@hono/zod-openapi";
import { APPOINTMENT_STATUSES } from "#src/db/schema/index.ts";
import { TODAY_LIST_LIMIT } from "#src/features/dashboard/dashboard.repo.ts";
import { jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { text, timestamp, uuid } from "#src/lib/text.ts";

const localDate = () => z.string().regex(/^\d{4}-\d{2}-\d{2}$/).max(10).openapi({ format: "date", example: "2026-12-03" });
const INT32_MAX = 2_147_483_647;
const count = () => z.number().int().min(0).max(INT32_MAX).openapi({ type: "integer", format: "int32", minimum: 0, maximum: INT32_MAX });

const DashboardAppointmentSchema = z
  .object({
    id: uuid(),
    startsAt: timestamp(),
    endsAt: timestamp(),
    status: z.enum(APPOINTMENT_STATUSES),
    patientId: uuid(),
    patientName: text(200).nullable().openapi({ description: "Null for a patient the caller may not read (a clinician's own session with a patient off their care team)" }),
    clinicianId: uuid(),
  })
  .openapi("DashboardAppointment");

const ByStatusSchema = z.object(Object.fromEntries(APPOINTMENT_STATUSES.map((status) => [status, count()])) as Record<(typeof APPOINTMENT_STATUSES)[number], ReturnType<typeof count>>);

export const DashboardSchema = z
  .object({
    generatedAt: timestamp().openapi({ description: "When the figures were read; a cached answer is at most 30 s old" }),
    timezone: text(64).openapi({ description: "The organization's IANA time zone: today and this week are local to it" }),
    activePatients: count().openapi({ description: "Active patients the caller may see" }),
    today: z.object({
      date: localDate(),
      total: count().openapi({ description: "Every appointment starting today that the caller may see" }),
      appointments: z.array(DashboardAppointmentSchema).max(TODAY_LIST_LIMIT).openapi({ description: `The first ${TODAY_LIST_LIMIT} of them, by start time` }),
    }),
    thisWeek: z.object({
      from: localDate().openapi({ description: "Monday of the ISO week, local" }),
      to: localDate().openapi({ description: "Sunday of the ISO week, local" }),
      total: count(),
      byStatus: ByStatusSchema,
    }),
    openAlerts: z.null().openapi({ description: "Null until the care loop exists" }),
    adherenceThisWeek: z.null().openapi({ description: "Null until the care loop exists" }),
  })
  .openapi("Dashboard");

const CacheHeader = {
  "X-Cache": {
    description: "hit: the caller's own dashboard from KV (at most 30 s old, no database round trip); miss: read from the database and audited",
    schema: { type: "string" as const, enum: ["hit", "miss"] },
  },
};

export const getDashboard = defineRoute({
  method: "get",
  path: "/dashboard",
  operationId: "getDashboard",
  tags: ["Dashboard"],
  summary: "Active patients, today's appointments and this week's counts, as far as the caller may see",
  description:
    "Today and this week (ISO, Monday first) are in the organization's time zone. Scoped to the caller's reach: " +
    "a clinician sees their care-team patients and their own appointments, a caregiver their care-team patients. " +
    "Cached per caller for at most 30 s; each read from the database is audited as dashboard.read naming the listed patients.",
  permission: "dashboard:read",
  phi: true,
  responses: { 200: { ...jsonResponse("The caller's dashboard", DashboardSchema), headers: CacheHeader } },
});
