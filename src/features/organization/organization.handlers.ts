import type * as routes from "#src/features/organization/organization.routes.ts";
import { getOrganization, patchOrganization } from "#src/features/organization/organization.service.ts";
import { auditOrigin } from "#src/lib/audit.ts";
import type { AppRouteHandler } from "#src/lib/types.ts";
import { requireAuth } from "#src/middleware/auth.ts";

export const getOne: AppRouteHandler<typeof routes.getOne> = async (c) => {
  const organization = await getOrganization(c.get("db"), requireAuth(c.get("auth")));
  return c.json(organization, 200);
};

export const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
  const organization = await patchOrganization(
    { db: c.get("db"), origin: auditOrigin(c) },
    requireAuth(c.get("auth")),
    c.req.valid("json"),
  );
  return c.json(organization, 200);
};
