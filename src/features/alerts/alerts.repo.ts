import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { ALERT_STATUSES, type Severity } from "#src/db/schema/index.ts";
import type { TenantScope } from "#src/db/scope.ts";
import { AlertRow, alertJson, alertPayload, firstEscalationAt } from "#src/features/alerts/alerts.sql.ts";
import { namedPatient, outcomeOf } from "#src/features/patients/patients.sql.ts";
import { patientVisible } from "#src/lib/access.ts";
import { type AuditOrigin, actorOf, aggregatedIds, auditOnceFromCte, TARGET_PATIENT, unchangedOutcome } from "#src/lib/audit.ts";
import { eventFromCte } from "#src/lib/events.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

/** The alert statements of the routes: each one round trip with its audit row (and event). */

const visibleAlert = (auth: AuthContext, alias: string): SQL => patientVisible(auth, sql.raw(`${alias}.patient_id`));

const jsonRows = z
  .array(AlertRow)
  .nullable()
  .transform((rows) => rows ?? []);

export interface AlertFilters {
  severity?: Severity;
  status?: (typeof ALERT_STATUSES)[number];
  patientId?: string;
  from?: string;
  to?: string;
  limit: number;
  before?: { createdAt: string; id: string };
}

export const AlertPage = z.object({ rows: jsonRows });

/** A page of the alerts the caller may see, newest first, and one audit row naming their patients. */
export function listAlerts(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, filters: AlertFilters) {
  const org = scope.organizationId;
  const conditions: SQL[] = [sql`a.organization_id = ${org}`, visibleAlert(auth, "a")];
  if (filters.severity) conditions.push(sql`a.severity = ${filters.severity}`);
  if (filters.status) conditions.push(sql`a.status = ${filters.status}`);
  if (filters.patientId) conditions.push(sql`a.patient_id = ${filters.patientId}::uuid`);
  if (filters.from) conditions.push(sql`a.created_at >= ${filters.from}::timestamptz`);
  if (filters.to) conditions.push(sql`a.created_at < ${filters.to}::timestamptz`);
  if (filters.before) conditions.push(sql`(a.created_at, a.id) < (${filters.before.createdAt}::timestamptz, ${filters.before.id}::uuid)`);
  return scope.db.execute(sql`
    with page as (
      select a.* from alerts a where ${sql.join(conditions, sql` and `)}
      order by a.created_at desc, a.id desc
      limit ${filters.limit + 1}
    ), shown as (
      select * from page order by created_at desc, id desc limit ${filters.limit}
    ), audit as (
      ${auditOnceFromCte("shown", origin, {
        action: "alert.listed",
        organizationId: org,
        ...actorOf(auth),
        targetType: "alert",
        patientIds: aggregatedIds("patient_id"),
        metadata: sql`jsonb_build_object('count', count(id), 'alertIds', coalesce(jsonb_agg(id order by created_at desc, id desc) filter (where id is not null), '[]'::jsonb))`,
      })}
    )
    select (select jsonb_agg(${alertJson("p")} order by p.created_at desc, p.id desc) from page p) as rows`);
}

export const AlertOutcome = z.object({ alert: AlertRow.nullable() });

