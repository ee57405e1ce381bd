import * as handlers from "#src/features/notifications/notifications.handlers.ts";
import * as routes from "#src/features/notifications/notifications.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const notificationsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.markRead, handlers.markRead);
