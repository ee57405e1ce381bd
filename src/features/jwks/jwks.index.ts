import * as handlers from "#src/features/jwks/jwks.handlers.ts";
import * as routes from "#src/features/jwks/jwks.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const jwksRouter = createRouter().openapi(routes.getJwks, handlers.getJwks);
