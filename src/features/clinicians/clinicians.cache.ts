import type { Deps } from "#src/lib/deps.ts";

/**
 * The clinicians hot list lives in KV under an organization-scoped key. Every change that alters
 * it (role changes, removals, name changes, care-team changes) calls this after its write
 * commits, so the writer reads its own write at once and everyone else within the TTL.
 * (Implementation: the clinicians feature.)
 */
export async function invalidateClinicianList(deps: Pick<Deps, "cache">, organizationId: string): Promise<void> {
  await deps.cache.delete(`clinicians:v1:${organizationId}`);
}
