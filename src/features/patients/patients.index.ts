import * as handlers from "#src/features/patients/patients.handlers.ts";
import * as routes from "#src/features/patients/patients.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const patientsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.archive, handlers.archive)
  .openapi(routes.careTeam, handlers.careTeam)
  .openapi(routes.addCareTeamMember, handlers.addCareTeamMember)
  .openapi(routes.removeCareTeamMember, handlers.removeCareTeamMember);
