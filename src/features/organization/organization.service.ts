import type { Database } from "#src/db/client.ts";
import type { Deps } from "#src/lib/deps.ts";
import type { organizations } from "#src/db/schema/index.ts";
import { scoped } from "#src/db/scope.ts";
import { findOrganization, updateOrganization } from "#src/features/organization/organization.repo.ts";
import { auditInsert } from "#src/lib/audit.ts";
import { NotFound } from "#src/lib/errors.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export interface OrganizationView {
  id: string;
  name: string;
  slug: string;
  timezone: string;
  locale: string;
  inactivityThresholdMinutes: number;
  escalationMinutes: number;
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
  inactivityThresholdMinutes: row.inactivityThresholdMinutes,
  escalationMinutes: row.escalationMinutes,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

export async function getOrganization(db: Database, auth: AuthContext): Promise<OrganizationView> {
  const [row] = await findOrganization(scoped(db, auth.organizationId));
  if (!row) throw NotFound("No such organization.");
  return view(row);
}

export interface OrganizationPatch {
  name?: string;
  timezone?: string;
  locale?: string;
  inactivityThresholdMinutes?: number;
  escalationMinutes?: number;
}

export async function patchOrganization(
  deps: Pick<Deps, "db" | "origin">,
  auth: AuthContext,
  patch: OrganizationPatch,
): Promise<OrganizationView> {
  const scope = scoped(deps.db, auth.organizationId);
  const [rows] = await scope.db.batch([
    updateOrganization(scope, patch),
    auditInsert(scope.db, deps.origin, {
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
