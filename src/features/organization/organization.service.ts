import { eq, sql } from "drizzle-orm";
import type { Database } from "#src/db/client.ts";
import { organizations } from "#src/db/schema/index.ts";
import { type AuditOrigin, auditInsert } from "#src/lib/audit.ts";
import { NotFound } from "#src/lib/errors.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export interface OrganizationView {
  id: string;
  name: string;
  slug: string;
  timezone: string;
  locale: string;
  createdAt: string;
  updatedAt: string;
}

type Row = typeof organizations.$inferSelect;

const view = (row: Row): OrganizationView => ({
  id: row.id,
  name: row.name,
  slug: row.slug,
  timezone: row.timezone,
  locale: row.locale,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

export async function getOrganization(db: Database, auth: AuthContext): Promise<OrganizationView> {
  const [row] = await db.select().from(organizations).where(eq(organizations.id, auth.organizationId));
  if (!row) throw NotFound("No such organization.");
  return view(row);
}

export interface OrganizationPatch {
  name?: string;
  timezone?: string;
  locale?: string;
}

export async function patchOrganization(
  deps: { db: Database; origin: AuditOrigin },
  auth: AuthContext,
  patch: OrganizationPatch,
): Promise<OrganizationView> {
  const { db, origin } = deps;
  const [rows] = await db.batch([
    db
      .update(organizations)
      .set({ ...patch, updatedAt: sql`now()` })
      .where(eq(organizations.id, auth.organizationId))
      .returning(),
    auditInsert(db, origin, {
      action: "organization.updated",
      organizationId: auth.organizationId,
      actorUserId: auth.userId,
      actorApiKeyId: auth.apiKeyId,
      targetType: "organization",
      targetId: auth.organizationId,
      metadata: { fields: Object.keys(patch).sort().join(",") },
    }),
  ]);
  const row = rows[0];
  if (!row) throw NotFound("No such organization.");
  return view(row);
}
