import { type SQL, sql } from "drizzle-orm";
import type { AuditEntry, AuditOrigin } from "#src/lib/audit.ts";
import { uuidv7 } from "#src/lib/ids.ts";

/**
 * The audit row as an `insert … select … from <cte>` for a data-modifying CTE: the event is
 * written only when the change it records happened, in the same statement (one round trip).
 */
export function auditFromCte(cte: string, origin: AuditOrigin, entry: AuditEntry): SQL {
  return sql`insert into audit_events
      (id, organization_id, actor_user_id, actor_api_key_id, action, target_type, target_id, ip, user_agent, request_id, metadata)
    select ${uuidv7()}::uuid, ${entry.organizationId ?? null}::uuid, ${entry.actorUserId ?? null}::uuid,
      ${entry.actorApiKeyId ?? null}::uuid, ${entry.action}::text, ${entry.targetType ?? null}::text,
      ${entry.targetId ?? null}::text, ${origin.ip}::text, ${origin.userAgent}::text, ${origin.requestId}::text,
      ${JSON.stringify(entry.metadata ?? {})}::jsonb
    from ${sql.raw(cte)}`;
}
