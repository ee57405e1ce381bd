import * as handlers from "#src/features/schedules/schedules.handlers.ts";
import * as routes from "#src/features/schedules/schedules.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const schedulesRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.remove, handlers.remove);
