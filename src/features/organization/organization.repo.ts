import { eq, sql } from "drizzle-orm";
import { organizations } from "#src/db/schema/index.ts";
import type { TenantScope } from "#src/db/scope.ts";

/** The tenant itself: its row is the one whose id is the scope's organization. */
const own = (scope: TenantScope) => eq(organizations.id, scope.organizationId);

export function findOrganization(scope: TenantScope) {
  return scope.db.select().from(organizations).where(own(scope));
}

export function updateOrganization(scope: TenantScope, patch: { name?: string; timezone?: string; locale?: string; inactivityThresholdMinutes?: number; escalationMinutes?: number }) {
  return scope.db
    .update(organizations)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(own(scope))
    .returning();
}
