import type * as routes from "#src/features/members/members.routes.ts";
import { changeMemberRole, listMembers, removeMember } from "#src/features/members/members.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";


export const list: AppHandler<typeof routes.list> = async (c) => {
  const page = await listMembers(c.get("db"), c.var.auth, c.req.valid("query"));
  return c.json(page, 200);
};

export const changeRole: AppHandler<typeof routes.changeRole> = async (c) => {
  const { userId } = c.req.valid("param");
  const member = await changeMemberRole(deps(c), c.var.auth, userId, c.req.valid("json").role);
  return c.json(member, 200);
};

export const remove: AppHandler<typeof routes.remove> = async (c) => {
  await removeMember(deps(c), c.var.auth, c.req.valid("param").userId);
  return c.body(null, 204);
};
