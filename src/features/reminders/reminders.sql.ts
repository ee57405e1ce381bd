import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { REMINDER_KINDS, REMINDER_RESPONSES, REMINDER_STATUSES } from "#src/db/schema/index.ts";
import { exactOf, isoOf } from "#src/db/sql-time.ts";

/** A reminder row as jsonb, with its exact keyset position (due_at to the microsecond). */
export const reminderJson = (alias: string): SQL => {
  const a = (column: string) => sql.raw(`${alias}.${column}`);
  const iso = (column: string) => isoOf(`${alias}.${column}`);
  return sql`jsonb_build_object('id', ${a("id")}, 'patient_id', ${a("patient_id")}, 'schedule_id', ${a("schedule_id")},
    'appointment_id', ${a("appointment_id")}, 'kind', ${a("kind")}, 'occurrence_key', ${a("occurrence_key")}, 'due_at', ${iso("due_at")},
    'missed_after', ${iso("missed_after")}, 'status', ${a("status")}, 'response', ${a("response")}, 'acknowledged_at', ${iso("acknowledged_at")},
    'acknowledged_by', ${a("acknowledged_by")}, 'created_at', ${iso("created_at")}, 'updated_at', ${iso("updated_at")}, 'cursor_at', ${exactOf(`${alias}.due_at`)})`;
};

export const ReminderRow = z.object({
  id: z.string(),
  patient_id: z.string(),
  schedule_id: z.string().nullable(),
  appointment_id: z.string().nullable(),
  kind: z.enum(REMINDER_KINDS),
  occurrence_key: z.string(),
  due_at: z.string(),
  missed_after: z.string().nullable(),
  status: z.enum(REMINDER_STATUSES),
  response: z.enum(REMINDER_RESPONSES).nullable(),
  acknowledged_at: z.string().nullable(),
  acknowledged_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  cursor_at: z.string(),
});
export type ReminderRow = z.output<typeof ReminderRow>;

export const reminderView = (row: ReminderRow) => ({
  id: row.id,
  patientId: row.patient_id,
  scheduleId: row.schedule_id,
  appointmentId: row.appointment_id,
  kind: row.kind,
  occurrenceKey: row.occurrence_key,
  dueAt: row.due_at,
  missedAfter: row.missed_after,
  status: row.status,
  response: row.response,
  acknowledgedAt: row.acknowledged_at,
  acknowledgedBy: row.acknowledged_by,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});
