import type * as routes from "#src/features/me/me.routes.ts";
import * as service from "#src/features/me/me.service.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const getMe: AppHandler<typeof routes.getMe> = async (c) => c.json(await service.getMe(c.get("db"), c.var.auth), 200);
