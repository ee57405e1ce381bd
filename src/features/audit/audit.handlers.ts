import type * as routes from "#src/features/audit/audit.routes.ts";
import { exportAuditEvents, listAuditEvents, verifyAuditTrail } from "#src/features/audit/audit.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

const callerOf = (auth: { organizationId: string; userId: string | null; apiKeyId: string | null }) => ({
  organizationId: auth.organizationId,
  userId: auth.userId,
  apiKeyId: auth.apiKeyId,
});

export const list: AppHandler<typeof routes.list> = async (c) => {
  const page = await listAuditEvents(deps(c), callerOf(c.var.auth), c.req.valid("query"));
  return c.json(page, 200);
};

export const exportEvents: AppHandler<typeof routes.exportEvents> = async (c) => {
  const stream = await exportAuditEvents(deps(c), callerOf(c.var.auth), c.req.valid("query"));
  // zod-openapi types only JSON and text bodies; an NDJSON stream is a plain Response.
  return c.body(stream, 200, { "Content-Type": "application/x-ndjson; charset=utf-8", "Cache-Control": "no-store" }) as never;
};

export const verify: AppHandler<typeof routes.verify> = async (c) => {
  const report = await verifyAuditTrail(deps(c), callerOf(c.var.auth));
  return c.json(report, 200);
};
