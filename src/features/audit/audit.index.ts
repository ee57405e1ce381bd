import * as handlers from "#src/features/audit/audit.handlers.ts";
import * as routes from "#src/features/audit/audit.routes.ts";
import { createRouter } from "#src/lib/create-router.ts";

// export and verify before any /audit-events/{id} a later change might add.
export const auditRouter = createRouter()
  .openapi(routes.exportEvents, handlers.exportEvents)
  .openapi(routes.verify, handlers.verify)
  .openapi(routes.list, handlers.list);
