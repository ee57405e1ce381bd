import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { REMINDER_STATUSES } from "#src/db/schema/index.ts";
import type { TenantScope } from "#src/db/scope.ts";
import { ReminderRow, reminderJson } from "#src/features/reminders/reminders.sql.ts";
import { patientVisible } from "#src/lib/access.ts";
import { type AuditOrigin, actorOf, aggregatedIds, auditOnceFromCte, TARGET_PATIENT, unchangedOutcome } from "#src/lib/audit.ts";
import { eventFromCte } from "#src/lib/events.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

/** Each reminder statement is one round trip: the read or the acknowledgement, its event and its audit row. */

export interface ListFilters {
  patientId?: string;
  status?: string;
  from?: string;
  to?: string;
  limit: number;
  before?: { dueAt: string; id: string };
}

export const ListedRow = z.object({ reminder: ReminderRow });

/** A page of the reminders the caller reaches, newest due first, and ONE audit row naming what it returned. */
export function listReminders(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, filters: ListFilters) {
  const org = scope.organizationId;
  const conditions: SQL[] = [sql`r.organization_id = ${org}`, patientVisible(auth, sql`r.patient_id`)];
  if (filters.patientId) conditions.push(sql`r.patient_id = ${filters.patientId}::uuid`);
  if (filters.status) conditions.push(sql`r.status = ${filters.status}`);
  if (filters.from) conditions.push(sql`r.due_at >= ${filters.from}::timestamptz`);
  if (filters.to) conditions.push(sql`r.due_at < ${filters.to}::timestamptz`);
  if (filters.before) conditions.push(sql`(r.due_at, r.id) < (${filters.before.dueAt}::timestamptz, ${filters.before.id}::uuid)`);
  return scope.db.execute(sql`
    with page as (
      select r.*, row_number() over (order by r.due_at desc, r.id desc) as position from reminders r
      where ${sql.join(conditions, sql` and `)}
      order by r.due_at desc, r.id desc limit ${filters.limit + 1}
    ), shown as (
      select * from page where position <= ${filters.limit}
    ), audit as (
      ${auditOnceFromCte("shown", origin, {
        action: "reminder.listed",
        organizationId: org,
        ...actorOf(auth),
        targetType: "reminder",
        patientIds: aggregatedIds("patient_id"),
        metadata: sql`jsonb_build_object('count', count(id), 'reminderIds', coalesce(jsonb_agg(id order by position) filter (where id is not null), '[]'::jsonb))`,
      })}
    )
    select ${reminderJson("p")} as reminder from page p order by p.position`);
}

export const AckOutcome = z.object({ current_status: z.enum(REMINDER_STATUSES).nullable(), reminder: ReminderRow.nullable() });

/** Statuses an acknowledgement leaves from: a missed dose may still be acknowledged, late. */
export const ACKNOWLEDGEABLE = sql.raw(`('pending', 'sent', 'missed')`);

/**
 * Acknowledges a reminder the caller reaches (locked first), from pending, sent or missed, with
 * `reminder.acknowledged` and the audit row (a refusal too: its outcome names the status).
 */
export function acknowledgeReminder(
  scope: TenantScope,
  origin: AuditOrigin,
  auth: AuthContext,
  input: { id: string; eventId: string; response: string; now: string },
) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with target as (
      select r.id, r.status, r.patient_id from reminders r
      where r.organization_id = ${org} and r.id = ${input.id}::uuid and ${patientVisible(auth, sql`r.patient_id`)}
      for update of r
    ), hidden as (
      select r.patient_id from reminders r
      where r.organization_id = ${org} and r.id = ${input.id}::uuid and not exists (select 1 from target)
    ), acked as (
      update reminders r set status = 'acknowledged', response = ${input.response}, acknowledged_at = ${input.now}::timestamptz,
        acknowledged_by = ${auth.userId}::uuid, updated_at = ${input.now}::timestamptz
      from target t
      where r.organization_id = ${org} and r.id = t.id and t.status in ${ACKNOWLEDGEABLE}
      returning r.*
    ), event as (
      ${eventFromCte("acked", origin, {
        id: input.eventId,
        organizationId: org,
        type: "reminder.acknowledged",
        subjectType: "reminder",
        subjectId: sql`id`,
        payload: sql`jsonb_build_object('patientId', patient_id, 'response', response)`,
      })}
    ), audit as (
      ${auditOnceFromCte("acked", origin, {
        action: "reminder.acknowledged",
        organizationId: org,
        ...actorOf(auth),
        targetType: "reminder",
        targetId: input.id,
        patientIds: TARGET_PATIENT,
        metadata: sql`jsonb_build_object('outcome', case when count(c.id) > 0 then 'ok' ${unchangedOutcome()} end,
          'response', ${input.response}::text, 'late', coalesce((select status = 'missed' from target), false))`,
      })}
    )
    select (select status from target) as current_status, (select ${reminderJson("a")} from acked a) as reminder`);
}
