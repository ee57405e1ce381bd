import { asc, eq, gt, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Role } from "#src/db/schema/index.ts";
import { memberships, ROLES, users } from "#src/db/schema/index.ts";
import type { TenantScope } from "#src/db/scope.ts";
import { type AuditOrigin, auditFromCte } from "#src/lib/audit.ts";

/** Who acts, for the audit row and the owner rule. */
export interface MemberActor {
  role: Role;
  userId: string | null;
  apiKeyId: string | null;
}

/** A page of the organization's members, ordered by user id (the cursor). */
export function listMemberRows(scope: TenantScope, page: { limit: number; cursor?: string }) {
  return scope.db
    .select({ userId: memberships.userId, email: users.email, name: users.name, role: memberships.role, joinedAt: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(scope.where(memberships, page.cursor ? gt(memberships.userId, page.cursor) : undefined))
    .orderBy(asc(memberships.userId))
    .limit(page.limit + 1);
}

/** changeRole's one row; check it with firstRow (src/db/rows.ts) where the result is read. */
export const RoleChangeOutcome = z.object({
  previous: z.enum(ROLES).nullable(),
  changed: z.boolean(),
  email: z.string().nullable(),
  name: z.string().nullable(),
  joined_at: z.string().nullable(),
});

/** removeMembership's one row. */
export const RemovalOutcome = z.object({ previous: z.enum(ROLES).nullable(), changed: z.boolean() });

/**
 * One statement: locks the organization's owners (so two concurrent demotions cannot both see
 * "another owner remains"), changes the role only when an owner would remain, revokes the
 * member's refresh tokens, revokes the API keys they created whose scopes the new role no
 * longer grants (`kept`) and writes the audit event only if the change happened.
 */
export function changeRole(scope: TenantScope, origin: AuditOrigin, actor: MemberActor, input: { userId: string; role: Role; kept: SQL }) {
  const org = scope.organizationId;
  const { userId, role, kept } = input;
  return scope.db.execute(sql`
    with owners as (
      select user_id from memberships where organization_id = ${org} and role = 'owner' for update
    ), target as (
      select m.role, m.created_at, u.email, u.name from memberships m join users u on u.id = m.user_id
      where m.organization_id = ${org} and m.user_id = ${userId}
    ), changed as (
      update memberships set role = ${role}, updated_at = now()
      where organization_id = ${org} and user_id = ${userId}
        and (role <> 'owner' or (${actor.role === "owner"} and (${role} = 'owner' or (select count(*) from owners) > 1)))
      returning user_id
    ), revoked as (
      update refresh_tokens set revoked_at = now()
      where user_id = ${userId} and organization_id = ${org} and revoked_at is null and exists (select 1 from changed)
    ), keys as (
      update api_keys set revoked_at = now()
      where organization_id = ${org} and created_by = ${userId} and revoked_at is null
        and not (scopes <@ ${kept}) and exists (select 1 from changed)
    ), audit as (
      ${auditFromCte("changed", origin, {
        action: "member.role_changed",
        organizationId: org,
        actorUserId: actor.userId,
        actorApiKeyId: actor.apiKeyId,
        targetType: "user",
        targetId: userId,
        metadata: { role },
      })}
    )
    select (select role from target) as previous, exists (select 1 from changed) as changed,
      (select email from target) as email, (select name from target) as name, (select created_at from target) as joined_at`);
}

/**
 * Removes a member in one statement, keeping at least one owner; refresh tokens go with it (FK
 * cascade) and the API keys they created in this organization are revoked.
 */
export function removeMembership(scope: TenantScope, origin: AuditOrigin, actor: MemberActor, userId: string) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with owners as (
      select user_id from memberships where organization_id = ${org} and role = 'owner' for update
    ), target as (
      select role from memberships where organization_id = ${org} and user_id = ${userId}
    ), removed as (
      delete from memberships
      where organization_id = ${org} and user_id = ${userId}
        and (role <> 'owner' or (${actor.role === "owner"} and (select count(*) from owners) > 1))
      returning user_id
    ), keys as (
      update api_keys set revoked_at = now()
      where organization_id = ${org} and created_by = ${userId} and revoked_at is null and exists (select 1 from removed)
    ), audit as (
      ${auditFromCte("removed", origin, {
        action: "member.removed",
        organizationId: org,
        actorUserId: actor.userId,
        actorApiKeyId: actor.apiKeyId,
        targetType: "user",
        targetId: userId,
      })}
    )
    select (select role from target) as previous, exists (select 1 from removed) as changed`);
}
