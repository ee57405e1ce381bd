import type * as routes from "#src/features/realtime/realtime.routes.ts";
import { connectSocket, issueTicket } from "#src/features/realtime/realtime.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const ticket: AppHandler<typeof routes.ticket> = async (c) => c.json(await issueTicket(deps(c), c.var.auth), 200);

export const connect: AppHandler<typeof routes.connect> = async (c) => {
  const query = c.req.valid("query");
  return connectSocket(deps(c), { request: c.req.raw, ticket: query.ticket, since: query.since });
};
