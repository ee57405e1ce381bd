import * as handlers from "#src/features/clinicians/clinicians.handlers.ts";
import * as routes from "#src/features/clinicians/clinicians.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const cliniciansRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.getWorkingHours, handlers.getWorkingHours)
  .openapi(routes.putWorkingHours, handlers.putWorkingHours)
  .openapi(routes.availability, handlers.availability);
