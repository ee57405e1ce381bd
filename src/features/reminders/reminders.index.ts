import * as handlers from "#src/features/reminders/reminders.handlers.ts";
import * as routes from "#src/features/reminders/reminders.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

export const remindersRouter = createRouter().openapi(routes.list, handlers.list).openapi(routes.ack, handlers.ack);
