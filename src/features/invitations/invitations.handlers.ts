import type * as routes from "#src/features/invitations/invitations.routes.ts";
import { acceptInvitation, createInvitation } from "#src/features/invitations/invitations.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const create: AppHandler<typeof routes.create> = async (c) => {
  const invitation = await createInvitation(deps(c), c.var.auth, c.req.valid("json"));
  return c.json(invitation, 201);
};

export const accept: AppHandler<typeof routes.accept> = async (c) => {
  const accepted = await acceptInvitation(deps(c), c.req.valid("json"));
  return c.json(accepted, 201);
};
