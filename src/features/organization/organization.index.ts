import * as handlers from "#src/features/organization/organization.handlers.ts";
import * as routes from "#src/features/organization/organization.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const organizationRouter = createRouter()
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch);
