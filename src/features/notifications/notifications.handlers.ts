import type * as routes from "#src/features/notifications/notifications.routes.ts";
import { listInbox, markRead as markInboxRead } from "#src/features/notifications/notifications.service.ts";
import { requestDeps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const list: AppHandler<typeof routes.list> = async (c) => c.json(await listInbox(c.get("db"), c.var.auth, c.req.valid("query")), 200);

export const markRead: AppHandler<typeof routes.markRead> = async (c) =>
  c.json(await markInboxRead(c.get("db"), c.var.auth, c.req.valid("param").id, requestDeps(c).clock.now()), 200);
