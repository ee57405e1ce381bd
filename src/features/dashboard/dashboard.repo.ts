import { sql } from "drizzle-orm";
import { z } from "zod";
import { APPOINTMENT_STATUSES } from "#src/db/schema/index.ts";
import type { TenantScope } from "#src/db/scope.ts";
import { appointmentVisible, patientVisible } from "#src/lib/access.ts";
import { actorOf, aggregatedIds, type AuditOrigin, auditOnceFromCte } from "#src/lib/audit.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

/** Today's list is bounded; `today_total` still counts every appointment of the day. */
export const TODAY_LIST_LIMIT = 200;

const AppointmentJson = z.object({
  id: z.string(),
  starts_at: z.string(),
  ends_at: z.string(),
  status: z.enum(APPOINTMENT_STATUSES),
  patient_id: z.string(),
  patient_name: z.string().nullable(),
  clinician_id: z.string(),
});

/** dashboardStatement's one row; check it with firstRow (src/db/rows.ts) where it is read. */
export const DashboardRow = z.object({
  timezone: z.string(),
  local_date: z.string(),
  week_start: z.string(),
  week_end: z.string(),
  active_patients: z.coerce.number().int(),
  today_total: z.coerce.number().int(),
  today: z.array(AppointmentJson),
  week: z.record(z.string(), z.coerce.number().int()),
});

export type DashboardRow = z.output<typeof DashboardRow>;

/**
 * The whole dashboard in one statement (one round trip), its audit row included: the day and the
 * ISO week (Monday to Monday) are the organization's local ones at `now`, turned back into
 * instants so the `(organization_id, starts_at)` index serves the ranges. Every count and list is
 * narrowed to what the caller may see (src/lib/access.ts), so a count never reveals a record
 * outside their reach. The audit row names the patients of the listed appointments.
 */
export function dashboardStatement(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, now: Date) {
  const org = scope.organizationId;
  const visibleAppointment = appointmentVisible(auth, { patientId: sql`a.patient_id`, clinicianId: sql`a.clinician_id` });
  return scope.db.execute(sql`
    with bounds as (
      select o.timezone as tz,
        date_trunc('day', ${now.toISOString()}::timestamptz at time zone o.timezone) as local_day,
        date_trunc('week', ${now.toISOString()}::timestamptz at time zone o.timezone) as local_week
      from organizations o where o.id = ${org}
    ), ranges as (
      select tz, local_day, local_week,
        local_day at time zone tz as day_start, (local_day + interval '1 day') at time zone tz as day_end,
        local_week at time zone tz as week_start, (local_week + interval '7 days') at time zone tz as week_end
      from bounds
    ), active as (
      select count(*) as n from patients p
      where p.organization_id = ${org} and p.status = 'active' and ${patientVisible(auth, sql`p.id`)}
    ), today_all as (
      select a.id, a.starts_at, a.ends_at, a.status, a.patient_id, a.clinician_id
      from appointments a, ranges r
      where a.organization_id = ${org} and a.starts_at >= r.day_start and a.starts_at < r.day_end and ${visibleAppointment}
    ), today as (
      -- A clinician sees their own sessions, with patients off their care team too: those are
      -- named only when the caller may read the patient (GET /patients/{id}), else null.
      select t.id, t.starts_at, t.ends_at, t.status, t.patient_id,
        case when ${patientVisible(auth, sql`p.id`)} then p.name end as patient_name, t.clinician_id
      from today_all t join patients p on p.organization_id = ${org} and p.id = t.patient_id
      order by t.starts_at, t.id
      limit ${TODAY_LIST_LIMIT}
    ), week as (
      select a.status, count(*) as n
      from appointments a, ranges r
      where a.organization_id = ${org} and a.starts_at >= r.week_start and a.starts_at < r.week_end and ${visibleAppointment}
      group by a.status
    ), audit as (
      ${auditOnceFromCte("today", origin, {
        action: "dashboard.read",
        organizationId: org,
        ...actorOf(auth),
        targetType: "dashboard",
        patientIds: aggregatedIds("patient_id"),
        metadata: sql`jsonb_build_object('appointmentIds', coalesce(jsonb_agg(id) filter (where id is not null), '[]'::jsonb))`,
      })}
    )
    select r.tz as timezone,
      to_char(r.local_day, 'YYYY-MM-DD') as local_date,
      to_char(r.local_week, 'YYYY-MM-DD') as week_start,
      to_char(r.local_week + interval '6 days', 'YYYY-MM-DD') as week_end,
      (select n from active) as active_patients,
      (select count(*) from today_all) as today_total,
      coalesce((select json_agg(json_build_object(
        'id', t.id, 'starts_at', t.starts_at, 'ends_at', t.ends_at, 'status', t.status,
        'patient_id', t.patient_id, 'patient_name', t.patient_name, 'clinician_id', t.clinician_id
      ) order by t.starts_at, t.id) from today t), '[]'::json) as today,
      coalesce((select json_object_agg(w.status, w.n) from week w), '{}'::json) as week
    from ranges r`);
}
