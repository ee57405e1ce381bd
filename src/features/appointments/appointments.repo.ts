import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { APPOINTMENT_STATUSES, type AppointmentStatus } from "#src/db/schema/index.ts";
import type { TenantScope } from "#src/db/scope.ts";
import { exactOf } from "#src/db/sql-time.ts";
import { appointmentJson, jsonArray, ownCalendar, patientTimezoneOf, visibleAs } from "#src/features/appointments/appointments.sql.ts";
import { type AuditOrigin, actorOf, aggregatedIds, auditOnceFromCte, TARGET_PATIENT, unchangedOutcome } from "#src/lib/audit.ts";
import { eventFromCte, type EventType } from "#src/lib/events.ts";
import type { AuthContext } from "#src/middleware/auth.ts";
import { AppointmentRow } from "#src/features/appointments/appointments.view.ts";

/** A row of the list or the detail read: the appointment as jsonb (AppointmentRow). */
export const AppointmentJsonRow = z.object({ appointment: AppointmentRow });

export interface ListFilters {
  from?: string;
  to?: string;
  clinicianId?: string;
  patientId?: string;
  status?: AppointmentStatus;
  limit: number;
  after?: { startsAt: string; id: string };
}

/** The exact keyset position (microseconds kept), for the next page's cursor. */
const CURSOR_AT = exactOf("a.starts_at");

/**
 * A page of the appointments the caller may see, in (starts_at, id) order, and ONE audit row
 * naming every patient and appointment it returned, in the same statement.
 */
export function listAppointments(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, filters: ListFilters) {
  const org = scope.organizationId;
  const conditions: SQL[] = [sql`a.organization_id = ${org}`, visibleAs(auth, "a")];
  // Sessions last 24 hours at most (the range check): the starts_at bound lets the index serve `from`.
  if (filters.from) conditions.push(sql`a.ends_at > ${filters.from}::timestamptz and a.starts_at > ${filters.from}::timestamptz - interval '24 hours'`);
  if (filters.to) conditions.push(sql`a.starts_at < ${filters.to}::timestamptz`);
  if (filters.clinicianId) conditions.push(sql`a.clinician_id = ${filters.clinicianId}::uuid`);
  if (filters.patientId) conditions.push(sql`a.patient_id = ${filters.patientId}::uuid`);
  if (filters.status) conditions.push(sql`a.status = ${filters.status}`);
  if (filters.after) conditions.push(sql`(a.starts_at, a.id) > (${filters.after.startsAt}::timestamptz, ${filters.after.id}::uuid)`);
  return scope.db.execute(sql`
    with page as (
      select a.*, ${CURSOR_AT} as cursor_at, row_number() over (order by a.starts_at, a.id) as position
      from appointments a
      where ${sql.join(conditions, sql` and `)}
      order by a.starts_at, a.id
      limit ${filters.limit + 1}
    ), shown as (
      select * from page where position <= ${filters.limit}
    ), audit as (
      ${auditOnceFromCte("shown", origin, {
        action: "appointment.listed",
        organizationId: org,
        ...actorOf(auth),
        targetType: "appointment",
        patientIds: aggregatedIds("patient_id"),
        metadata: sql`jsonb_build_object('count', count(id), 'appointmentIds', coalesce(jsonb_agg(id order by starts_at, id) filter (where id is not null), '[]'::jsonb))`,
      })}
    )
    select ${appointmentJson("p", patientTimezoneOf(org, "p"))} - 'position' as appointment
    from page p order by p.starts_at, p.id`);
}

