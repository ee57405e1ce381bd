import * as handlers from "#src/features/mfa/mfa.handlers.ts";
import * as routes from "#src/features/mfa/mfa.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

/** TOTP enrolment under /me and the second login step under /auth; mounted at /api/v1. */
export const mfaRouter = createRouter()
  .openapi(routes.enrol, handlers.enrol)
  .openapi(routes.confirm, handlers.confirm)
  .openapi(routes.disable, handlers.disable)
  .openapi(routes.verify, handlers.verify);
