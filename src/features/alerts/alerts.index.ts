import * as handlers from "#src/features/alerts/alerts.handlers.ts";
import * as routes from "#src/features/alerts/alerts.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const alertsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.acknowledge, handlers.acknowledge)
  .openapi(routes.resolve, handlers.resolve);
