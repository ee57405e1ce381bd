import type * as routes from "#src/features/activity/activity.routes.ts";
import { listPatientActivity, receiveHeartbeat } from "#src/features/activity/activity.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const heartbeat: AppHandler<typeof routes.heartbeat> = async (c) => {
  const receipt = await receiveHeartbeat(deps(c), c.var.auth, c.req.valid("param").id, c.req.valid("json"));
  return c.json(receipt, 200);
};

export const list: AppHandler<typeof routes.list> = async (c) => {
  const page = await listPatientActivity(deps(c), c.var.auth, c.req.valid("param").id, c.req.valid("query"));
  return c.json(page, 200);
};
