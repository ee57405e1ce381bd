import type { Context } from "hono";
import type * as routes from "#src/features/api-keys/api-keys.routes.ts";
import { type ApiKeyDeps, createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from "#src/features/api-keys/api-keys.service.ts";
import { auditOrigin } from "#src/lib/audit.ts";
import type { AppEnv, AppRouteHandler } from "#src/lib/types.ts";
import { memberOf, requireAuth } from "#src/middleware/auth.ts";

const deps = (c: Context<AppEnv>): ApiKeyDeps => ({ db: c.get("db"), origin: auditOrigin(c), graceHours: c.get("config").API_KEY_GRACE_HOURS });

export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const data = await listApiKeys(c.get("db"), requireAuth(c.get("auth")));
  return c.json({ data }, 200);
};

/** Keys are managed by signed-in members only: a key must not mint, rotate or revoke keys. */
export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const issued = await createApiKey(deps(c), memberOf(c.get("auth")), c.req.valid("json"));
  return c.json(issued, 201, { "Cache-Control": "no-store" });
};

export const rotate: AppRouteHandler<typeof routes.rotate> = async (c) => {
  const issued = await rotateApiKey(deps(c), memberOf(c.get("auth")), c.req.valid("param").id);
  return c.json(issued, 201, { "Cache-Control": "no-store" });
};

export const revoke: AppRouteHandler<typeof routes.revoke> = async (c) => {
  await revokeApiKey(deps(c), memberOf(c.get("auth")), c.req.valid("param").id);
  return c.body(null, 204);
};
