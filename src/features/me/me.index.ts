import * as handlers from "#src/features/me/me.handlers.ts";
import * as routes from "#src/features/me/me.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const meRouter = createRouter().openapi(routes.getMe, handlers.getMe);
