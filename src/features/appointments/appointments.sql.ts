import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { appointmentVisible } from "#src/lib/access.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

/**
 * SQL fragments the appointment statements share: how a row leaves the database, who may see
 * one, which live appointments a proposed slot would overlap, and which proposed slots fall
 * outside the clinician's working hours. Each statement stays one round trip.
 */

/** Live appointments: the ones the exclusion constraints keep apart. */
export const LIVE_STATUSES = sql.raw(`('scheduled', 'confirmed')`);

/** The row as jsonb, with the patient's timezone (AppointmentRow in appointments.view.ts). */
export const appointmentJson = (alias: string, timezone: SQL): SQL =>
  sql`(to_jsonb(${sql.raw(alias)}) || jsonb_build_object('patient_timezone', ${timezone}))`;

/** The patient's timezone for the row `alias`, read in the same statement. */
export const patientTimezoneOf = (organizationId: string, alias: string): SQL =>
  sql`coalesce((select tz.timezone from patients tz where tz.organization_id = ${organizationId} and tz.id = ${sql.raw(alias)}.patient_id), 'UTC')`;

/** Whether the caller may see the appointment row `alias`. */
export const visibleAs = (auth: AuthContext, alias: string): SQL =>
  appointmentVisible(auth, { patientId: sql.raw(`${alias}.patient_id`), clinicianId: sql.raw(`${alias}.clinician_id`) });

/** The slot's range; an inverted one (a PATCH's refused proposal) is empty rather than an error. */
const slotRange = sql.raw(`(case when s.ends_at > s.starts_at then tstzrange(s.starts_at, s.ends_at, '[)') else 'empty'::tstzrange end)`);

export interface SlotParties {
  organizationId: string;
  clinicianId: SQL;
  patientId: SQL;
  /** The appointment being rescheduled, which cannot clash with itself. */
  excludeId?: string;
}

/**
 * Every live appointment of the clinician or the patient that overlaps a slot of `slots` (a CTE
 * with n, starts_at, ends_at), with whether the caller may see it: the check that answers a 409
 * with ids before the insert; the exclusion constraints stay the race-proof backstop.
 */
export function clashesOf(slots: string, auth: AuthContext, parties: SlotParties): SQL {
  const exclude = parties.excludeId ? sql`and a.id <> ${parties.excludeId}::uuid` : sql``;
  return sql`select s.n, s.starts_at, a.id as appointment_id, ${visibleAs(auth, "a")} as visible,
      case when a.clinician_id = ${parties.clinicianId} then 'clinician' else 'patient' end as party
    from ${sql.raw(slots)} s
    join appointments a on a.organization_id = ${parties.organizationId} and a.status in ${LIVE_STATUSES}
      and (a.clinician_id = ${parties.clinicianId} or a.patient_id = ${parties.patientId})
      and tstzrange(a.starts_at, a.ends_at, '[)') && ${slotRange}
      ${exclude}`;
}

/**
 * The slots of `slots` outside the clinician's weekly working hours, read from `working_hours`
 * in this statement, with the rule of src/features/clinicians/clinicians.hours.ts
 * (`withinWorkingHours`): intervals { weekday: ISO 1–7, start, end: "HH:MM", end up to "24:00" }
 * in the row's timezone become instants for each local day around the slot, touching ones merge
 * (`range_agg`: Mon 22:00–24:00 and Tue 00:00–06:00 are one night shift), and the slot must lie
 * inside one merged range. No row, or no intervals, means no hours set: nothing is outside.
 * (The check runs in SQL so the booking stays one round trip; the JS function would need the
 * row read first.)
 */
export function outsideHoursOf(slots: string, organizationId: string, clinicianId: SQL): SQL {
  return sql`select s.n, s.starts_at from ${sql.raw(slots)} s
    join working_hours wh on wh.organization_id = ${organizationId} and wh.user_id = ${clinicianId}
    where jsonb_array_length(wh.intervals) > 0
      and not coalesce((
        select range_agg(tstzrange(r.lo, r.hi, '[)'))
        from generate_series(date_trunc('day', s.starts_at at time zone wh.timezone) - interval '1 day',
          date_trunc('day', s.ends_at at time zone wh.timezone) + interval '1 day', interval '1 day') as d(day)
        join jsonb_array_elements(wh.intervals) iv on (iv->>'weekday')::int = extract(isodow from d.day)::int
        cross join lateral (
          select (d.day + (iv->>'start')::interval) at time zone wh.timezone as lo, (d.day + (iv->>'end')::interval) at time zone wh.timezone as hi
        ) r
        where r.lo < r.hi
      ) @> ${slotRange}, false)`;
}

/** The clashes CTE as the statement's jsonb answer: `[{ startsAt, with, appointmentId? }]`. */
export const conflictsJson = (clashes: string): SQL =>
  sql`coalesce((select jsonb_agg(jsonb_strip_nulls(jsonb_build_object('startsAt', c.starts_at, 'with', c.party,
      'appointmentId', case when c.visible then c.appointment_id end)) order by c.starts_at, c.appointment_id)
    from ${sql.raw(clashes)} c), '[]'::jsonb)`;

export const ConflictRow = z.object({ startsAt: z.string(), with: z.enum(["clinician", "patient"]), appointmentId: z.string().optional() });

/** `[…]` of a jsonb column; null when the statement wrote nothing. */
export const jsonArray = <T extends z.ZodType>(item: T) => z.array(item).nullable().transform((items) => items ?? []);

/**
 * Whether the caller may change this appointment (`alias`), beyond seeing it: a clinician changes
 * only their own sessions (their calendar); managers, the front desk and keys any they may see.
 */
export const ownCalendar = (auth: AuthContext, alias: string): SQL =>
  auth.role === "clinician" && auth.userId ? sql`${sql.raw(alias)}.clinician_id = ${auth.userId}::uuid` : sql`true`;
