import type { Context } from "hono";
import * as service from "#src/features/mfa/mfa.service.ts";
import type * as routes from "#src/features/mfa/mfa.routes.ts";
import { auditOrigin } from "#src/lib/audit.ts";
import { Conflict } from "#src/lib/errors.ts";
import { PROBLEM_CONTENT_TYPE, toProblem } from "#src/lib/problem.ts";
import type { AppEnv, AppRouteHandler } from "#src/lib/types.ts";
import { memberOf } from "#src/middleware/auth.ts";

const deps = (c: Context<AppEnv>): service.MfaDeps => ({
  db: c.get("db"),
  config: c.get("config"),
  origin: auditOrigin(c),
  rateLimiter: c.get("adapters").rateLimiter,
});

export const enrol: AppRouteHandler<typeof routes.enrol> = async (c) => {
  const member = memberOf(c.get("auth"));
  return c.json(await service.startEnrolment(deps(c), member), 200);
};

export const confirm: AppRouteHandler<typeof routes.confirm> = async (c) => {
  const member = memberOf(c.get("auth"));
  const { code } = c.req.valid("json");
  return c.json(await service.confirmEnrolment(deps(c), member, code), 200);
};

export const disable: AppRouteHandler<typeof routes.disable> = async (c) => {
  const member = memberOf(c.get("auth"));
  await service.disableMfa(deps(c), member, c.req.valid("json").code);
  return c.body(null, 204);
};

export const verify: AppRouteHandler<typeof routes.verify> = async (c) => {
  const { mfaToken, code, recoveryCode, organizationId } = c.req.valid("json");
  const factor = code !== undefined ? { code } : { recoveryCode: recoveryCode ?? "" };
  const outcome = await service.completeLogin(deps(c), mfaToken, factor, organizationId);
  if (outcome.kind === "choose") {
    const problem = toProblem(Conflict("You belong to several organizations: send organizationId."), c.get("requestId"), c.req.path);
    return c.json({ ...problem, organizations: outcome.organizations }, 409, { "Content-Type": PROBLEM_CONTENT_TYPE });
  }
  return c.json({ mfaRequired: false as const, tokens: outcome.tokens }, 200);
};
