import type * as routes from "#src/features/api-keys/api-keys.routes.ts";
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from "#src/features/api-keys/api-keys.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const list: AppHandler<typeof routes.list> = async (c) => {
  const data = await listApiKeys(c.get("db"), c.var.auth);
  return c.json({ data }, 200);
};

/** Keys are managed by signed-in members only (the route is `membersOnly`): a key must not mint, rotate or revoke keys. */
export const create: AppHandler<typeof routes.create> = async (c) => {
  const issued = await createApiKey(deps(c), c.var.auth, c.req.valid("json"));
  return c.json(issued, 201, { "Cache-Control": "no-store" });
};

export const rotate: AppHandler<typeof routes.rotate> = async (c) => {
  const issued = await rotateApiKey(deps(c), c.var.auth, c.req.valid("param").id);
  return c.json(issued, 201, { "Cache-Control": "no-store" });
};

export const revoke: AppHandler<typeof routes.revoke> = async (c) => {
  await revokeApiKey(deps(c), c.var.auth, c.req.valid("param").id);
  return c.body(null, 204);
};
