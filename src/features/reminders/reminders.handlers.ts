import type * as routes from "#src/features/reminders/reminders.routes.ts";
import { acknowledge, listRemindersFor } from "#src/features/reminders/reminders.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const list: AppHandler<typeof routes.list> = async (c) => {
  const page = await listRemindersFor(deps(c), c.var.auth, c.req.valid("query"));
  return c.json(page, 200);
};

export const ack: AppHandler<typeof routes.ack> = async (c) => {
  const reminder = await acknowledge(deps(c), c.var.auth, c.req.valid("param").id, c.req.valid("json").response);
  return c.json(reminder, 200);
};
