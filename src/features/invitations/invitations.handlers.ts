import type { Context } from "hono";
import type * as routes from "#src/features/invitations/invitations.routes.ts";
import { acceptInvitation, createInvitation, type InvitationDeps } from "#src/features/invitations/invitations.service.ts";
import { auditOrigin } from "#src/lib/audit.ts";
import type { AppEnv, AppRouteHandler } from "#src/lib/types.ts";
import { requireAuth } from "#src/middleware/auth.ts";

const deps = (c: Context<AppEnv>): InvitationDeps => ({
  db: c.get("db"),
  origin: auditOrigin(c),
  config: c.get("config"),
  mailer: c.get("mailer"),
});

export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const invitation = await createInvitation(deps(c), requireAuth(c.get("auth")), c.req.valid("json"));
  return c.json(invitation, 201);
};

export const accept: AppRouteHandler<typeof routes.accept> = async (c) => {
  const accepted = await acceptInvitation(deps(c), c.req.valid("json"));
  return c.json(accepted, 201);
};
