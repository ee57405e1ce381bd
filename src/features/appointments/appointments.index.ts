import * as handlers from "#src/features/appointments/appointments.handlers.ts";
import * as routes from "#src/features/appointments/appointments.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const appointmentsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.confirm, handlers.confirm)
  .openapi(routes.complete, handlers.complete)
  .openapi(routes.noShow, handlers.noShow)
  .openapi(routes.cancel, handlers.cancel);
