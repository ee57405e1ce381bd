import * as handlers from "#src/features/activity/activity.handlers.ts";
import * as routes from "#src/features/activity/activity.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const activityRouter = createRouter().openapi(routes.heartbeat, handlers.heartbeat).openapi(routes.list, handlers.list);
