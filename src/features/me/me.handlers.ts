import type * as routes from "#src/features/me/me.routes.ts";
import * as service from "#src/features/me/me.service.ts";
import type { AppRouteHandler } from "#src/lib/types.ts";
import { memberOf } from "#src/middleware/auth.ts";

export const getMe: AppRouteHandler<typeof routes.getMe> = async (c) =>
  c.json(await service.getMe(c.get("db"), memberOf(c.get("auth"))), 200);
