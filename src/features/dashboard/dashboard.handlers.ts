import type * as routes from "#src/features/dashboard/dashboard.routes.ts";
import { readDashboard } from "#src/features/dashboard/dashboard.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const getDashboard: AppHandler<typeof routes.getDashboard> = async (c) => {
  const { dashboard, cache } = await readDashboard(deps(c), c.var.auth);
  c.header("X-Cache", cache);
  return c.json(dashboard, 200);
};
