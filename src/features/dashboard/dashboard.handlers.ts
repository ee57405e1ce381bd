import type * as routes from "#src/features/dashboard/dashboard.routes.ts";
import { readDashboard } from "#src/features/dashboard/dashboard.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const getDashboard: AppHandler<typeof routes.getDashboard> = async (c) => {
  const dashboard = await readDashboard(deps(c), c.var.auth);
  return c.json(dashboard, 200);
};
