import type { Database } from "#src/db/client.ts";
import type { Deps } from "#src/lib/deps.ts";
import type { Role } from "#src/db/schema/index.ts";
import { firstRow } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { textArray } from "#src/features/api-keys/api-keys.service.ts";
import { invalidateClinicianList } from "#src/features/clinicians/clinicians.cache.ts";
import { changeRole, listMemberRows, RemovalOutcome, RoleChangeOutcome, removeMembership } from "#src/features/members/members.repo.ts";
import { Conflict, Forbidden, NotFound } from "#src/lib/errors.ts";
import { canAssignRole, ROLE_PERMISSIONS, withCapitalArticle } from "#src/lib/permissions.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: string;
}

export type MemberDeps = Pick<Deps, "db" | "origin" | "rateLimiter" | "clock" | "cache" | "logger" | "writes" | "realtime">;

/** The clinicians hot list changes when a clinician comes, goes or changes role. */
const touchesClinicians = (...roles: (Role | null)[]) => roles.includes("clinician");

export async function listMembers(db: Database, auth: AuthContext, page: { limit: number; cursor?: string }) {
  const rows = await listMemberRows(scoped(db, auth.organizationId), page);
  const data: MemberView[] = rows.slice(0, page.limit).map((row) => ({ userId: row.userId, email: row.email, name: row.name, role: row.role, joinedAt: row.joinedAt.toISOString() }));
  const nextCursor = rows.length > page.limit ? (data.at(-1)?.userId ?? null) : null;
  return { data, nextCursor };
}

/** Best effort: the change is committed, and a removed or changed member gets no new event anyway. */
const closeSockets = (deps: MemberDeps, userId: string, org: string) =>
  deps.realtime.disconnect(userId, org).catch(() => deps.logger.log("warn", "realtime.disconnect_failed"));

/** API keys act for the organization, never as an owner: they grant what an admin may. */
const actingRole = (auth: AuthContext): Role => auth.role ?? "admin";

/**
 * Changes a role in one statement (members.repo.ts), keeping an owner; the member's sessions end
 * and the API keys they created lose what the new role does not grant (a key never outlives its
 * creator's permissions). Their live-updates sockets in the organization close (4003).
 */
export async function changeMemberRole(deps: MemberDeps, auth: AuthContext, userId: string, role: Role): Promise<MemberView> {
  const actor = actingRole(auth);
  if (!canAssignRole(actor, role)) throw Forbidden(`${withCapitalArticle(actor)} cannot grant the ${role} role.`);
  const org = auth.organizationId;
  const kept = textArray(ROLE_PERMISSIONS[role]);
  const result = await changeRole(scoped(deps.db, org), deps.origin, { role: actor, userId: auth.userId, apiKeyId: auth.apiKeyId }, { userId, role, kept });
  const outcome = firstRow(RoleChangeOutcome, result);
  if (!outcome?.previous) throw NotFound("No such member.");
  if (!outcome.changed) {
    if (actor !== "owner") throw Forbidden("Only an owner can change an owner's role.");
    throw Conflict("The organization's last owner cannot be demoted.");
  }
  await Promise.all([
    deps.rateLimiter.revokeSessions(userId, org),
    closeSockets(deps, userId, org),
    touchesClinicians(outcome.previous, role) ? invalidateClinicianList(deps, org) : undefined,
  ]);
  return {
    userId,
    email: outcome.email ?? "",
    name: outcome.name ?? "",
    role,
    joinedAt: (outcome.joined_at ? new Date(outcome.joined_at) : deps.clock.now()).toISOString(),
  };
}

/** Removes a member in one statement (members.repo.ts), keeping at least one owner. */
export async function removeMember(deps: MemberDeps, auth: AuthContext, userId: string): Promise<void> {
  const actor = actingRole(auth);
  const org = auth.organizationId;
  const result = await removeMembership(scoped(deps.db, org), deps.origin, { role: actor, userId: auth.userId, apiKeyId: auth.apiKeyId }, userId);
  const outcome = firstRow(RemovalOutcome, result);
  if (!outcome?.previous) throw NotFound("No such member.");
  if (!outcome.changed) {
    if (actor !== "owner") throw Forbidden("Only an owner can remove an owner.");
    throw Conflict("The organization's last owner cannot be removed.");
  }
  await Promise.all([
    deps.rateLimiter.revokeSessions(userId, org),
    closeSockets(deps, userId, org),
    touchesClinicians(outcome.previous) ? invalidateClinicianList(deps, org) : undefined,
  ]);
}
