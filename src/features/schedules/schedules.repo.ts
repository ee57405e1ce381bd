import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { TenantScope } from "#src/db/scope.ts";
import { namedPatient, outcomeOf } from "#src/features/patients/patients.sql.ts";
import { ScheduleRow, scheduleJson } from "#src/features/schedules/schedules.sql.ts";
import { patientVisible } from "#src/lib/access.ts";
import { type AuditOrigin, actorOf, auditOnceFromCte, TARGET_PATIENT } from "#src/lib/audit.ts";
import { eventFromCte } from "#src/lib/events.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

/**
 * Every schedule statement is one round trip: the patient's (or the schedule's) reach, the read
 * or write, its `schedule.*` event and its audit row (a 404 too: outcome denied or not_found).
 */

const reachablePatient = (auth: AuthContext, org: string, patientId: string): SQL =>
  sql`select p.id from patients p where p.organization_id = ${org} and p.id = ${patientId}::uuid and ${patientVisible(auth, sql`p.id`)}`;

export interface ListFilters {
  active?: boolean;
  kind?: string;
  limit: number;
  after?: { createdAt: string; id: string };
}

export const ListOutcome = z.object({ found: z.boolean(), schedules: z.array(ScheduleRow) });

/** A patient's live schedules, oldest first, keyset-paged on (created_at, id), and one audit row. */
export function listSchedules(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, patientId: string, filters: ListFilters) {
  const org = scope.organizationId;
  const conditions: SQL[] = [sql`s.organization_id = ${org}`, sql`s.deleted_at is null`];
  if (filters.active !== undefined) conditions.push(sql`s.active = ${filters.active}`);
  if (filters.kind) conditions.push(sql`s.kind = ${filters.kind}`);
  if (filters.after) conditions.push(sql`(s.created_at, s.id) > (${filters.after.createdAt}::timestamptz, ${filters.after.id}::uuid)`);
  return scope.db.execute(sql`
    with target as (${reachablePatient(auth, org, patientId)}),
    page as (
      select s.* from schedules s join target t on s.patient_id = t.id
      where ${sql.join(conditions, sql` and `)}
      order by s.created_at, s.id limit ${filters.limit + 1}
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "schedule.listed",
        organizationId: org,
        ...actorOf(auth),
        targetType: "patient",
        targetId: patientId,
        patientIds: namedPatient(org, patientId),
        metadata: sql`jsonb_build_object('outcome', ${outcomeOf(org, patientId, sql`'ok'`)}, 'count', (select least(count(*), ${filters.limit}) from page))`,
      })}
    )
    select exists (select 1 from target) as found,
      coalesce((select jsonb_agg(${scheduleJson("s")} order by s.created_at, s.id) from page s), '[]'::jsonb) as schedules`);
}

/** The new schedule's columns, as SQL values. */
export type ScheduleValues = Record<string, SQL>;

export const WriteOutcome = z.object({ found: z.boolean(), schedule: ScheduleRow.nullable() });

/** Inserts a schedule for a reachable patient, with `schedule.created` and the audit row. */
export function insertSchedule(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, input: { id: string; patientId: string; eventId: string; values: ScheduleValues }) {
  const org = scope.organizationId;
  const columns = Object.keys(input.values);
  const values = sql.join(
    columns.map((column) => input.values[column] ?? sql`null`),
    sql`, `,
  );
  return scope.db.execute(sql`
    with target as (${reachablePatient(auth, org, input.patientId)}),
    inserted as (
      insert into schedules (id, organization_id, patient_id, created_by, ${sql.raw(columns.join(", "))})
      select ${input.id}::uuid, ${org}::uuid, t.id, ${auth.userId}::uuid, ${values} from target t
      returning *
    ), event as (
      ${eventFromCte("inserted", origin, { id: input.eventId, organizationId: org, type: "schedule.created", subjectType: "schedule", subjectId: sql`id`, payload: sql`jsonb_build_object('patientId', patient_id)` })}
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "schedule.created",
        organizationId: org,
        ...actorOf(auth),
        targetType: "schedule",
        targetId: input.id,
        patientIds: namedPatient(org, input.patientId),
        metadata: sql`jsonb_build_object('outcome', ${outcomeOf(org, input.patientId, sql`'ok'`)})`,
      })}
    )
    select exists (select 1 from target) as found, (select ${scheduleJson("i")} from inserted i) as schedule`);
}

/** The live schedule `id` the caller reaches (locked), and, when they do not, its patient for the audit row. */
const targetOf = (auth: AuthContext, org: string, id: string): SQL => sql`target as (
      select s.* from schedules s
      where s.organization_id = ${org} and s.id = ${id}::uuid and s.deleted_at is null and ${patientVisible(auth, sql`s.patient_id`)}
      for update of s
    ), hidden as (
      select s.patient_id from schedules s
      where s.organization_id = ${org} and s.id = ${id}::uuid and s.deleted_at is null and not exists (select 1 from target)
    )`;

