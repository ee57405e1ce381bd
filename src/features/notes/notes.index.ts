import * as handlers from "#src/features/notes/notes.handlers.ts";
import * as routes from "#src/features/notes/notes.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

/** `/notes/search` is declared before `/notes/{id}`, so "search" is never taken for an id. */
export const notesRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.search, handlers.search)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.sign, handlers.sign)
  .openapi(routes.addAddendum, handlers.addendum);
