import * as service from "#src/features/mfa/mfa.service.ts";
import type * as routes from "#src/features/mfa/mfa.routes.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import { Conflict } from "#src/lib/errors.ts";
import type { AppHandler } from "#src/lib/route.ts";


export const enrol: AppHandler<typeof routes.enrol> = async (c) => c.json(await service.startEnrolment(deps(c), c.var.auth), 200);

export const confirm: AppHandler<typeof routes.confirm> = async (c) =>
  c.json(await service.confirmEnrolment(deps(c), c.var.auth, c.req.valid("json").code), 200);

export const disable: AppHandler<typeof routes.disable> = async (c) => {
  await service.disableMfa(deps(c), c.var.auth, c.req.valid("json").code);
  return c.body(null, 204);
};

/** A member of several organizations gets a 409 problem listing them (an extension member). */
export const verify: AppHandler<typeof routes.verify> = async (c) => {
  const { mfaToken, code, recoveryCode, organizationId } = c.req.valid("json");
  const factor = code !== undefined ? { code } : { recoveryCode: recoveryCode ?? "" };
  const outcome = await service.completeLogin(deps(c), mfaToken, factor, organizationId);
  if (outcome.kind === "choose") {
    throw Conflict("You belong to several organizations: send organizationId.", { extensions: { organizations: outcome.organizations } });
  }
  return c.json({ mfaRequired: false as const, tokens: outcome.tokens }, 200);
};
