import type * as routes from "#src/features/organization/organization.routes.ts";
import { getOrganization, patchOrganization } from "#src/features/organization/organization.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const getOne: AppHandler<typeof routes.getOne> = async (c) => {
  const organization = await getOrganization(c.get("db"), c.var.auth);
  return c.json(organization, 200);
};

export const patch: AppHandler<typeof routes.patch> = async (c) => {
  const organization = await patchOrganization(deps(c), c.var.auth, c.req.valid("json"));
  return c.json(organization, 200);
};
