import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "#src/db/client.ts";
import { firstRow } from "#src/db/rows.ts";
import { ROLES } from "#src/db/schema/identity.ts";
import { NotFound } from "#src/lib/errors.ts";

const MeRow = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  email_verified: z.boolean(),
  mfa_enabled: z.boolean(),
  organization_id: z.string(),
  organization_name: z.string(),
  slug: z.string(),
  timezone: z.string(),
  role: z.enum(ROLES),
  organizations: z.array(z.object({ id: z.string(), name: z.string(), role: z.enum(ROLES) })),
});

/** The caller's profile, organization, role and memberships: one query, one round trip. */
export async function getMe(db: Database, caller: { userId: string; organizationId: string }) {
  const result = await db.execute(sql`
    select u.id, u.email, u.name, u.email_verified_at is not null as email_verified, u.totp_enabled_at is not null as mfa_enabled,
      o.id as organization_id, o.name as organization_name, o.slug, o.timezone, m.role,
      (select coalesce(json_agg(json_build_object('id', o2.id, 'name', o2.name, 'role', m2.role) order by o2.name, o2.id), '[]'::json)
        from memberships m2 join organizations o2 on o2.id = m2.organization_id where m2.user_id = u.id) as organizations
    from memberships m
    join users u on u.id = m.user_id
    join organizations o on o.id = m.organization_id
    where m.user_id = ${caller.userId} and m.organization_id = ${caller.organizationId}`);
  const row = firstRow(MeRow, result);
  if (!row) throw NotFound("You are no longer a member of this organization.");
  return {
    user: { id: row.id, email: row.email, name: row.name, emailVerified: row.email_verified, mfaEnabled: row.mfa_enabled },
    organization: { id: row.organization_id, name: row.organization_name, slug: row.slug, timezone: row.timezone },
    role: row.role,
    organizations: row.organizations,
  };
}
