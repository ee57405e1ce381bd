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
  | "auth.lockout"
  | "auth.logout"
  | "auth.logout_all"
  | "auth.refresh_reuse"
  | "auth.password.changed"
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

export function auditOrigin(c: Context<AppEnv>): AuditOrigin {
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
