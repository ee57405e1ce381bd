import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { SCHEDULE_KINDS } from "#src/db/schema/index.ts";
import { exactOf, isoOf } from "#src/db/sql-time.ts";

/** How a schedule row leaves the database (jsonb, so a statement can hand it back beside its outcome). */
export const scheduleJson = (alias: string): SQL => {
  const a = (column: string) => sql.raw(`${alias}.${column}`);
  return sql`jsonb_build_object('id', ${a("id")}, 'patient_id', ${a("patient_id")}, 'kind', ${a("kind")}, 'title', ${a("title")},
    'dose', ${a("dose")}, 'instructions', ${a("instructions")}, 'times_of_day', to_jsonb(${a("times_of_day")}),
    'days_of_week', to_jsonb(${a("days_of_week")}), 'active', ${a("active")}, 'start_date', ${a("start_date")}::text,
    'end_date', ${a("end_date")}::text, 'grace_minutes', ${a("grace_minutes")}, 'version', ${a("version")}, 'created_by', ${a("created_by")},
    'created_at', ${isoOf(`${alias}.created_at`)}, 'updated_at', ${isoOf(`${alias}.updated_at`)}, 'cursor_at', ${exactOf(`${alias}.created_at`)})`;
};

/** One row of `scheduleJson` (the cursor position rides along for lists). */
export const ScheduleRow = z.object({
  id: z.string(),
  patient_id: z.string(),
  kind: z.enum(SCHEDULE_KINDS),
  title: z.string(),
  dose: z.string().nullable(),
  instructions: z.string().nullable(),
  times_of_day: z.array(z.string()),
  days_of_week: z.array(z.number().int()),
  active: z.boolean(),
  start_date: z.string().nullable(),
  end_date: z.string().nullable(),
  grace_minutes: z.number().int(),
  version: z.number().int(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  cursor_at: z.string(),
});
export type ScheduleRow = z.output<typeof ScheduleRow>;

export const scheduleView = (row: ScheduleRow) => ({
  id: row.id,
  patientId: row.patient_id,
  kind: row.kind,
  title: row.title,
  dose: row.dose,
  instructions: row.instructions,
  timesOfDay: row.times_of_day,
  daysOfWeek: row.days_of_week,
  active: row.active,
  startDate: row.start_date,
  endDate: row.end_date,
  graceMinutes: row.grace_minutes,
  version: row.version,
  createdBy: row.created_by,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});
export type ScheduleView = ReturnType<typeof scheduleView>;

/** Postgres array literals of validated values ('HH:MM' times, weekdays): nothing in them needs quoting. */
export const textArray = (values: readonly string[]): SQL => sql`${`{${values.join(",")}}`}::text[]`;
export const smallintArray = (values: readonly number[]): SQL => sql`${`{${values.join(",")}}`}::smallint[]`;

/** Sorted, as stored: times in the day's order, weekdays Monday first. */
export const sortedTimes = (times: readonly string[]) => [...times].sort();
export const sortedDays = (days: readonly number[]) => [...days].sort((x, y) => x - y);
