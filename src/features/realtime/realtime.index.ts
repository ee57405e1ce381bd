import * as handlers from "#src/features/realtime/realtime.handlers.ts";
import * as routes from "#src/features/realtime/realtime.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const realtimeRouter = createRouter().openapi(routes.ticket, handlers.ticket).openapi(routes.connect, handlers.connect);
