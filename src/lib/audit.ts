import { SQL, sql } from "drizzle-orm";
import type { Database } from "#src/db/client.ts";
import { auditEvents } from "#src/db/schema/index.ts";
import { SQL_UUIDV7, uuidv7 } from "#src/lib/ids.ts";
import type { AuditOrigin } from "#src/lib/audit-origin.ts";

export { type AuditOrigin, auditOrigin } from "#src/lib/audit-origin.ts";

/** Security-relevant actions. Metadata never holds passwords, tokens or codes. */
export type AuditAction =
  | "auth.signup"
  | "auth.login.succeeded"
  | "auth.login.failed"
  | "auth.login.mfa_required"
  | "auth.mfa.failed"
  | "auth.switch"
  | "auth.lockout"
  | "auth.logout"
  | "auth.logout_all"
  | "auth.refresh_reuse"
  | "auth.password.changed"
  | "auth.password.change_failed"
  | "auth.password.reset_requested"
  | "auth.password.reset"
  | "auth.email.verified"
  | "mfa.enrolled"
  | "mfa.enabled"
  | "mfa.disabled"
  | "mfa.recovery_code_used"
  | "organization.updated"
  | "member.role_changed"
  | "member.removed"
  | "invitation.created"
  | "invitation.accepted"
  | "api_key.created"
  | "api_key.rotated"
  | "api_key.revoked"
  | ClinicalAuditAction;

/** What the clinical core audits: each subject's reads, lists and writes, and refusals. */
export const CLINICAL_AUDIT_SUBJECTS = ["patient", "care_team", "appointment", "note", "working_hours", "clinicians", "availability", "dashboard", "audit", "access", "activity", "alert", "schedule", "reminder"] as const;

/**
 * `<subject>.<verb>`, e.g. `patient.read`, `patient.listed`, `note.signed`, `access.denied`.
 * A read that found nothing the caller may see records `metadata.outcome: "denied"` (the record
 * exists but is outside their reach) or `"not_found"`; the caller gets the same 404 for both.
 */
export type ClinicalAuditAction = `${(typeof CLINICAL_AUDIT_SUBJECTS)[number]}.${string}`;

type MetadataValue = string | number | boolean | null | string[];

export interface AuditEntry {
  action: AuditAction;
  organizationId?: string | null;
  actorUserId?: string | null;
  actorApiKeyId?: string | null;
  targetType?: string;
  targetId?: string;
  /** The patients whose data this read or wrote; a list names every one it returned. */
  patientIds?: string[];
  metadata?: Record<string, MetadataValue>;
}

/** An insert to put in the same `db.batch` as the change it records. */
export function auditInsert(db: Database, origin: AuditOrigin, entry: AuditEntry) {
  return db.insert(auditEvents).values({
    id: uuidv7(),
    organizationId: entry.organizationId ?? null,
    actorUserId: entry.actorUserId ?? null,
    actorApiKeyId: entry.actorApiKeyId ?? null,
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    ip: origin.ip,
    userAgent: origin.userAgent,
    requestId: origin.requestId,
    metadata: entry.metadata ?? {},
    patientIds: entry.patientIds ?? [],
  });
}


/** A value for a CTE audit row: a constant, or a column of the CTE (e.g. sql`user_id`). */
type CteValue = string | null | undefined | SQL;

export interface CteAuditEntry extends Omit<AuditEntry, "organizationId" | "actorUserId" | "targetId" | "patientIds" | "metadata"> {
  organizationId?: CteValue;
  actorUserId?: CteValue;
  targetId?: CteValue;
  /** Constant ids, or an expression over the CTE's columns (e.g. sql`array[patient_id]`). */
  patientIds?: string[] | SQL;
  /** Constant metadata, or a jsonb expression over the CTE's columns. */
  metadata?: Record<string, MetadataValue> | SQL;
}

const uuidArray = (ids: string[] | SQL | undefined): SQL =>
  ids instanceof SQL ? sql`(${ids})::uuid[]` : sql`${`{${(ids ?? []).join(",")}}`}::uuid[]`;

