import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { TenantScope } from "#src/db/scope.ts";
import { type AuditOrigin, actorOf, auditOnceFromCte } from "#src/lib/audit.ts";
import { noteVisible } from "#src/lib/access.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

/**
 * Every statement of the notes feature is one round trip: the read or write, its audit row (and, for a
 * signature, its outbox row) as data-modifying CTEs. Reach is `noteVisible` inside the
 * statement, so a note outside it is indistinguishable from a missing one. Each statement also
 * answers what the service needs to tell 404 from 403, 409, 412 and 422 apart.
 */

export const NOTE_COLUMNS = sql.raw(
  "n.id, n.patient_id, n.appointment_id, n.author_id, n.format, n.content, n.status, n.signed_at, n.signed_by, n.content_hash, n.version, n.created_at, n.updated_at",
);
export const RETURNING = sql.raw(
  "id, patient_id, appointment_id, author_id, format, content, status, signed_at, signed_by, content_hash, version, created_at, updated_at",
);

const stamp = z.union([z.string(), z.date()]);

export const NoteRow = z.object({
  id: z.string(),
  patient_id: z.string(),
  appointment_id: z.string().nullable(),
  author_id: z.string(),
  format: z.enum(["soap", "dap", "free"]),
  content: z.record(z.string(), z.string()),
  status: z.enum(["draft", "signed"]),
  signed_at: stamp.nullable(),
  signed_by: z.string().nullable(),
  content_hash: z.string().nullable(),
  version: z.number().int(),
  created_at: stamp,
  updated_at: stamp,
});

export const AddendumRow = z.object({
  id: z.string(),
  note_id: z.string(),
  author_id: z.string(),
  body: z.string(),
  content_hash: z.string(),
  signed_at: stamp,
  created_at: stamp,
});

/**
 * The flags every single-note statement answers beside its row (null columns when it touched
 * none); check the note itself with NoteRow once `id` is set.
 */
const Flags = { found: z.boolean(), visible: z.boolean(), id: z.string().nullable() };

export const NoteDetailRow = z.object({ ...Flags, addenda: z.array(AddendumRow).nullable() });
export const NoteListRow = NoteRow.extend({ addenda_count: z.number().int() });
export const ListFlags = z.object(Flags);
export const CreateRow = z.object({ ...Flags, appointment_ok: z.boolean() });
export const ChangeRow = z.object({
  ...Flags,
  author_id_current: z.string().nullable(),
  status_current: z.string().nullable(),
  version_current: z.number().int().nullable(),
  appointment_ok: z.boolean(),
});
export const AddendumInsertRow = z.object({ ...Flags, status_current: z.string().nullable() });

export const visibleSql = (auth: AuthContext, column: string): SQL => noteVisible(auth, sql.raw(column));

/** Addenda of the note row aliased `n`, oldest first, as json. */
const addendaJson = (org: string) => sql`(select coalesce(json_agg(json_build_object(
    'id', a.id, 'note_id', a.note_id, 'author_id', a.author_id, 'body', a.body, 'content_hash', a.content_hash,
    'signed_at', a.signed_at, 'created_at', a.created_at) order by a.created_at, a.id), '[]'::json)
  from note_addenda a where a.organization_id = ${org} and a.note_id = n.id)`;

/** `outcome` for the audit row of a statement over the `hit` CTE (the note, whatever its reach). */
export const outcomeSql = (success: string, extra: SQL = sql``) => sql`case
    when not exists (select 1 from hit) then 'not_found'
    when not (select visible from hit) then 'denied' ${extra}
    else ${success}::text end`;

/** The `hit` CTE: the note in the organization, whether the caller may read it, and what the service checks. */
export const hitCte = (scope: TenantScope, auth: AuthContext, id: string) => sql`hit as (
    select n.id, n.patient_id, n.author_id, n.status, n.version, (${visibleSql(auth, "n.patient_id")}) as visible
    from progress_notes n where n.organization_id = ${scope.organizationId} and n.id = ${id}
  )`;

export const hitFlags = sql`exists (select 1 from hit) as found, coalesce((select visible from hit), false) as visible`;

