import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Database } from "#src/db/client.ts";
import { memberships, type Role, users } from "#src/db/schema/index.ts";
import { textArray } from "#src/features/api-keys/api-keys.service.ts";
import { auditFromCte } from "#src/lib/audit.ts";
import type { AuditOrigin } from "#src/lib/audit.ts";
import { Conflict, Forbidden, NotFound } from "#src/lib/errors.ts";
import { canAssignRole, ROLE_PERMISSIONS, withCapitalArticle } from "#src/lib/permissions.ts";
import type { AuthContext } from "#src/middleware/auth.ts";
import type { RateLimiter } from "#src/platform/ports.ts";

export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: string;
}

export interface MemberDeps {
  db: Database;
  origin: AuditOrigin;
  rateLimiter: RateLimiter;
}

export async function listMembers(db: Database, auth: AuthContext, page: { limit: number; cursor?: string }) {
  const rows = await db
    .select({ userId: memberships.userId, email: users.email, name: users.name, role: memberships.role, joinedAt: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.organizationId, auth.organizationId), page.cursor ? gt(memberships.userId, page.cursor) : undefined))
    .orderBy(asc(memberships.userId))
    .limit(page.limit + 1);
  const data: MemberView[] = rows.slice(0, page.limit).map((row) => ({ userId: row.userId, email: row.email, name: row.name, role: row.role, joinedAt: row.joinedAt.toISOString() }));
  const nextCursor = rows.length > page.limit ? (data.at(-1)?.userId ?? null) : null;
  return { data, nextCursor };
}

/** API keys act for the organization, never as an owner: they grant what an admin may. */
const actingRole = (auth: AuthContext): Role => auth.role ?? "admin";

type Outcome = {
  previous: Role | null;
  changed: boolean;
};

/**
 * One statement: locks the organization's owners (so two concurrent demotions cannot both see
 * "another owner remains"), changes the role only when an owner would remain, revokes the
 * member's refresh tokens, revokes the API keys they created whose scopes the new role no
 * longer grants (a key never outlives its creator's permissions) and writes the audit event
 * only if the change happened.
 */
export async function changeMemberRole(deps: MemberDeps, auth: AuthContext, userId: string, role: Role): Promise<MemberView> {
  const actor = actingRole(auth);
  if (!canAssignRole(actor, role)) throw Forbidden(`${withCapitalArticle(actor)} cannot grant the ${role} role.`);
  const org = auth.organizationId;
  const kept = textArray(ROLE_PERMISSIONS[role]);
  const result = await deps.db.execute<Outcome & { email: string | null; name: string | null; joined_at: string | null }>(sql`
    with owners as (
      select user_id from memberships where organization_id = ${org} and role = 'owner' for update
    ), target as (
      select m.role, m.created_at, u.email, u.name from memberships m join users u on u.id = m.user_id
      where m.organization_id = ${org} and m.user_id = ${userId}
    ), changed as (
      update memberships set role = ${role}, updated_at = now()
      where organization_id = ${org} and user_id = ${userId}
        and (role <> 'owner' or (${actor === "owner"} and (${role} = 'owner' or (select count(*) from owners) > 1)))
      returning user_id
    ), revoked as (
      update refresh_tokens set revoked_at = now()
      where user_id = ${userId} and organization_id = ${org} and revoked_at is null and exists (select 1 from changed)
    ), keys as (
      update api_keys set revoked_at = now()
      where organization_id = ${org} and created_by = ${userId} and revoked_at is null
        and not (scopes <@ ${kept}) and exists (select 1 from changed)
    ), audit as (
      ${auditFromCte("changed", deps.origin, {
        action: "member.role_changed",
        organizationId: org,
        actorUserId: auth.userId,
        actorApiKeyId: auth.apiKeyId,
        targetType: "user",
        targetId: userId,
        metadata: { role },
      })}
    )
    select (select role from target) as previous, exists (select 1 from changed) as changed,
      (select email from target) as email, (select name from target) as name, (select created_at from target) as joined_at`);
  const outcome = result.rows[0];
  if (!outcome?.previous) throw NotFound("No such member.");
  if (!outcome.changed) {
    if (actor !== "owner") throw Forbidden("Only an owner can change an owner's role.");
    throw Conflict("The organization's last owner cannot be demoted.");
  }
  await deps.rateLimiter.revokeSessions(userId, org);
  return {
    userId,
    email: outcome.email ?? "",
    name: outcome.name ?? "",
    role,
    joinedAt: new Date(outcome.joined_at ?? Date.now()).toISOString(),
  };
}

/**
 * Removes a member in one statement, keeping at least one owner; refresh tokens go with it (FK
 * cascade) and the API keys they created in this organization are revoked.
 */
export async function removeMember(deps: MemberDeps, auth: AuthContext, userId: string): Promise<void> {
  const actor = actingRole(auth);
  const org = auth.organizationId;
  const result = await deps.db.execute<Outcome>(sql`
    with owners as (
      select user_id from memberships where organization_id = ${org} and role = 'owner' for update
    ), target as (
      select role from memberships where organization_id = ${org} and user_id = ${userId}
    ), removed as (
      delete from memberships
      where organization_id = ${org} and user_id = ${userId}
        and (role <> 'owner' or (${actor === "owner"} and (select count(*) from owners) > 1))
      returning user_id
    ), keys as (
      update api_keys set revoked_at = now()
      where organization_id = ${org} and created_by = ${userId} and revoked_at is null and exists (select 1 from removed)
    ), audit as (
      ${auditFromCte("removed", deps.origin, {
        action: "member.removed",
        organizationId: org,
        actorUserId: auth.userId,
        actorApiKeyId: auth.apiKeyId,
        targetType: "user",
        targetId: userId,
      })}
    )
    select (select role from target) as previous, exists (select 1 from removed) as changed`);
  const outcome = result.rows[0];
  if (!outcome?.previous) throw NotFound("No such member.");
  if (!outcome.changed) {
    if (actor !== "owner") throw Forbidden("Only an owner can remove an owner.");
    throw Conflict("The organization's last owner cannot be removed.");
  }
  await deps.rateLimiter.revokeSessions(userId, org);
}
