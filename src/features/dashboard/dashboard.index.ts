import * as handlers from "#src/features/dashboard/dashboard.handlers.ts";
import * as routes from "#src/features/dashboard/dashboard.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const dashboardRouter = createRouter().openapi(routes.getDashboard, handlers.getDashboard);
