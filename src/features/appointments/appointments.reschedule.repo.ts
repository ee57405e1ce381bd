import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { TenantScope } from "#src/db/scope.ts";
import {
  appointmentJson,
  ConflictRow,
  clashesOf,
  conflictsJson,
  jsonArray,
  LIVE_STATUSES,
  outsideHoursOf,
  patientTimezoneOf,
  ownCalendar,
  visibleAs,
} from "#src/features/appointments/appointments.sql.ts";
import { APPOINTMENT_STATUSES } from "#src/db/schema/index.ts";
import { type AuditOrigin, actorOf, auditOnceFromCte, TARGET_PATIENT } from "#src/lib/audit.ts";
import { eventFromCte } from "#src/lib/events.ts";
import type { AuthContext } from "#src/middleware/auth.ts";
import { AppointmentRow } from "#src/features/appointments/appointments.view.ts";

export interface AppointmentChanges {
  startsAt?: string;
  endsAt?: string;
  clinicianId?: string;
  kind?: "in_person" | "telehealth";
  location?: string | null;
  videoUrl?: string | null;
  reason?: string | null;
}

export interface RescheduleInput {
  id: string;
  changes: AppointmentChanges;
  /** The version If-Match names, when it was sent. */
  expectedVersion: number | null;
  override: boolean;
}

export const RescheduleOutcome = z.object({
  found: z.boolean(),
  hidden: z.boolean(),
  /** Seen, but another clinician's session: a clinician changes only their own. */
  foreign_calendar: z.boolean(),
  current_status: z.enum(APPOINTMENT_STATUSES).nullable(),
  open: z.boolean(),
  fresh: z.boolean(),
  range_ok: z.boolean(),
  kind_ok: z.boolean(),
  clinician_ok: z.boolean(),
  free: z.boolean(),
  hours_ok: z.boolean(),
  appointment: AppointmentRow.nullable(),
  outside: jsonArray(z.string()),
  conflicts: jsonArray(ConflictRow),
  event_ids: jsonArray(z.string()),
});

const given = (value: unknown) => value !== undefined;

/** What each column becomes: the change when one was sent, else what follows from the others. */
function proposedColumns(changes: AppointmentChanges): Record<string, SQL> {
  const { startsAt, endsAt, clinicianId, kind, location, videoUrl, reason } = changes;
  const starts = given(startsAt) ? sql`${startsAt}::timestamptz` : sql`t.starts_at`;
  let ends = sql`t.ends_at`;
  if (given(endsAt)) ends = sql`${endsAt}::timestamptz`;
  else if (given(startsAt)) ends = sql`${startsAt}::timestamptz + (t.ends_at - t.starts_at)`;
  const clearedBy = (other: string) => (kind !== undefined && kind !== other ? sql`null::text` : undefined);
  return {
    clinician_id: given(clinicianId) ? sql`${clinicianId}::uuid` : sql`t.clinician_id`,
    starts_at: starts,
    ends_at: ends,
    kind: given(kind) ? sql`${kind}::text` : sql`t.kind`,
    location: given(location) ? sql`${location}::text` : (clearedBy("in_person") ?? sql`t.location`),
    video_url: given(videoUrl) ? sql`${videoUrl}::text` : (clearedBy("telehealth") ?? sql`t.video_url`),
    reason: given(reason) ? sql`${reason}::text` : sql`t.reason`,
  };
}

/**
 * Edits a scheduled or confirmed appointment in ONE statement: locks it (when the caller may
 * see it), works out the proposed row, checks the version If-Match named, the range, the kind's
 * fields, the clinician, clashes with other live appointments and, when the slot or clinician
 * moves, working hours; updates only if all of that passed; writes `appointment.updated` and
 * one audit row (refusals included). A new time sends a confirmed appointment back to scheduled.
 */
