import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { TenantScope } from "#src/db/scope.ts";
import { type ParsedPhone, e164Sql } from "#src/features/patients/patients.phone.ts";
import { exactOf } from "#src/db/sql-time.ts";
import { namedPatient, outcomeOf, PATIENT_COLUMNS, PatientRow, patientJsonOf } from "#src/features/patients/patients.sql.ts";
import type { PatientSort } from "#src/features/patients/patients.schemas.ts";
import { patientVisible } from "#src/lib/access.ts";
import { type AuditOrigin, actorOf, aggregatedIds, auditFromCte, auditOnceFromCte } from "#src/lib/audit.ts";
import { eventFromCte } from "#src/lib/events.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

/**
 * Every patient statement is one round trip: the read or write, its audit row (a 404 too, with
 * metadata.outcome "denied" or "not_found") and its outbox row, as data-modifying CTEs. The
 * caller's reach (src/lib/access.ts) is part of each WHERE, so what they may not see is missing.
 */

const visibleP = (auth: AuthContext): SQL => patientVisible(auth, sql`p.id`);

/** The trigram threshold of `<%` for the name search: loose enough for a typo ("Jonh" → "John" is 0.4). */
export const NAME_SIMILARITY_THRESHOLD = 0.3;

export type ListSearch = { kind: "name"; q: string } | { kind: "phone"; phone: ParsedPhone };

export type ListOrder =
  | { kind: "rank"; search: ListSearch; after?: { r: number; id: string } }
  | { kind: "key"; sort: PatientSort; order: "asc" | "desc"; after?: { k?: string; id: string } };

export interface ListFilters {
  status?: string;
  clinicianId?: string;
  limit: number;
  order: ListOrder;
}

const SORT_COLUMNS: Record<PatientSort, { key: SQL; cursor: SQL; cast: SQL; column: string }> = {
  name: { key: sql`p.search_name`, cursor: sql`p.search_name`, cast: sql`::text`, column: "search_name" },
  created_at: { key: sql`p.created_at`, cursor: exactOf("p.created_at"), cast: sql`::timestamptz`, column: "created_at" },
  updated_at: { key: sql`p.updated_at`, cursor: exactOf("p.updated_at"), cast: sql`::timestamptz`, column: "updated_at" },
};

/** rank: how well the query matches (1 for a phone hit); the filter that admits a row; the row's cursor key. */
function rankingOf(org: string, search: ListSearch): { rank: SQL; match: SQL } {
  if (search.kind === "phone") return { rank: sql`1::real`, match: sql`p.phone = ${e164Sql(search.phone, org)}` };
  const folded = sql`tend_fold(${search.q}::text)`;
  return { rank: sql`word_similarity(${folded}, p.search_name)`, match: sql`${folded} <% p.search_name` };
}

function orderingOf(org: string, auth: AuthContext, order: ListOrder): { select: SQL; where: SQL; orderBy: SQL } {
  if (order.kind === "rank") {
    const { rank, match } = rankingOf(org, order.search);
    const after = order.after ? sql`and (${rank} < ${order.after.r}::real or (${rank} = ${order.after.r}::real and p.id > ${order.after.id}::uuid))` : sql``;
    return { select: sql`${rank} as rank, null::text as sort_key`, where: sql`and ${match} ${after}`, orderBy: sql`${rank} desc, p.id asc` };
  }
  const column = SORT_COLUMNS[order.sort];
  const direction = sql.raw(order.order);
  const comparison = order.order === "asc" ? sql`>` : sql`<`;
  const after = order.after;
  // A cursor without its key (too long to carry) names the row: its key is read here, only from a
  // row the caller may see (else the key is null and the page empty, as for a missing row), so a
  // forged cursor naming another patient's id tells nothing about that patient.
  const key =
    after?.k !== undefined
      ? sql`${after.k}${column.cast}`
      : sql`(select cp.${sql.raw(column.column)} from patients cp where cp.organization_id = ${org} and cp.id = ${after?.id ?? null}::uuid and ${patientVisible(auth, sql`cp.id`)})`;
  const where = after ? sql`and (${column.key}, p.id) ${comparison} (${key}, ${after.id}::uuid)` : sql``;
  return { select: sql`null::real as rank, ${column.cursor} as sort_key`, where, orderBy: sql`${column.key} ${direction}, p.id ${direction}` };
}

export const ListedRow = PatientRow.extend({ rank: z.number().nullable(), sort_key: z.string().nullable() });

