import { sql } from "drizzle-orm";
import { z } from "zod";
import type { TenantScope } from "#src/db/scope.ts";
import {
  appointmentJson,
  ConflictRow,
  clashesOf,
  conflictsJson,
  jsonArray,
  outsideHoursOf,
} from "#src/features/appointments/appointments.sql.ts";
import { type AuditOrigin, actorOf, auditOnceFromCte } from "#src/lib/audit.ts";
import { patientVisible } from "#src/lib/access.ts";
import { eventFromCte } from "#src/lib/events.ts";
import type { AuthContext } from "#src/middleware/auth.ts";
import { AppointmentRow } from "#src/features/appointments/appointments.view.ts";

export interface BookingInput {
  patientId: string;
  clinicianId: string;
  startsAt: string;
  endsAt: string;
  kind: "in_person" | "telehealth";
  location: string | null;
  videoUrl: string | null;
  reason: string | null;
  /** One id per occurrence, the first for startsAt itself, then one a week later each. */
  ids: string[];
  seriesId: string | null;
  /** The caller may and does book outside working hours. */
  override: boolean;
}

/** What the booking statement answers: its verdict, what it booked or what stood in the way. */
export const BookingOutcome = z.object({
  patient_found: z.boolean(),
  patient_hidden: z.boolean(),
  patient_open: z.boolean(),
  clinician_ok: z.boolean(),
  free: z.boolean(),
  hours_ok: z.boolean(),
  created: jsonArray(AppointmentRow),
  conflicts: jsonArray(ConflictRow),
  outside: jsonArray(z.string()),
  event_ids: jsonArray(z.string()),
});

const uuidArray = (ids: string[]) => sql`${`{${ids.join(",")}}`}::uuid[]`;

/**
 * Books one appointment or a weekly series in ONE statement: finds the patient within the
 * caller's reach, the clinician among the organization's clinicians, every clash with a live
 * appointment of either and every slot outside working hours; inserts every occurrence only if
 * all of that passed; writes one `appointment.scheduled` event per occurrence and one audit row
 * (a refusal is audited too, with its outcome).
 *
 * A series repeats the first slot's wall-clock time in the patient's timezone each week, so a
 * 10:00 session stays at 10:00 local across a DST change (its UTC instant moves by the hour).
 */
export function bookAppointments(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, input: BookingInput) {
  const org = scope.organizationId;
  const patientId = sql`${input.patientId}::uuid`;
  const clinicianId = sql`${input.clinicianId}::uuid`;
  const startsAt = sql`${input.startsAt}::timestamptz`;
  const endsAt = sql`${input.endsAt}::timestamptz`;
  return scope.db.execute(sql`
    with any_patient as (
      select p.id, p.timezone, p.status from patients p where p.organization_id = ${org} and p.id = ${patientId}
    ), patient as (
      select * from any_patient p where ${patientVisible(auth, sql`p.id`)}
    ), clinician as (
      select m.user_id from memberships m where m.organization_id = ${org} and m.user_id = ${clinicianId} and m.role = 'clinician'
    ), slots as (
      select o.id, o.n, w.starts_at, w.starts_at + (${endsAt} - ${startsAt}) as ends_at
      from unnest(${uuidArray(input.ids)}) with ordinality as o(id, n)
      cross join patient p
      cross join lateral (
        select (((${startsAt} at time zone p.timezone) + (o.n - 1) * interval '7 days') at time zone p.timezone) as starts_at
      ) w
    ), clashes as (
      ${clashesOf("slots", auth, { organizationId: org, clinicianId, patientId })}
    ), outside as (
      ${outsideHoursOf("slots", org, clinicianId)}
    ), verdict as (
      select exists (select 1 from patient) as patient_found,
        exists (select 1 from any_patient) and not exists (select 1 from patient) as patient_hidden,
        exists (select 1 from patient where status <> 'discharged') as patient_open,
        exists (select 1 from clinician) as clinician_ok,
        not exists (select 1 from clashes) as free,
        (${input.override} or not exists (select 1 from outside)) as hours_ok
    ), inserted as (
      insert into appointments (id, organization_id, patient_id, clinician_id, starts_at, ends_at, status, kind, location, video_url, reason, series_id, outside_hours, created_by)
      select s.id, ${org}::uuid, ${patientId}, ${clinicianId}, s.starts_at, s.ends_at, 'scheduled', ${input.kind}, ${input.location}::text, ${input.videoUrl}::text,
        ${input.reason}::text, ${input.seriesId}::uuid, exists (select 1 from outside x where x.n = s.n), ${auth.userId}::uuid
      from slots s, verdict v
      where v.patient_found and v.patient_open and v.clinician_ok and v.free and v.hours_ok
      returning *
    ), events as (
      ${eventFromCte("inserted", origin, {
        organizationId: org,
        type: "appointment.scheduled",
        subjectType: "appointment",
        subjectId: sql`id`,
        payload: sql`jsonb_build_object('appointmentId', id, 'patientId', patient_id, 'clinicianId', clinician_id, 'status', status, 'seriesId', series_id)`,
      })}
      returning id
    ), audit as (
      ${auditOnceFromCte("inserted", origin, {
        action: "appointment.scheduled",
        organizationId: org,
        ...actorOf(auth),
        targetType: input.seriesId ? "appointment_series" : "appointment",
        targetId: input.seriesId ?? input.ids[0],
        patientIds: sql`(select coalesce(array_agg(id), '{}'::uuid[]) from any_patient)`,
        metadata: sql`jsonb_strip_nulls(jsonb_build_object(
          'appointmentIds', coalesce(jsonb_agg(id order by starts_at) filter (where id is not null), '[]'::jsonb),
          'outcome', (select case when not patient_found then (case when patient_hidden then 'denied' else 'not_found' end)
            when not patient_open then 'patient_discharged' when not clinician_ok then 'invalid_clinician'
            when not hours_ok then 'outside_hours' when not free then 'conflict' end from verdict)))`,
      })}
    )
    select v.*,
      (select jsonb_agg(${appointmentJson("i", sql`(select timezone from patient)`)} order by i.starts_at) from inserted i) as created,
      ${conflictsJson("clashes")} as conflicts,
      (select jsonb_agg(x.starts_at order by x.starts_at) from outside x) as outside,
      (select jsonb_agg(e.id) from events e) as event_ids
    from verdict v`);
}
