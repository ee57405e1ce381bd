import type * as routes from "#src/features/preferences/preferences.routes.ts";
import { getPreferences, patchPreferences } from "#src/features/preferences/preferences.service.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const getOne: AppHandler<typeof routes.getOne> = async (c) => c.json(await getPreferences(c.get("db"), c.var.auth), 200);

export const patch: AppHandler<typeof routes.patch> = async (c) =>
  c.json(await patchPreferences(c.get("db"), c.var.auth, c.req.valid("json")), 200);
