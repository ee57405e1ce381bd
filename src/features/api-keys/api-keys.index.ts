import * as handlers from "#src/features/api-keys/api-keys.handlers.ts";
import * as routes from "#src/features/api-keys/api-keys.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const apiKeysRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.rotate, handlers.rotate)
  .openapi(routes.revoke, handlers.revoke);
