import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { TenantScope } from "#src/db/scope.ts";
import { exactOf, isoOf } from "#src/db/sql-time.ts";
import { alertPayload } from "#src/features/alerts/alerts.sql.ts";
import { namedPatient, outcomeOf } from "#src/features/patients/patients.sql.ts";
import { patientVisible } from "#src/lib/access.ts";
import { type AuditOrigin, actorOf, auditFromCte, auditOnceFromCte } from "#src/lib/audit.ts";
import { eventFromCte } from "#src/lib/events.ts";
import { SQL_UUIDV7 } from "#src/lib/ids.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

/** One activity row to write: the heartbeat itself, or an event the device reported with it. */
export interface ActivityInput {
  type: "heartbeat" | "app_open" | "reminder_interaction" | "battery";
  occurredAt: string;
  batteryLevel: number | null;
  appVersion: string | null;
  reminderId: string | null;
}

export const HeartbeatOutcome = z.object({
  found: z.boolean(),
  reminders_ok: z.boolean(),
  last_heartbeat_at: z.string().nullable(),
  recorded: z.number().int(),
  resolved_ids: z.array(z.string()).nullable(),
  event_ids: z.array(z.string()).nullable(),
});

/**
 * A heartbeat in ONE statement: the patient the caller reaches (their own record, or any for a
 * key), the activity rows, `last_heartbeat_at` moved forward only (`greatest`) and the app version,
 * the open inactivity alert resolved by the system (alert.resolved), and the audit rows. Nothing is
 * written when a reported reminder is not the patient's (`reminders_ok` false: a 422).
 */
export function recordHeartbeat(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, patientId: string, now: string, appVersion: string | null, rows: ActivityInput[]) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with target as (
      select p.id from patients p where p.organization_id = ${org} and p.id = ${patientId}::uuid and ${patientVisible(auth, sql`p.id`)}
    ), input as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as e(type text, "occurredAt" timestamptz, "batteryLevel" smallint, "appVersion" text, "reminderId" uuid)
    ), checked as (
      select t.id from target t where not exists (
        select 1 from input e where e."reminderId" is not null and not exists (
          select 1 from reminders r where r.organization_id = ${org} and r.patient_id = t.id and r.id = e."reminderId"))
    ), beat as (
      update patients p set last_heartbeat_at = greatest(p.last_heartbeat_at, ${now}::timestamptz),
        app_version = coalesce(${appVersion}::text, p.app_version)
      from checked c where p.organization_id = ${org} and p.id = c.id
      returning p.id, p.last_heartbeat_at
    ), recorded as (
      insert into activity_events (id, organization_id, patient_id, type, occurred_at, received_at, battery_level, app_version, reminder_id)
      select ${sql.raw(SQL_UUIDV7)}, ${org}::uuid, c.id, e.type, e."occurredAt", ${now}::timestamptz, e."batteryLevel", e."appVersion", e."reminderId"
      from checked c cross join input e
      returning id
    ), resolved as (
      update alerts a set status = 'resolved', resolved_at = ${now}::timestamptz, resolved_by = null, next_escalation_at = null, updated_at = ${now}::timestamptz
      from checked c
      where a.organization_id = ${org} and a.patient_id = c.id and a.type = 'inactivity' and a.status <> 'resolved'
      returning a.id, a.patient_id, a.severity
    ), events as (
      ${eventFromCte("resolved", origin, { organizationId: org, type: "alert.resolved", subjectType: "alert", subjectId: sql`id`, payload: alertPayload })}
      returning id
    ), resolve_audit as (
      ${auditFromCte("resolved", origin, {
        action: "alert.resolved",
        organizationId: org,
        targetType: "alert",
        targetId: sql`id`,
        patientIds: sql`array[patient_id]`,
        metadata: { by: "heartbeat" },
      })}
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "activity.heartbeat",
        organizationId: org,
        ...actorOf(auth),
        targetType: "patient",
        targetId: patientId,
        patientIds: namedPatient(org, patientId),
        metadata: sql`jsonb_build_object('outcome', ${outcomeOf(org, patientId, sql`case when exists (select 1 from checked) then 'ok' else 'invalid_reminder' end`)},
          'events', ${rows.length - 1}::int)`,
      })}
    )
    select exists (select 1 from target) as found, exists (select 1 from checked) as reminders_ok,
      (select ${isoOf("last_heartbeat_at")} from beat) as last_heartbeat_at,
      (select count(*)::int from recorded) as recorded,
      (select jsonb_agg(id) from resolved) as resolved_ids,
      (select jsonb_agg(id) from events) as event_ids`);
}

export interface ActivityFilters {
  type?: ActivityInput["type"];
  from?: string;
  to?: string;
  limit: number;
  before?: { occurredAt: string; id: string };
}

export const ActivityPage = z.object({
  found: z.boolean(),
  rows: z
    .array(
      z.object({
        id: z.string(),
        patient_id: z.string(),
        type: z.enum(["heartbeat", "app_open", "reminder_interaction", "battery"]),
        occurred_at: z.string(),
        received_at: z.string(),
        battery_level: z.number().int().nullable(),
        app_version: z.string().nullable(),
        reminder_id: z.string().nullable(),
        cursor_at: z.string(),
      }),
    )
    .nullable()
    .transform((rows) => rows ?? []),
});

/** A page of the patient's activity, newest first, and its audit row (a 404 is audited too). */
export function listActivity(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, patientId: string, filters: ActivityFilters) {
  const org = scope.organizationId;
  const conditions: SQL[] = [sql`e.organization_id = ${org}`, sql`e.patient_id = ${patientId}::uuid`, sql`exists (select 1 from target)`];
  if (filters.type) conditions.push(sql`e.type = ${filters.type}`);
  if (filters.from) conditions.push(sql`e.occurred_at >= ${filters.from}::timestamptz`);
  if (filters.to) conditions.push(sql`e.occurred_at < ${filters.to}::timestamptz`);
  if (filters.before) conditions.push(sql`(e.occurred_at, e.id) < (${filters.before.occurredAt}::timestamptz, ${filters.before.id}::uuid)`);
  return scope.db.execute(sql`
    with target as (
      select p.id from patients p where p.organization_id = ${org} and p.id = ${patientId}::uuid and ${patientVisible(auth, sql`p.id`)}
    ), page as (
      select e.id, e.patient_id, e.type, ${isoOf("e.occurred_at")} as occurred_at, ${isoOf("e.received_at")} as received_at,
        e.battery_level, e.app_version, e.reminder_id, ${exactOf("e.occurred_at")} as cursor_at, e.occurred_at as sort_at
      from activity_events e
      where ${sql.join(conditions, sql` and `)}
      order by e.occurred_at desc, e.id desc
      limit ${filters.limit + 1}
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "activity.listed",
        organizationId: org,
        ...actorOf(auth),
        targetType: "patient",
        targetId: patientId,
        patientIds: namedPatient(org, patientId),
        metadata: sql`jsonb_build_object('outcome', ${outcomeOf(org, patientId, sql`'ok'`)}, 'count', least((select count(*) from page), ${filters.limit})::int)`,
      })}
    )
    select exists (select 1 from target) as found,
      (select jsonb_agg(to_jsonb(x) - 'sort_at' order by x.sort_at desc, x.id desc) from page x) as rows`);
}