/**
 * A page (limit + 1 rows, to know whether more remain) and one `patient.listed` audit row naming
 * the patients shown. A name search sets the trigram threshold for this transaction first, in
 * the same batch, so `<%` can use the trigram index.
 */
export function listPatients(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, filters: ListFilters) {
  const org = scope.organizationId;
  const { select, where, orderBy } = orderingOf(org, auth, filters.order);
  const status = filters.status ? sql`and p.status = ${filters.status}` : sql``;
  const clinician = filters.clinicianId
    ? sql`and p.id in (select fc.patient_id from care_team_members fc where fc.organization_id = ${org} and fc.user_id = ${filters.clinicianId})`
    : sql``;
  const statement = scope.db.execute(sql`
    with page as (
      select ${PATIENT_COLUMNS}, ${select}, row_number() over (order by ${orderBy}) as position
      from patients p
      where p.organization_id = ${org} and ${visibleP(auth)} ${status} ${clinician} ${where}
      order by ${orderBy}
      limit ${filters.limit + 1}
    ), shown as (
      select id::uuid as id from page where position <= ${filters.limit}
    ), audit as (
      ${auditOnceFromCte("shown", origin, {
        action: "patient.listed",
        organizationId: org,
        ...actorOf(auth),
        targetType: "patient",
        patientIds: aggregatedIds("id"),
        metadata: sql`jsonb_build_object('outcome', 'ok', 'count', count(id), 'search', ${filters.order.kind === "rank"}::boolean)`,
      })}
    )
    select * from page order by position`);
  const threshold = scope.db.execute(sql`select set_config('pg_trgm.word_similarity_threshold', ${String(NAME_SIMILARITY_THRESHOLD)}, true)`);
  return { statement, threshold };
}