export function rescheduleAppointment(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, input: RescheduleInput) {
  const org = scope.organizationId;
  const { changes } = input;
  const columns = proposedColumns(changes);
  const timeMoves = given(changes.startsAt) || given(changes.endsAt);
  const slotMoves = timeMoves || given(changes.clinicianId);
  const proposedSelect = sql.join(
    Object.entries(columns).map(([name, value]) => sql`${value} as ${sql.identifier(name)}`),
    sql`, `,
  );
  const fields = Object.keys(changes).filter((key) => given(changes[key as keyof AppointmentChanges]));
  return scope.db.execute(sql`
    with target as (
      select a.* from appointments a
      where a.organization_id = ${org} and a.id = ${input.id}::uuid and ${visibleAs(auth, "a")}
      for update of a
    ), hidden as (
      select a.patient_id from appointments a
      where a.organization_id = ${org} and a.id = ${input.id}::uuid and not exists (select 1 from target)
    ), proposed as (
      select t.id, t.patient_id, 1 as n, ${proposedSelect} from target t
    ), clinician as (
      select 1 from memberships m join proposed p on m.user_id = p.clinician_id
      where m.organization_id = ${org} and m.role = 'clinician'
    ), clashes as (
      ${clashesOf("proposed", auth, {
        organizationId: org,
        clinicianId: sql`(select clinician_id from proposed)`,
        patientId: sql`(select patient_id from proposed)`,
        excludeId: input.id,
      })}
    ), outside as (
      ${slotMoves ? outsideHoursOf("proposed", org, sql`(select clinician_id from proposed)`) : sql`select 1 as n, null::timestamptz as starts_at where false`}
    ), verdict as (
      select exists (select 1 from target) as found,
        exists (select 1 from hidden) as hidden,
        exists (select 1 from target t where not (${ownCalendar(auth, "t")})) as foreign_calendar,
        (select status from target) as current_status,
        coalesce((select status in ${LIVE_STATUSES} from target), false) as open,
        ${input.expectedVersion === null ? sql`true` : sql`coalesce((select version = ${input.expectedVersion}::int from target), true)`} as fresh,
        coalesce((select ends_at > starts_at and ends_at <= starts_at + interval '24 hours' from proposed), true) as range_ok,
        coalesce((select (kind = 'in_person' and video_url is null) or (kind = 'telehealth' and location is null) from proposed), true) as kind_ok,
        ${given(changes.clinicianId) ? sql`exists (select 1 from clinician)` : sql`true`} as clinician_ok,
        not exists (select 1 from clashes) as free,
        (${input.override} or not exists (select 1 from outside)) as hours_ok
    ), changed as (
      update appointments a set
        clinician_id = p.clinician_id, starts_at = p.starts_at, ends_at = p.ends_at, kind = p.kind,
        location = p.location, video_url = p.video_url, reason = p.reason,
        outside_hours = ${slotMoves ? sql`exists (select 1 from outside)` : sql`a.outside_hours`},
        status = ${timeMoves ? sql`case when a.status = 'confirmed' then 'scheduled' else a.status end` : sql`a.status`},
        confirmed_at = ${timeMoves ? sql`case when a.status = 'confirmed' then null else a.confirmed_at end` : sql`a.confirmed_at`},
        version = a.version + 1, updated_at = now()
      from proposed p, verdict v
      where a.organization_id = ${org} and a.id = p.id
        and not v.foreign_calendar and v.open and v.fresh and v.range_ok and v.kind_ok and v.clinician_ok and v.free and v.hours_ok
      returning a.*
    ), events as (
      ${eventFromCte("changed", origin, {
        organizationId: org,
        type: "appointment.updated",
        subjectType: "appointment",
        subjectId: sql`id`,
        payload: sql`jsonb_build_object('appointmentId', id, 'patientId', patient_id, 'clinicianId', clinician_id, 'status', status,
          'changes', ${JSON.stringify(fields)}::jsonb)`,
      })}
      returning id
    ), audit as (
      ${auditOnceFromCte("changed", origin, {
        action: "appointment.updated",
        organizationId: org,
        ...actorOf(auth),
        targetType: "appointment",
        targetId: input.id,
        patientIds: TARGET_PATIENT,
        metadata: sql`jsonb_strip_nulls(jsonb_build_object('changes', ${JSON.stringify(fields)}::jsonb,
          'outcome', (select case when not found then (case when hidden then 'denied' else 'not_found' end)
            when foreign_calendar then 'forbidden' when not fresh then 'stale' when not open then 'status_' || current_status
            when not (range_ok and kind_ok and clinician_ok) then 'invalid' when not hours_ok then 'outside_hours'
            when not free then 'conflict' end from verdict)))`,
      })}
    )
    select v.*,
      (select ${appointmentJson("c", patientTimezoneOf(org, "c"))} from changed c) as appointment,
      ${conflictsJson("clashes")} as conflicts,
      (select jsonb_agg(x.starts_at) from outside x) as outside,
      (select jsonb_agg(e.id) from events e) as event_ids
    from verdict v`);
}
