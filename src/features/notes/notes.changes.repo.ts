import { sql } from "drizzle-orm";
import type { TenantScope } from "#src/db/scope.ts";
import { noteHashSql } from "#src/features/notes/notes.canonical.ts";
import { appointmentOk, hitCte, hitFlags, type NoteWrite, outcomeSql, RETURNING, visibleSql } from "#src/features/notes/notes.repo.ts";
import { type AuditOrigin, actorOf, auditOnceFromCte } from "#src/lib/audit.ts";
import { eventFromCte } from "#src/lib/events.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

/**
 * The statements that change a note: a draft's edit, its signature, an addendum. Each is one
 * statement with its audit row (and outbox row), and answers the note's current author, status
 * and version beside the changed row, so the service can say why nothing changed (403, 409,
 * 412, 422) without a second round trip.
 */

/** The `hit` flags and current state a change statement answers with its row. */
const changeFlags = sql`${hitFlags}, (select author_id from hit) as author_id_current, (select status from hit) as status_current,
  (select version from hit) as version_current`;

export function updateDraft(
  scope: TenantScope,
  origin: AuditOrigin,
  auth: AuthContext & { userId: string },
  input: NoteWrite & { id: string; version: number; appointmentId: string | null | undefined },
) {
  const org = scope.organizationId;
  const keepAppointment = input.appointmentId === undefined;
  const failures = sql`when (select author_id from hit) <> ${auth.userId}::uuid then 'forbidden'
    when (select status from hit) <> 'draft' then 'conflict'
    when (select version from hit) <> ${input.version}::int then 'stale'
    when not (select ok from check_appointment) then 'invalid_appointment'`;
  return scope.db.execute(sql`
    with ${hitCte(scope, auth, input.id)},
    check_appointment as (
      select ${appointmentOk(org, sql`(select patient_id from hit)`, input.appointmentId)} as ok
    ), changed as (
      update progress_notes n set format = ${input.format}::text, content = ${JSON.stringify(input.content)}::jsonb,
        appointment_id = ${keepAppointment ? sql`n.appointment_id` : sql`${input.appointmentId ?? null}::uuid`},
        version = n.version + 1, updated_at = now()
      where n.organization_id = ${org} and n.id = ${input.id} and (${visibleSql(auth, "n.patient_id")})
        and n.author_id = ${auth.userId}::uuid and n.status = 'draft' and n.version = ${input.version}::int
        and (select ok from check_appointment)
      returning ${RETURNING}
    ), audit as (
      ${auditOnceFromCte("changed", origin, {
        action: "note.updated",
        organizationId: org,
        ...actorOf(auth),
        targetType: "note",
        targetId: input.id,
        patientIds: sql`(select coalesce(array_agg(patient_id), '{}'::uuid[]) from hit)`,
        metadata: sql`jsonb_build_object('outcome', ${outcomeSql("updated", failures)})`,
      })}
    )
    select ${changeFlags}, (select ok from check_appointment) as appointment_ok, n.* from (select 1) as one left join changed n on true`);
}

/**
 * Draft → signed, by its author: the signer, the time and the hash of the canonical content
 * (notes.canonical.ts), its `note.signed` outbox row and its audit row, in one statement.
 */
export function signDraft(scope: TenantScope, origin: AuditOrigin, auth: AuthContext & { userId: string }, input: { id: string; eventId: string }) {
  const org = scope.organizationId;
  const failures = sql`when (select author_id from hit) <> ${auth.userId}::uuid then 'forbidden'
    when (select status from hit) <> 'draft' then 'conflict'`;
  return scope.db.execute(sql`
    with ${hitCte(scope, auth, input.id)},
    signed as (
      update progress_notes n set status = 'signed', signed_at = now(), signed_by = ${auth.userId}::uuid,
        content_hash = ${noteHashSql("n")}, version = n.version + 1, updated_at = now()
      where n.organization_id = ${org} and n.id = ${input.id} and (${visibleSql(auth, "n.patient_id")})
        and n.author_id = ${auth.userId}::uuid and n.status = 'draft'
      returning ${RETURNING}
    ), event as (
      ${eventFromCte("signed", origin, {
        id: input.eventId,
        organizationId: org,
        type: "note.signed",
        subjectType: "note",
        subjectId: sql`id`,
        payload: sql`jsonb_build_object('noteId', id, 'patientId', patient_id, 'authorId', author_id, 'status', status)`,
      })}
    ), audit as (
      ${auditOnceFromCte("signed", origin, {
        action: "note.signed",
        organizationId: org,
        ...actorOf(auth),
        targetType: "note",
        targetId: input.id,
        patientIds: sql`(select coalesce(array_agg(patient_id), '{}'::uuid[]) from hit)`,
        metadata: sql`jsonb_build_object('outcome', ${outcomeSql("signed", failures)}, 'contentHash', max(c.content_hash))`,
      })}
    )
    select ${changeFlags}, true as appointment_ok, n.* from (select 1) as one left join signed n on true`);
}

/** An addendum to a signed note: append-only, signed by its author (hash computed by the caller). */
export function insertAddendum(
  scope: TenantScope,
  origin: AuditOrigin,
  auth: AuthContext & { userId: string },
  input: { id: string; noteId: string; body: string; contentHash: string; eventId: string },
) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with ${hitCte(scope, auth, input.noteId)},
    added as (
      insert into note_addenda (id, organization_id, note_id, author_id, body, content_hash)
      select ${input.id}::uuid, ${org}::uuid, hit.id, ${auth.userId}::uuid, ${input.body}::text, ${input.contentHash}::text
      from hit where hit.visible and hit.status = 'signed'
      returning id, note_id, author_id, body, content_hash, signed_at, created_at
    ), event as (
      ${eventFromCte("added", origin, {
        id: input.eventId,
        organizationId: org,
        type: "note.signed",
        subjectType: "note",
        subjectId: sql`note_id`,
        payload: sql`jsonb_build_object('noteId', note_id, 'addendumId', id, 'patientId', (select patient_id from hit), 'authorId', author_id, 'status', 'signed')`,
      })}
    ), audit as (
      ${auditOnceFromCte("added", origin, {
        action: "note.addendum_added",
        organizationId: org,
        ...actorOf(auth),
        targetType: "note",
        targetId: input.noteId,
        patientIds: sql`(select coalesce(array_agg(patient_id), '{}'::uuid[]) from hit)`,
        metadata: sql`jsonb_build_object('outcome', ${outcomeSql("added", sql`when (select status from hit) <> 'signed' then 'conflict'`)}, 'addendumId', ${input.id}::text)`,
      })}
    )
    select ${hitFlags}, (select status from hit) as status_current, a.* from (select 1) as one left join added a on true`);
}

