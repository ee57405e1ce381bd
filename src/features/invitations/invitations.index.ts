import * as handlers from "#src/features/invitations/invitations.handlers.ts";
import * as routes from "#src/features/invitations/invitations.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const invitationsRouter = createRouter()
  .openapi(routes.create, handlers.create)
  .openapi(routes.accept, handlers.accept);