export function readNote(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, id: string) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with ${hitCte(scope, auth, id)},
    note as (
      select ${NOTE_COLUMNS}, ${addendaJson(org)} as addenda
      from progress_notes n where n.organization_id = ${org} and n.id = ${id} and (${visibleSql(auth, "n.patient_id")})
    ), audit as (
      ${auditOnceFromCte("note", origin, {
        action: "note.read",
        organizationId: org,
        ...actorOf(auth),
        targetType: "note",
        targetId: id,
        patientIds: sql`(select coalesce(array_agg(patient_id), '{}'::uuid[]) from hit)`,
        metadata: sql`jsonb_build_object('outcome', ${outcomeSql("read")})`,
      })}
    )
    select ${hitFlags}, note.* from (select 1) as one left join note on true`);
}

export interface ListInput {
  patientId: string;
  status: "draft" | "signed" | undefined;
  limit: number;
  afterId: string | undefined;
}

/** The `hit` CTE: the patient, and whether the caller may read its notes (a 404 either way when not). */
const patientHit = (org: string, auth: AuthContext, patientId: string): SQL =>
  sql`select p.id, p.id as patient_id, (${visibleSql(auth, "p.id")}) as visible
      from patients p where p.organization_id = ${org} and p.id = ${patientId}`;

/** A page of the patient's notes, newest first (keyset on the time-ordered id). */
export function listNotes(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, input: ListInput) {
  const org = scope.organizationId;
  const { patientId } = input;
  return scope.db.execute(sql`
    with hit as (
      ${patientHit(org, auth, patientId)}
    ), page as (
      select ${NOTE_COLUMNS},
        (select count(*) from note_addenda a where a.organization_id = ${org} and a.note_id = n.id)::int as addenda_count
      from progress_notes n
      where n.organization_id = ${org} and n.patient_id = ${patientId} and exists (select 1 from hit where visible)
        and (${input.status ?? null}::text is null or n.status = ${input.status ?? null}::text)
        and (${input.afterId ?? null}::uuid is null or n.id < ${input.afterId ?? null}::uuid)
      order by n.id desc
      limit ${input.limit + 1}
    ), shown as (
      select * from page order by id desc limit ${input.limit}
    ), audit as (
      ${auditOnceFromCte("shown", origin, {
        action: "note.listed",
        organizationId: org,
        ...actorOf(auth),
        targetType: "patient",
        targetId: patientId,
        patientIds: sql`(select coalesce(array_agg(patient_id), '{}'::uuid[]) from hit)`,
        metadata: sql`jsonb_build_object('outcome', ${outcomeSql("listed")}, 'noteIds', coalesce(jsonb_agg(c.id) filter (where c.id is not null), '[]'::jsonb))`,
      })}
    )
    select ${hitFlags}, page.* from (select 1) as one left join page on true order by page.id desc`);
}

export interface NoteWrite {
  format: "soap" | "dap" | "free";
  content: Record<string, string>;
}

/** Whether `appointmentId` (when given) is an appointment of the patient in `patientExpr`. */
export const appointmentOk = (org: string, patientExpr: SQL, appointmentId: string | null | undefined): SQL =>
  appointmentId
    ? sql`exists (select 1 from appointments ap where ap.organization_id = ${org} and ap.patient_id = ${patientExpr} and ap.id = ${appointmentId}::uuid)`
    : sql`true`;

export function insertNote(
  scope: TenantScope,
  origin: AuditOrigin,
  auth: AuthContext & { userId: string },
  input: NoteWrite & { id: string; patientId: string; appointmentId: string | null },
) {
  const org = scope.organizationId;
  const { patientId } = input;
  return scope.db.execute(sql`
    with hit as (
      ${patientHit(org, auth, patientId)}
    ), check_appointment as (
      select ${appointmentOk(org, sql`${patientId}::uuid`, input.appointmentId)} as ok
    ), created as (
      insert into progress_notes (id, organization_id, patient_id, appointment_id, author_id, format, content)
      select ${input.id}::uuid, ${org}::uuid, ${patientId}::uuid, ${input.appointmentId}::uuid, ${auth.userId}::uuid, ${input.format}::text,
        ${JSON.stringify(input.content)}::jsonb
      from hit where hit.visible and (select ok from check_appointment)
      returning ${RETURNING}
    ), audit as (
      ${auditOnceFromCte("created", origin, {
        action: "note.created",
        organizationId: org,
        ...actorOf(auth),
        targetType: "note",
        targetId: input.id,
        patientIds: sql`(select coalesce(array_agg(patient_id), '{}'::uuid[]) from hit)`,
        metadata: sql`jsonb_build_object('outcome', ${outcomeSql("created", sql`when not (select ok from check_appointment) then 'invalid_appointment'`)}, 'format', ${input.format}::text)`,
      })}
    )
    select ${hitFlags}, (select ok from check_appointment) as appointment_ok, n.* from (select 1) as one left join created n on true`);
}
