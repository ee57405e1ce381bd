import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "#src/db/client.ts";
import { alertPayload, firstEscalationAt, lastEscalationLevel } from "#src/features/alerts/alerts.sql.ts";
import { type AuditOrigin, auditFromCte } from "#src/lib/audit.ts";
import { eventFromCte } from "#src/lib/events.ts";
import { SQL_UUIDV7 } from "#src/lib/ids.ts";

/**
 * The cron statements, across organizations (a system-scope client): each is ONE set-based
 * statement whatever the number of patients or alerts, and answers the events it wrote so the job
 * can enqueue their dispatch. `now` is the job's clock, bound: tests run them on a fixed one.
 * `only` narrows a run to one organization (a test's, or an operator's manual run); cron passes none.
 */

/** Rows one tick handles at most; the rest wait for the next minute. */
export const SCAN_BATCH = 1000;

/** The lowest threshold a patient or organization may set (the CHECK constraints): the index bound. */
const MIN_THRESHOLD_MINUTES = 5;

export const EmittedEvent = z.object({ id: z.string(), organization_id: z.string() });

/**
 * Opens an inactivity alert (high: it escalates) for every active patient whose last heartbeat is
 * older than their threshold (their own, else their organization's) and who has none open. The
 * partial unique index (one open inactivity alert per patient) makes an overlapping tick insert
 * nothing twice: ON CONFLICT DO NOTHING.
 */
export function openInactivityAlerts(db: Database, origin: AuditOrigin, now: string, only: string | null = null) {
  const at = sql`${now}::timestamptz`;
  return db.execute(sql`
    with stale as (
      select p.organization_id, p.id as patient_id, o.escalation_minutes
      from patients p join organizations o on o.id = p.organization_id
      where p.status = 'active' and p.last_heartbeat_at is not null and (${only}::uuid is null or p.organization_id = ${only}::uuid)
        and p.last_heartbeat_at < ${at} - make_interval(mins => ${MIN_THRESHOLD_MINUTES})
        and p.last_heartbeat_at < ${at} - make_interval(mins => coalesce(p.inactivity_threshold_minutes, o.inactivity_threshold_minutes))
        and not exists (
          select 1 from alerts a where a.organization_id = p.organization_id and a.patient_id = p.id and a.type = 'inactivity' and a.status <> 'resolved')
      order by p.last_heartbeat_at
      limit ${SCAN_BATCH}
    ), opened as (
      insert into alerts (id, organization_id, patient_id, type, severity, status, created_at, updated_at, next_escalation_at)
      select ${sql.raw(SQL_UUIDV7)}, s.organization_id, s.patient_id, 'inactivity', 'high', 'open', ${at}, ${at},
        ${firstEscalationAt(sql`'high'`, at, sql`s.escalation_minutes`)}
      from stale s
      on conflict (organization_id, patient_id) where type = 'inactivity' and status <> 'resolved' do nothing
      returning id, organization_id, patient_id, severity, type
    ), ${systemTrail("opened", origin, "alert.created", sql`jsonb_build_object('type', type)`, sql`jsonb_build_object('type', type, 'severity', severity, 'by', 'inactivity_scan')`)}
    select id, organization_id from events`);
}

/**
 * The `events` and `audit` CTEs for the alerts a system statement wrote (`cte` returns id,
 * organization_id, patient_id, severity and what `extra` and `metadata` read): one event and one
 * audit row per alert, the system acting.
 */
function systemTrail(cte: string, origin: AuditOrigin, type: "alert.created" | "alert.escalated", extra: SQL, metadata: SQL): SQL {
  return sql`events as (
      ${eventFromCte(cte, origin, { organizationId: sql`organization_id`, type, subjectType: "alert", subjectId: sql`id`, payload: sql`${alertPayload} || ${extra}` })}
      returning id, organization_id
    ), audit as (
      ${auditFromCte(cte, origin, { action: type, organizationId: sql`organization_id`, targetType: "alert", targetId: sql`id`, patientIds: sql`array[patient_id]`, metadata })}
    )`;
}

/**
 * Escalates every open high or critical alert whose next_escalation_at has come, one step:
 * 1 the whole care team, 2 the owners and admins, 3 (critical only) a voice call to the primary.
 * The next step is `escalation_minutes` later; there is none after the last. Each step writes
 * alert.escalated {patientId, severity, level} and an audit row (the system acts). An acknowledged
 * alert has no next_escalation_at, and `skip locked` leaves one being acknowledged to the next tick.
 */
export function escalateAlerts(db: Database, origin: AuditOrigin, now: string, only: string | null = null) {
  const at = sql`${now}::timestamptz`;
  return db.execute(sql`
    with due as (
      select a.id, a.organization_id from alerts a
      where a.status = 'open' and a.next_escalation_at is not null and a.next_escalation_at <= ${at}
        and (${only}::uuid is null or a.organization_id = ${only}::uuid)
        and a.severity in ('high', 'critical') and a.escalation_level < ${lastEscalationLevel(sql`a.severity`)}
      order by a.next_escalation_at
      limit ${SCAN_BATCH}
      for update of a skip locked
    ), stepped as (
      update alerts a set escalation_level = a.escalation_level + 1, updated_at = ${at},
        next_escalation_at = case when a.escalation_level + 1 < ${lastEscalationLevel(sql`a.severity`)}
          then ${at} + make_interval(mins => o.escalation_minutes) end
      from due d join organizations o on o.id = d.organization_id
      where a.organization_id = d.organization_id and a.id = d.id
      returning a.id, a.organization_id, a.patient_id, a.severity, a.escalation_level
    ), ${systemTrail("stepped", origin, "alert.escalated", sql`jsonb_build_object('level', escalation_level)`, sql`jsonb_build_object('level', escalation_level, 'severity', severity)`)}
    select id, organization_id from events`);
}