/** One appointment the caller may see, audited (a 404 too: denied when it exists beyond their reach). */
export function readAppointment(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, id: string) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with target as (
      select a.* from appointments a where a.organization_id = ${org} and a.id = ${id}::uuid and ${visibleAs(auth, "a")}
    ), hidden as (
      select a.patient_id from appointments a
      where a.organization_id = ${org} and a.id = ${id}::uuid and not exists (select 1 from target)
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "appointment.read",
        organizationId: org,
        ...actorOf(auth),
        targetType: "appointment",
        targetId: id,
        patientIds: sql`coalesce(array_agg(patient_id) filter (where patient_id is not null), (select array_agg(patient_id) from hidden), '{}'::uuid[])`,
        metadata: sql`jsonb_strip_nulls(jsonb_build_object('outcome', case when count(id) > 0 then null
          when exists (select 1 from hidden) then 'denied' else 'not_found' end))`,
      })}
    )
    select ${appointmentJson("t", patientTimezoneOf(org, "t"))} as appointment from target t`);
}

export interface Transition {
  /** The statuses it leaves from. */
  from: readonly AppointmentStatus[];
  to: AppointmentStatus;
  /** The timestamp column it sets (a no-show has none). */
  stamp: "confirmed_at" | "completed_at" | "cancelled_at" | null;
  event: EventType;
  action: "appointment.confirmed" | "appointment.completed" | "appointment.no_show" | "appointment.cancelled";
}

export const TransitionOutcome = z.object({
  current_status: z.enum(APPOINTMENT_STATUSES).nullable(),
  hidden: z.boolean(),
  /** Seen, but another clinician's session: a clinician changes only their own. */
  foreign_calendar: z.boolean(),
  appointment: AppointmentRow.nullable(),
  event_ids: jsonArray(z.string()),
});

/**
 * One status change in ONE statement: locks the appointment (when the caller may see it),
 * changes it only from an allowed status, stamps the time, writes the event and the audit row
 * (a refusal is audited with its outcome).
 */
export function transitionAppointment(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, id: string, step: Transition, cancelReason?: string) {
  const org = scope.organizationId;
  const from = sql.join(step.from.map((status) => sql`${status}`), sql`, `);
  const stamp = step.stamp ? sql`, ${sql.identifier(step.stamp)} = now()` : sql``;
  const reason = step.to === "cancelled" ? sql`, cancel_reason = ${cancelReason ?? null}::text` : sql``;
  return scope.db.execute(sql`
    with target as (
      select a.id, a.status, a.patient_id, ${ownCalendar(auth, "a")} as own from appointments a
      where a.organization_id = ${org} and a.id = ${id}::uuid and ${visibleAs(auth, "a")}
      for update of a
    ), hidden as (
      select a.patient_id from appointments a
      where a.organization_id = ${org} and a.id = ${id}::uuid and not exists (select 1 from target)
    ), changed as (
      update appointments a set status = ${step.to}, version = a.version + 1, updated_at = now() ${stamp} ${reason}
      from target t
      where a.organization_id = ${org} and a.id = t.id and t.own and t.status in (${from})
      returning a.*
    ), events as (
      ${eventFromCte("changed", origin, {
        organizationId: org,
        type: step.event,
        subjectType: "appointment",
        subjectId: sql`id`,
        payload: sql`jsonb_build_object('appointmentId', id, 'patientId', patient_id, 'clinicianId', clinician_id, 'status', status)`,
      })}
      returning id
    ), audit as (
      ${auditOnceFromCte("changed", origin, {
        action: step.action,
        organizationId: org,
        ...actorOf(auth),
        targetType: "appointment",
        targetId: id,
        patientIds: TARGET_PATIENT,
        metadata: sql`jsonb_strip_nulls(jsonb_build_object('outcome', case when count(id) > 0 then null
          ${unchangedOutcome(sql`when exists (select 1 from target where not own) then 'forbidden'`)} end))`,
      })}
    )
    select (select status from target) as current_status,
      exists (select 1 from hidden) as hidden,
      exists (select 1 from target where not own) as foreign_calendar,
      (select ${appointmentJson("c", patientTimezoneOf(org, "c"))} from changed c) as appointment,
      (select jsonb_agg(e.id) from events e) as event_ids`);
}
