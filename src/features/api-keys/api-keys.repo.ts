import { desc, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { apiKeys } from "#src/db/schema/index.ts";
import type { TenantScope } from "#src/db/scope.ts";
import { type AuditOrigin, auditFromCte } from "#src/lib/audit.ts";

/** Who acts, for audit rows and `created_by`. */
export interface KeyActor {
  userId: string | null;
  apiKeyId: string | null;
}

export function listKeys(scope: TenantScope) {
  return scope.select(apiKeys).orderBy(desc(apiKeys.id));
}

export function insertKey(scope: TenantScope, key: Omit<typeof apiKeys.$inferInsert, "organizationId">) {
  return scope.insert(apiKeys, key).returning();
}

/** rotateKey's one row; check it with firstRow (src/db/rows.ts) where the result is read. */
export const RotateRow = z.object({
  found: z.boolean(),
  grantable: z.boolean().nullable(),
  live: z.boolean(),
  id: z.string().nullable(),
  name: z.string().nullable(),
  prefix: z.string().nullable(),
  scopes: z.array(z.string()).nullable(),
  created_at: z.string().nullable(),
});

/** revokeKey's one row. */
export const RevokeRow = z.object({ found: z.boolean() });

/**
 * One statement: ends the old key's life after the grace period, issues its replacement with
 * the same name and scopes and audits it. The old scopes must all be in `held` (checked in the
 * update itself); a revoked, expired or already-rotated key is left alone.
 */
export function rotateKey(
  scope: TenantScope,
  origin: AuditOrigin,
  actor: KeyActor,
  input: { id: string; newId: string; prefix: string; hash: string; held: SQL; graceHours: number },
) {
  const org = scope.organizationId;
  const { id, newId } = input;
  return scope.db.execute(sql`
    with target as (
      select id, scopes <@ ${input.held} as grantable from api_keys where id = ${id} and organization_id = ${org}
    ), old as (
      update api_keys set expires_at = now() + make_interval(hours => ${input.graceHours}::int), replaced_by = ${newId}
      where id = ${id} and organization_id = ${org} and revoked_at is null and replaced_by is null
        and (expires_at is null or expires_at > now()) and scopes <@ ${input.held}
      returning name, scopes
    ), fresh as (
      insert into api_keys (id, organization_id, created_by, name, prefix, key_hash, scopes)
      select ${newId}::uuid, ${org}::uuid, ${actor.userId}::uuid, old.name, ${input.prefix}::text, ${input.hash}::text, old.scopes from old
      returning id, name, prefix, scopes, created_at
    ), audit as (
      ${auditFromCte("fresh", origin, {
        action: "api_key.rotated",
        organizationId: org,
        actorUserId: actor.userId,
        actorApiKeyId: actor.apiKeyId,
        targetType: "api_key",
        targetId: id,
        metadata: { replacedBy: newId },
      })}
    )
    select exists (select 1 from target) as found, (select grantable from target) as grantable, exists (select 1 from fresh) as live,
      fresh.id, fresh.name, fresh.prefix, fresh.scopes, fresh.created_at
    from (select 1) as one left join fresh on true`);
}

/** Revokes a key (keeping the first revocation time) and audits it, in one statement. */
export function revokeKey(scope: TenantScope, origin: AuditOrigin, actor: KeyActor, id: string) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with revoked as (
      update api_keys set revoked_at = coalesce(revoked_at, now())
      where id = ${id} and organization_id = ${org}
      returning id
    ), audit as (
      ${auditFromCte("revoked", origin, {
        action: "api_key.revoked",
        organizationId: org,
        actorUserId: actor.userId,
        actorApiKeyId: actor.apiKeyId,
        targetType: "api_key",
        targetId: id,
      })}
    )
    select exists (select 1 from revoked) as found`);
}
