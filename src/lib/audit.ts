import { SQL, sql } from "drizzle-orm";
import type { Context } from "hono";
import type { Database } from "#src/db/client.ts";
import { auditEvents } from "#src/db/schema/index.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import type { AppEnv } from "#src/lib/types.ts";

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
  | "api_key.revoked";

export interface AuditOrigin {
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

export interface AuditEntry {
  action: AuditAction;
  organizationId?: string | null;
  actorUserId?: string | null;
  actorApiKeyId?: string | null;
  targetType?: string;
  targetId?: string;
  metadata?: Record<string, string | number | boolean | null>;
}

export function auditOrigin(c: Pick<Context<AppEnv>, "req" | "get">): AuditOrigin {
  return {
    ip: c.req.header("CF-Connecting-IP") ?? null,
    userAgent: c.req.header("User-Agent")?.slice(0, 256) ?? null,
    requestId: c.get("requestId"),
  };
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
  });
}

/**
 * A UUIDv7 computed by Postgres for each row (the millisecond clock, version and variant bits over
 * random bytes), so a CTE that audits several rows gives each its own time-ordered id.
 */
const SQL_UUIDV7 = `(lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0')
  || '7' || substr(md5(random()::text), 1, 3) || to_hex(8 + floor(random() * 4)::int)
  || substr(md5(random()::text), 1, 15))::uuid`;

/** A value for a CTE audit row: a constant, or a column of the CTE (e.g. sql`user_id`). */
type CteValue = string | null | undefined | SQL;

export interface CteAuditEntry extends Omit<AuditEntry, "organizationId" | "actorUserId" | "targetId"> {
  organizationId?: CteValue;
  actorUserId?: CteValue;
  targetId?: CteValue;
}

const cteValue = (value: CteValue, type: "uuid" | "text"): SQL =>
  value instanceof SQL ? sql`(${value})::${sql.raw(type)}` : sql`${value ?? null}::${sql.raw(type)}`;

/**
 * The audit row as `insert … select … from <cte>`, for a data-modifying CTE: the event is written
 * only for the rows the change really touched, in the same statement (one round trip).
 */
export function auditFromCte(cte: string, origin: AuditOrigin, entry: CteAuditEntry): SQL {
  return sql`insert into audit_events
      (id, organization_id, actor_user_id, actor_api_key_id, action, target_type, target_id, ip, user_agent, request_id, metadata)
    select ${sql.raw(SQL_UUIDV7)}, ${cteValue(entry.organizationId, "uuid")}, ${cteValue(entry.actorUserId, "uuid")},
      ${entry.actorApiKeyId ?? null}::uuid, ${entry.action}::text, ${entry.targetType ?? null}::text,
      ${cteValue(entry.targetId, "text")}, ${origin.ip}::text, ${origin.userAgent}::text, ${origin.requestId}::text,
      ${JSON.stringify(entry.metadata ?? {})}::jsonb
    from ${sql.raw(cte)}`;
}