const reachOutcome = (reached: SQL): SQL =>
  sql`case when exists (select 1 from target) then ${reached} when exists (select 1 from hidden) then 'denied' else 'not_found' end`;

/** Cancels the open reminders of the schedules in `cte` (its rows' `id`). */
const cancelOpenReminders = (org: string, cte: string, condition: SQL = sql`true`): SQL =>
  sql`update reminders r set status = 'cancelled', updated_at = now()
      from ${sql.raw(cte)} c
      where r.organization_id = ${org} and r.schedule_id = c.id and r.status in ('pending', 'sent') and ${condition}
      returning r.id`;

export const PatchOutcome = z.object({ found: z.boolean(), fresh: z.boolean(), dose_ok: z.boolean(), dates_ok: z.boolean(), schedule: ScheduleRow.nullable() });

/**
 * Updates a live schedule at the version If-Match names: `proposed` is the row as it would be
 * (each column the new value or the stored one), checked against the rules that span the stored
 * row (a dose only on medication, end on or after start) before the update. Pausing it cancels
 * its open reminders in the same statement.
 */
export function updateSchedule(
  scope: TenantScope,
  origin: AuditOrigin,
  auth: AuthContext,
  input: { id: string; eventId: string; expected: number; proposed: ScheduleValues; fields: string[] },
) {
  const org = scope.organizationId;
  const proposed = sql.join(
    Object.entries(input.proposed).map(([column, value]) => sql`${value} as ${sql.identifier(column)}`),
    sql`, `,
  );
  const set = sql.join(
    Object.keys(input.proposed).map((column) => sql`${sql.identifier(column)} = c.${sql.identifier(column)}`),
    sql`, `,
  );
  const fields = `{${input.fields.join(",")}}`;
  return scope.db.execute(sql`
    with ${targetOf(auth, org, input.id)},
    proposed as (select t.id, t.version, ${proposed} from target t),
    checked as (
      select c.*, (c.dose is null or c.kind = 'medication') as dose_ok,
        (c.end_date is null or c.start_date is null or c.end_date >= c.start_date) as dates_ok
      from proposed c
    ), updated as (
      update schedules s set ${set}, version = s.version + 1, updated_at = now()
      from checked c
      where s.organization_id = ${org} and s.id = c.id and s.version = ${input.expected} and c.dose_ok and c.dates_ok
      returning s.*
    ), cancelled as (${cancelOpenReminders(org, "updated", sql`not c.active`)}),
    event as (
      ${eventFromCte("updated", origin, { id: input.eventId, organizationId: org, type: "schedule.updated", subjectType: "schedule", subjectId: sql`id`, payload: sql`jsonb_build_object('patientId', patient_id)` })}
    ), audit as (
      ${auditOnceFromCte("updated", origin, {
        action: "schedule.updated",
        organizationId: org,
        ...actorOf(auth),
        targetType: "schedule",
        targetId: input.id,
        patientIds: TARGET_PATIENT,
        metadata: sql`jsonb_build_object('outcome', ${reachOutcome(sql`case when count(c.id) > 0 then 'ok' else 'rejected' end`)}, 'fields', ${fields}::text[],
          'cancelledReminders', (select count(*) from cancelled))`,
      })}
    )
    select exists (select 1 from target) as found,
      coalesce((select version = ${input.expected} from target), false) as fresh,
      coalesce((select dose_ok from checked), true) as dose_ok,
      coalesce((select dates_ok from checked), true) as dates_ok,
      (select ${scheduleJson("u")} from updated u) as schedule`);
}

export const DeleteOutcome = z.object({ deleted: z.boolean() });

/** Soft-deletes a live schedule: deleted_at, active false, its open reminders cancelled; event and audit row. */
export function deleteSchedule(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, input: { id: string; eventId: string }) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with ${targetOf(auth, org, input.id)},
    deleted as (
      update schedules s set deleted_at = now(), active = false, version = s.version + 1, updated_at = now()
      from target t where s.organization_id = ${org} and s.id = t.id
      returning s.id, s.patient_id
    ), cancelled as (${cancelOpenReminders(org, "deleted")}),
    event as (
      ${eventFromCte("deleted", origin, { id: input.eventId, organizationId: org, type: "schedule.deleted", subjectType: "schedule", subjectId: sql`id`, payload: sql`jsonb_build_object('patientId', patient_id)` })}
    ), audit as (
      ${auditOnceFromCte("deleted", origin, {
        action: "schedule.deleted",
        organizationId: org,
        ...actorOf(auth),
        targetType: "schedule",
        targetId: input.id,
        patientIds: TARGET_PATIENT,
        metadata: sql`jsonb_build_object('outcome', ${reachOutcome(sql`'ok'`)}, 'cancelledReminders', (select count(*) from cancelled))`,
      })}
    )
    select exists (select 1 from deleted) as deleted`);
}
