import { sql } from "drizzle-orm";
import { z } from "zod";
import type { TenantScope } from "#src/db/scope.ts";
import { type AuditOrigin, actorOf, auditFromCte } from "#src/lib/audit.ts";
import type { WorkingInterval } from "#src/features/clinicians/clinicians.hours.ts";

/** Where a clinician's zone comes from: their working hours, else their preferences, else UTC. */
const ZONE = sql.raw(`coalesce(wh.timezone, up.preferences ->> 'timezone', 'UTC')`);

const CLINICIAN_JOINS = sql.raw(`memberships m
      join users u on u.id = m.user_id
      left join working_hours wh on wh.organization_id = m.organization_id and wh.user_id = m.user_id
      left join user_preferences up on up.user_id = m.user_id`);

/** The hot list's cap: a practice's clinicians fit in one answer. */
export const MAX_CLINICIANS = 1000;

export const ClinicianRow = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  timezone: z.string(),
  patient_count: z.coerce.number().int(),
});

/** The organization's clinicians, each with the patients (not discharged) whose care team they are on. */
export function listClinicianRows(scope: TenantScope) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    select u.id, u.name, u.email, ${ZONE} as timezone,
      (select count(*) from care_team_members ctm
        join patients p on p.organization_id = ctm.organization_id and p.id = ctm.patient_id
        where ctm.organization_id = ${org} and ctm.user_id = m.user_id and p.status <> 'discharged')::int as patient_count
    from ${CLINICIAN_JOINS}
    where m.organization_id = ${org} and m.role = 'clinician'
    order by lower(u.name), u.id
    limit ${MAX_CLINICIANS}`);
}

export const WorkingHoursRow = z.object({
  user_id: z.string(),
  timezone: z.string(),
  intervals: z.array(z.object({ weekday: z.number(), start: z.string(), end: z.string() })).nullable(),
  updated_at: z.string().nullable(),
});

/** A clinician's working hours (or none: null intervals); no row when the id is no clinician of the organization. */
export function workingHoursRow(scope: TenantScope, clinicianId: string) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    select m.user_id, ${ZONE} as timezone, wh.intervals, wh.updated_at
    from ${CLINICIAN_JOINS}
    where m.organization_id = ${org} and m.user_id = ${clinicianId} and m.role = 'clinician'`);
}

/**
 * Replaces a clinician's working hours in one statement, only if the id is a clinician of the
 * organization, with its audit row; no row back means 404.
 */
export function upsertWorkingHours(
  scope: TenantScope,
  origin: AuditOrigin,
  actor: { userId: string | null; apiKeyId: string | null },
  input: { clinicianId: string; timezone: string; intervals: WorkingInterval[] },
) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with target as (
      select user_id from memberships where organization_id = ${org} and user_id = ${input.clinicianId} and role = 'clinician'
    ), saved as (
      insert into working_hours (organization_id, user_id, timezone, intervals)
      select ${org}, user_id, ${input.timezone}, ${JSON.stringify(input.intervals)}::jsonb from target
      on conflict (organization_id, user_id) do update
        set timezone = excluded.timezone, intervals = excluded.intervals, updated_at = now()
      returning user_id, timezone, intervals, updated_at
    ), audit as (
      ${auditFromCte("saved", origin, {
        action: "working_hours.updated",
        organizationId: org,
        ...actorOf(actor),
        targetType: "user",
        targetId: sql`user_id`,
        metadata: { intervals: input.intervals.length },
      })}
    )
    select user_id, timezone, intervals, updated_at from saved`);
}

export const AvailabilityRow = WorkingHoursRow.extend({
  /** [startMs, endMs] of each live appointment overlapping the window, by start. */
  busy: z.array(z.tuple([z.coerce.number(), z.coerce.number()])),
});

/** Working hours and the live appointments in [from, to) of one clinician: one statement. */
export function availabilityRow(scope: TenantScope, clinicianId: string, from: Date, to: Date) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    select m.user_id, ${ZONE} as timezone, wh.intervals, wh.updated_at,
      coalesce((
        select json_agg(json_build_array(
          (extract(epoch from a.starts_at) * 1000)::bigint, (extract(epoch from a.ends_at) * 1000)::bigint) order by a.starts_at)
        from appointments a
        where a.organization_id = ${org} and a.clinician_id = m.user_id and a.status in ('scheduled', 'confirmed')
          and a.starts_at < ${to.toISOString()}::timestamptz and a.ends_at > ${from.toISOString()}::timestamptz
      ), '[]'::json) as busy
    from ${CLINICIAN_JOINS}
    where m.organization_id = ${org} and m.user_id = ${clinicianId} and m.role = 'clinician'`);
}
