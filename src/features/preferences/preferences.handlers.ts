import type * as routes from "#src/features/preferences/preferences.routes.ts";
import { getPreferences, patchPreferences } from "#src/features/preferences/preferences.service.ts";
import type { AppRouteHandler } from "#src/lib/types.ts";
import { memberOf } from "#src/middleware/auth.ts";

export const getOne: AppRouteHandler<typeof routes.getOne> = async (c) => {
  const member = memberOf(c.get("auth"));
  return c.json(await getPreferences(c.get("db"), member), 200);
};

export const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
  const member = memberOf(c.get("auth"));
  return c.json(await patchPreferences(c.get("db"), member, c.req.valid("json")), 200);
};
