import * as handlers from "#src/features/health/health.handlers.ts";
import * as routes from "#src/features/health/health.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const healthRouter = createRouter()
  .openapi(routes.live, handlers.live)
  .openapi(routes.ready, handlers.ready);
