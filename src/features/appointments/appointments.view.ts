import { z } from "zod";
import { APPOINTMENT_KINDS, APPOINTMENT_STATUSES, type AppointmentStatus } from "#src/db/schema/index.ts";
import { localIso, parseInstant } from "#src/features/appointments/appointments.time.ts";

const instant = z
  .string()
  .transform(parseInstant)
  .refine((date) => !Number.isNaN(date.getTime()), "is not a timestamp");

/**
 * One appointment as the statements hand it back: `to_jsonb(a)` of an appointments row, plus the
 * patient's timezone and the exact keyset position (`cursor_at`, microseconds kept).
 */
export const AppointmentRow = z.object({
  id: z.string(),
  patient_id: z.string(),
  clinician_id: z.string(),
  starts_at: instant,
  ends_at: instant,
  status: z.enum(APPOINTMENT_STATUSES),
  kind: z.enum(APPOINTMENT_KINDS),
  location: z.string().nullable(),
  video_url: z.string().nullable(),
  reason: z.string().nullable(),
  cancel_reason: z.string().nullable(),
  series_id: z.string().nullable(),
  outside_hours: z.boolean(),
  version: z.number().int(),
  created_by: z.string().nullable(),
  created_at: instant,
  updated_at: instant,
  confirmed_at: instant.nullable(),
  completed_at: instant.nullable(),
  cancelled_at: instant.nullable(),
  patient_timezone: z.string(),
  cursor_at: z.string().optional(),
});
export type AppointmentRow = z.output<typeof AppointmentRow>;

export interface AppointmentView {
  id: string;
  patientId: string;
  clinicianId: string;
  startsAt: string;
  endsAt: string;
  status: AppointmentStatus;
  kind: (typeof APPOINTMENT_KINDS)[number];
  location: string | null;
  videoUrl: string | null;
  reason: string | null;
  cancelReason: string | null;
  seriesId: string | null;
  outsideHours: boolean;
  version: number;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  confirmedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  local: { startsAt: string; endsAt: string; timezone: string };
}

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

export function appointmentView(row: AppointmentRow): AppointmentView {
  const timezone = row.patient_timezone;
  return {
    id: row.id,
    patientId: row.patient_id,
    clinicianId: row.clinician_id,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    status: row.status,
    kind: row.kind,
    location: row.location,
    videoUrl: row.video_url,
    reason: row.reason,
    cancelReason: row.cancel_reason,
    seriesId: row.series_id,
    outsideHours: row.outside_hours,
    version: row.version,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    confirmedAt: iso(row.confirmed_at),
    completedAt: iso(row.completed_at),
    cancelledAt: iso(row.cancelled_at),
    local: { startsAt: localIso(row.starts_at, timezone), endsAt: localIso(row.ends_at, timezone), timezone },
  };
}
