import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "#src/db/client.ts";
import { invitations, ROLES } from "#src/db/schema/index.ts";
import type { TenantScope, TenantValues } from "#src/db/scope.ts";

export function insertInvitation(scope: TenantScope, invitation: TenantValues<typeof invitations>) {
  return scope.insert(invitations, invitation);
}

/** findInvitationByToken's row; check it with firstRow (src/db/rows.ts) where the result is read. */
export const InvitationLookup = z.object({
  organization_id: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  accepted: z.boolean(),
  expired: z.boolean(),
  user_id: z.string().nullable(),
  password_hash: z.string().nullable(),
  already_member: z.boolean(),
});
export type InvitationLookup = z.infer<typeof InvitationLookup>;

/** claimInvitation's row. */
export const ClaimedInvitation = z.object({ organization_id: z.string(), role: z.enum(ROLES) });

/**
 * The invitation a token names, with the account its email belongs to. The caller is not signed
 * in and no organization is known yet, so this runs in the `account` database scope: the secret
 * token is what narrows it. Everything after it runs scoped to the invitation's organization.
 */
export function findInvitationByToken(db: Database, tokenHash: string) {
  return db.execute(sql`
    select i.organization_id, i.email, i.role, i.accepted_at is not null as accepted, i.expires_at <= now() as expired,
      u.id as user_id, u.password_hash,
      exists (select 1 from memberships m where m.organization_id = i.organization_id and m.user_id = u.id) as already_member
    from invitations i left join users u on u.email = i.email
    where i.token_hash = ${tokenHash}`);
}

/**
 * Single use: claims the invitation with a conditional UPDATE in the same statement that creates
 * the account (if `newUser`), the membership and the audit event (`audit`, a CTE over `claimed`).
 */
export function claimInvitation(
  scope: TenantScope,
  input: { tokenHash: string; userId: string; newUser: { name: string; passwordHash: string } | null; audit: SQL },
) {
  const { tokenHash, userId, newUser } = input;
  return scope.db.execute(sql`
    with claimed as (
      update invitations set accepted_at = now(), accepted_by = ${userId}
      where organization_id = ${scope.organizationId} and token_hash = ${tokenHash} and accepted_at is null and expires_at > now()
      returning organization_id, role, email
    ), new_user as (
      insert into users (id, email, name, password_hash, email_verified_at)
      select ${userId}::uuid, claimed.email, ${newUser?.name ?? ""}::text, ${newUser?.passwordHash ?? ""}::text, now()
      from claimed where ${newUser !== null}
    ), member as (
      insert into memberships (organization_id, user_id, role) select organization_id, ${userId}::uuid, role from claimed
    ), audit as (
      ${input.audit}
    )
    select organization_id, role from claimed`);
}
