import * as handlers from "#src/features/devices/devices.handlers.ts";
import * as routes from "#src/features/devices/devices.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const devicesRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.register, handlers.register)
  .openapi(routes.remove, handlers.remove);
