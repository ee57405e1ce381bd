import { createRouter } from "#src/lib/create-router.ts";

export const remindersRouter = createRouter();
