import * as handlers from "#src/features/preferences/preferences.handlers.ts";
import * as routes from "#src/features/preferences/preferences.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const preferencesRouter = createRouter()
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch);