/** One patient the caller reaches, and its `patient.read` audit row (a 404 is audited too). */
export function findPatient(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, id: string) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with hit as (
      select ${PATIENT_COLUMNS} from patients p where p.organization_id = ${org} and p.id = ${id} and ${visibleP(auth)}
    ), audit as (
      ${auditOnceFromCte("hit", origin, {
        action: "patient.read",
        organizationId: org,
        ...actorOf(auth),
        targetType: "patient",
        targetId: id,
        patientIds: namedPatient(org, id),
        metadata: sql`jsonb_build_object('outcome', ${outcomeOf(org, id, sql`'ok'`)})`,
      })}
    )
    select * from hit`);
}

/** Snake-case column → value, for an insert or an update's SET. */
export type PatientValues = Record<string, SQL | string | number | null>;

/** What create and update learn about a linked user: their role here, and whether another patient has them. */
const linkedOf = (org: string, userId: string | null | undefined, patientId: string): SQL =>
  sql`select m.role, exists (select 1 from patients lp where lp.organization_id = ${org} and lp.user_id = m.user_id and lp.id <> ${patientId}) as taken
    from memberships m where m.organization_id = ${org} and m.user_id = ${userId ?? null}::uuid`;

const linkAllowed = (userId: string | null | undefined): SQL =>
  userId ? sql`exists (select 1 from linked where role = 'patient' and not taken)` : sql`true`;

export const WriteOutcome = z.object({
  patient: PatientRow.nullable(),
  linked_role: z.string().nullable(),
  linked_taken: z.boolean().nullable(),
});

/**
 * Inserts the patient, puts a creating clinician on its care team as primary, and writes the
 * `patient.created` event and the audit row, in one statement. A linked user must be a member
 * with the patient role, not linked to another patient (otherwise nothing is written).
 */
export function insertPatient(
  scope: TenantScope,
  origin: AuditOrigin,
  auth: AuthContext,
  input: { id: string; eventId: string; values: PatientValues; userId: string | null | undefined; joinsCareTeam: boolean },
) {
  const org = scope.organizationId;
  const columns = Object.keys(input.values);
  const values = sql.join(
    columns.map((column) => sql`${input.values[column]}`),
    sql`, `,
  );
  return scope.db.execute(sql`
    with linked as (${linkedOf(org, input.userId, input.id)}),
    inserted as (
      insert into patients (id, organization_id, created_by, ${sql.raw(columns.join(", "))})
      select ${input.id}::uuid, ${org}::uuid, ${auth.userId}::uuid, ${values}
      where ${linkAllowed(input.userId)}
      returning *
    ), team as (
      insert into care_team_members (organization_id, patient_id, user_id, relationship, is_primary, created_by)
      select organization_id, id, ${auth.userId}::uuid, 'clinician', true, ${auth.userId}::uuid from inserted where ${input.joinsCareTeam}
    ), event as (
      ${eventFromCte("inserted", origin, { id: input.eventId, organizationId: org, type: "patient.created", subjectType: "patient", subjectId: sql`id`, payload: sql`jsonb_build_object('status', status)` })}
    ), audit as (
      ${auditFromCte("inserted", origin, {
        action: "patient.created",
        organizationId: org,
        ...actorOf(auth),
        targetType: "patient",
        targetId: sql`id`,
        patientIds: sql`array[id]`,
        metadata: { outcome: "ok", careTeamPrimary: input.joinsCareTeam },
      })}
    )
    select ${patientJsonOf("inserted")} as patient, (select role from linked) as linked_role, (select taken from linked) as linked_taken`);
}

export const UpdateOutcome = WriteOutcome.extend({ found: z.boolean() });

/**
 * Updates a reachable patient at the version the caller read (If-Match), bumping it, with its
 * `patient.updated` event and one audit row whatever happened (ok, stale, invalid_user, denied,
 * not_found).
 */
export function updatePatient(
  scope: TenantScope,
  origin: AuditOrigin,
  auth: AuthContext,
  input: { id: string; eventId: string; expected: number; values: PatientValues; userId: string | null | undefined; fields: string[] },
) {
  const org = scope.organizationId;
  const { id } = input;
  const set = sql.join(
    Object.entries(input.values).map(([column, value]) => sql`${sql.raw(column)} = ${value}`),
    sql`, `,
  );
  return scope.db.execute(sql`
    with target as (
      select p.id, p.version from patients p where p.organization_id = ${org} and p.id = ${id} and ${visibleP(auth)}
    ), linked as (${linkedOf(org, input.userId, id)}),
    updated as (
      update patients p set ${set}, version = p.version + 1, updated_at = now()
      where p.organization_id = ${org} and p.id = ${id} and p.version = ${input.expected} and ${visibleP(auth)} and ${linkAllowed(input.userId)}
      returning p.*
    ), event as (
      ${eventFromCte("updated", origin, {
        id: input.eventId,
        organizationId: org,
        type: "patient.updated",
        subjectType: "patient",
        subjectId: sql`id`,
        payload: sql`jsonb_build_object('status', status, 'fields', ${`{${input.fields.join(",")}}`}::text[])`,
      })}
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "patient.updated",
        organizationId: org,
        ...actorOf(auth),
        targetType: "patient",
        targetId: id,
        patientIds: namedPatient(org, id),
        metadata: sql`jsonb_build_object('outcome', ${outcomeOf(org, id, sql`case when exists (select 1 from updated) then 'ok' when ${linkAllowed(input.userId)} then 'stale' else 'invalid_user' end`)}, 'fields', ${`{${input.fields.join(",")}}`}::text[])`,
      })}
    )
    select exists (select 1 from target) as found, ${patientJsonOf("updated")} as patient,
      (select role from linked) as linked_role, (select taken from linked) as linked_taken`);
}

export const ArchiveOutcome = z.object({ found: z.boolean(), archived: z.boolean() });

/** DELETE archives: status discharged, the record kept; the event and audit row in the same statement. */
export function archivePatient(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, input: { id: string; eventId: string }) {
  const org = scope.organizationId;
  const { id } = input;
  return scope.db.execute(sql`
    with target as (
      select p.id from patients p where p.organization_id = ${org} and p.id = ${id} and ${visibleP(auth)}
    ), archived as (
      update patients p set status = 'discharged', version = p.version + 1, updated_at = now()
      where p.organization_id = ${org} and p.id = ${id} and p.status <> 'discharged' and ${visibleP(auth)}
      returning p.id, p.status
    ), event as (
      ${eventFromCte("archived", origin, { id: input.eventId, organizationId: org, type: "patient.updated", subjectType: "patient", subjectId: sql`id`, payload: sql`jsonb_build_object('status', status, 'fields', array['status'])` })}
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "patient.archived",
        organizationId: org,
        ...actorOf(auth),
        targetType: "patient",
        targetId: id,
        patientIds: namedPatient(org, id),
        metadata: sql`jsonb_build_object('outcome', ${outcomeOf(org, id, sql`case when exists (select 1 from archived) then 'ok' else 'already_discharged' end`)})`,
      })}
    )
    select exists (select 1 from target) as found, exists (select 1 from archived) as archived`);
}
