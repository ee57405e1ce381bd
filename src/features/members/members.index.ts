import * as handlers from "#src/features/members/members.handlers.ts";
import * as routes from "#src/features/members/members.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const membersRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.changeRole, handlers.changeRole)
  .openapi(routes.remove, handlers.remove);