const jsonbValue = (metadata: Record<string, MetadataValue> | SQL | undefined): SQL =>
  metadata instanceof SQL ? sql`(${metadata})::jsonb` : sql`${JSON.stringify(metadata ?? {})}::jsonb`;

const cteValue = (value: CteValue, type: "uuid" | "text"): SQL =>
  value instanceof SQL ? sql`(${value})::${sql.raw(type)}` : sql`${value ?? null}::${sql.raw(type)}`;

/**
 * The audit row as `insert … select … from <cte>`, for a data-modifying CTE: the event is written
 * only for the rows the change really touched, in the same statement (one round trip).
 */
export function auditFromCte(cte: string, origin: AuditOrigin, entry: CteAuditEntry): SQL {
  return sql`insert into audit_events
      (id, organization_id, actor_user_id, actor_api_key_id, action, target_type, target_id, ip, user_agent, request_id, metadata, patient_ids)
    select ${sql.raw(SQL_UUIDV7)}, ${cteValue(entry.organizationId, "uuid")}, ${cteValue(entry.actorUserId, "uuid")},
      ${entry.actorApiKeyId ?? null}::uuid, ${entry.action}::text, ${entry.targetType ?? null}::text,
      ${cteValue(entry.targetId, "text")}, ${origin.ip}::text, ${origin.userAgent}::text, ${origin.requestId}::text,
      ${jsonbValue(entry.metadata)}, ${uuidArray(entry.patientIds)}
    from ${sql.raw(cte)}`;
}

/**
 * Exactly one audit row, whatever the CTE holds (none, one or many rows): for a list or a search
 * (pass `patientIds: sql\`array_agg(patient_id)\`` and the ids in metadata) and for a detail read
 * whose CTE may be empty (a 404 is audited too). The entry's expressions may aggregate the CTE.
 */
export function auditOnceFromCte(cte: string, origin: AuditOrigin, entry: CteAuditEntry): SQL {
  return sql`insert into audit_events
      (id, organization_id, actor_user_id, actor_api_key_id, action, target_type, target_id, ip, user_agent, request_id, metadata, patient_ids)
    select ${sql.raw(SQL_UUIDV7)}, ${cteValue(entry.organizationId, "uuid")}, ${cteValue(entry.actorUserId, "uuid")},
      ${entry.actorApiKeyId ?? null}::uuid, ${entry.action}::text, ${entry.targetType ?? null}::text,
      ${cteValue(entry.targetId, "text")}, ${origin.ip}::text, ${origin.userAgent}::text, ${origin.requestId}::text,
      coalesce(${jsonbValue(entry.metadata)}, '{}'::jsonb), coalesce(${uuidArray(entry.patientIds)}, '{}'::uuid[])
    from (select 1) as once left join lateral (select * from ${sql.raw(cte)}) as c on true
    group by once.*`;
}

/** The CTE column's non-null values as a uuid[] (empty when the CTE is), for auditOnceFromCte. */
export const aggregatedIds = (column: string): SQL =>
  sql.raw(`coalesce(array_agg(distinct ${column}) filter (where ${column} is not null), '{}'::uuid[])`);

/** Who acts, as audit rows name them. */
export function actorOf(auth: { userId: string | null; apiKeyId: string | null }) {
  return { actorUserId: auth.userId, actorApiKeyId: auth.apiKeyId };
}

/**
 * In a write on one record of a patient, whose statement has the CTEs `target` (the row the
 * caller reaches, locked) and `hidden` (the same id beyond their reach): the patient its audit
 * row names, reached or not.
 */
export const TARGET_PATIENT = sql`coalesce((select array_agg(patient_id) from target), (select array_agg(patient_id) from hidden), '{}'::uuid[])`;

/**
 * The same write's outcome when nothing changed, as `when … then …` arms of a `case`: `refused`
 * first (another clinician's calendar), then the target's status, out of reach, missing.
 */
export function unchangedOutcome(refused: SQL = sql``): SQL {
  return sql`${refused} when exists (select 1 from target) then 'status_' || (select status from target)
    when exists (select 1 from hidden) then 'denied' else 'not_found'`;
}

