import type * as routes from "#src/features/invitations/invitations.routes.ts";
import { acceptInvitation, createInvitation, type InvitationDeps } from "#src/features/invitations/invitations.service.ts";
import { auditOrigin } from "#src/lib/audit.ts";
import type { AppHandler, RequestContext } from "#src/lib/route.ts";

const deps = (c: RequestContext): InvitationDeps => ({
  db: c.get("db"),
  origin: auditOrigin(c),
  config: c.get("config"),
  mailer: c.get("mailer"),
});

export const create: AppHandler<typeof routes.create> = async (c) => {
  const invitation = await createInvitation(deps(c), c.var.auth, c.req.valid("json"));
  return c.json(invitation, 201);
};

export const accept: AppHandler<typeof routes.accept> = async (c) => {
  const accepted = await acceptInvitation(deps(c), c.req.valid("json"));
  return c.json(accepted, 201);
};
