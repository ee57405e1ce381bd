import type * as routes from "#src/features/members/members.routes.ts";
import { changeMemberRole, listMembers, type MemberDeps, removeMember } from "#src/features/members/members.service.ts";
import { auditOrigin } from "#src/lib/audit.ts";
import type { AppEnv, AppRouteHandler } from "#src/lib/types.ts";
import { requireAuth } from "#src/middleware/auth.ts";
import type { Context } from "hono";

const deps = (c: Context<AppEnv>): MemberDeps => ({ db: c.get("db"), origin: auditOrigin(c), rateLimiter: c.get("adapters").rateLimiter });

export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const page = await listMembers(c.get("db"), requireAuth(c.get("auth")), c.req.valid("query"));
  return c.json(page, 200);
};

export const changeRole: AppRouteHandler<typeof routes.changeRole> = async (c) => {
  const { userId } = c.req.valid("param");
  const member = await changeMemberRole(deps(c), requireAuth(c.get("auth")), userId, c.req.valid("json").role);
  return c.json(member, 200);
};

export const remove: AppRouteHandler<typeof routes.remove> = async (c) => {
  await removeMember(deps(c), requireAuth(c.get("auth")), c.req.valid("param").userId);
  return c.body(null, 204);
};
