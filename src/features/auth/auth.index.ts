import * as handlers from "#src/features/auth/auth.handlers.ts";
import * as routes from "#src/features/auth/auth.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const authRouter = createRouter()
  .openapi(routes.signup, handlers.signup)
  .openapi(routes.signupConfirm, handlers.signupConfirm)
  .openapi(routes.login, handlers.login)
  .openapi(routes.refresh, handlers.refresh)
  .openapi(routes.logout, handlers.logout)
  .openapi(routes.logoutAll, handlers.logoutAll)
  .openapi(routes.switchOrganization, handlers.switchOrganization)
  .openapi(routes.forgotPassword, handlers.forgotPassword)
  .openapi(routes.resetPassword, handlers.resetPassword)
  .openapi(routes.changePassword, handlers.changePassword);