/** One alert the caller may see, audited (a 404 too: denied when it exists beyond their reach). */
export function readAlert(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, id: string) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with target as (
      select a.* from alerts a where a.organization_id = ${org} and a.id = ${id}::uuid and ${visibleAlert(auth, "a")}
    ), hidden as (
      select a.patient_id from alerts a where a.organization_id = ${org} and a.id = ${id}::uuid and not exists (select 1 from target)
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "alert.read",
        organizationId: org,
        ...actorOf(auth),
        targetType: "alert",
        targetId: id,
        patientIds: sql`coalesce(array_agg(patient_id) filter (where patient_id is not null), (select array_agg(patient_id) from hidden), '{}'::uuid[])`,
        metadata: sql`jsonb_strip_nulls(jsonb_build_object('outcome', case when count(id) > 0 then null when exists (select 1 from hidden) then 'denied' else 'not_found' end))`,
      })}
    )
    select (select ${alertJson("t")} from target t) as alert`);
}

export interface ManualAlert {
  id: string;
  eventId: string;
  patientId: string;
  severity: Severity;
  message: string;
  now: string;
}

/** A manual alert for a patient the caller reaches, with alert.created and its audit row. */
export function insertManualAlert(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, alert: ManualAlert) {
  const org = scope.organizationId;
  const now = sql`${alert.now}::timestamptz`;
  return scope.db.execute(sql`
    with target as (
      select p.id from patients p where p.organization_id = ${org} and p.id = ${alert.patientId}::uuid and ${patientVisible(auth, sql`p.id`)}
    ), created as (
      insert into alerts (id, organization_id, patient_id, type, severity, status, message, created_by, created_at, updated_at, next_escalation_at)
      select ${alert.id}::uuid, ${org}::uuid, t.id, 'manual', ${alert.severity}, 'open', ${alert.message}, ${auth.userId}::uuid, ${now}, ${now},
        ${firstEscalationAt(sql`${alert.severity}::text`, now, sql`o.escalation_minutes`)}
      from target t join organizations o on o.id = ${org}::uuid
      returning *
    ), events as (
      ${eventFromCte("created", origin, { id: alert.eventId, organizationId: org, type: "alert.created", subjectType: "alert", subjectId: sql`id`, payload: sql`${alertPayload} || jsonb_build_object('type', type)` })}
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "alert.created",
        organizationId: org,
        ...actorOf(auth),
        targetType: "alert",
        targetId: alert.id,
        patientIds: namedPatient(org, alert.patientId),
        metadata: sql`jsonb_build_object('outcome', ${outcomeOf(org, alert.patientId, sql`'ok'`)}, 'severity', ${alert.severity}::text, 'type', 'manual')`,
      })}
    )
    select (select ${alertJson("c")} from created c) as alert`);
}

export interface AlertTransition {
  from: readonly (typeof ALERT_STATUSES)[number][];
  to: "acknowledged" | "resolved";
  event: "alert.acknowledged" | "alert.resolved";
  action: "alert.acknowledged" | "alert.resolved";
}

export const TransitionOutcome = z.object({
  current_status: z.enum(ALERT_STATUSES).nullable(),
  alert: AlertRow.nullable(),
  event_ids: z
    .array(z.string())
    .nullable()
    .transform((ids) => ids ?? []),
});

/** Acknowledge or resolve in ONE statement: locked, changed only from an allowed status, evented, audited (a refusal too). */
export function transitionAlert(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, id: string, step: AlertTransition, now: string) {
  const org = scope.organizationId;
  const from = sql.join(step.from.map((status) => sql`${status}`), sql`, `);
  const at = sql`${now}::timestamptz`;
  const stamp =
    step.to === "acknowledged"
      ? sql`acknowledged_at = ${at}, acknowledged_by = ${auth.userId}::uuid, next_escalation_at = null`
      : sql`resolved_at = ${at}, resolved_by = ${auth.userId}::uuid, next_escalation_at = null`;
  return scope.db.execute(sql`
    with target as (
      select a.id, a.status, a.patient_id from alerts a
      where a.organization_id = ${org} and a.id = ${id}::uuid and ${visibleAlert(auth, "a")}
      for update of a
    ), hidden as (
      select a.patient_id from alerts a where a.organization_id = ${org} and a.id = ${id}::uuid and not exists (select 1 from target)
    ), changed as (
      update alerts a set status = ${step.to}, ${stamp}, updated_at = ${at}
      from target t where a.organization_id = ${org} and a.id = t.id and t.status in (${from})
      returning a.*
    ), events as (
      ${eventFromCte("changed", origin, { organizationId: org, type: step.event, subjectType: "alert", subjectId: sql`id`, payload: alertPayload })}
      returning id
    ), audit as (
      ${auditOnceFromCte("changed", origin, {
        action: step.action,
        organizationId: org,
        ...actorOf(auth),
        targetType: "alert",
        targetId: id,
        patientIds: TARGET_PATIENT,
        metadata: sql`jsonb_strip_nulls(jsonb_build_object('outcome', case when count(id) > 0 then null ${unchangedOutcome()} end))`,
      })}
    )
    select (select status from target) as current_status,
      (select ${alertJson("c")} from changed c) as alert,
      (select jsonb_agg(e.id) from events e) as event_ids`);
}
