import { authDeps } from "#src/features/auth/auth.deps.ts";
import * as passwords from "#src/features/auth/auth.password.service.ts";
import * as sessions from "#src/features/auth/auth.refresh.service.ts";
import type * as routes from "#src/features/auth/auth.routes.ts";
import * as service from "#src/features/auth/auth.service.ts";
import * as signups from "#src/features/auth/auth.signup.service.ts";
import { Conflict } from "#src/lib/errors.ts";
import { PROBLEM_CONTENT_TYPE, toProblem } from "#src/lib/problem.ts";
import type { AppRouteHandler } from "#src/lib/types.ts";
import { memberOf } from "#src/middleware/auth.ts";

export const signup: AppRouteHandler<typeof routes.signup> = async (c) => {
  await signups.requestSignup(authDeps(c), c.req.valid("json"));
  return c.json({ message: signups.SIGNUP_MESSAGE }, 202);
};

export const signupConfirm: AppRouteHandler<typeof routes.signupConfirm> = async (c) =>
  c.json(await signups.confirmSignup(authDeps(c), c.req.valid("json").token), 201);

export const login: AppRouteHandler<typeof routes.login> = async (c) => {
  const outcome = await service.login(authDeps(c), c.req.valid("json"));
  if (outcome.kind === "choose") {
    const problem = toProblem(
      Conflict("You belong to several organizations: send organizationId."),
      c.get("requestId"),
      c.req.path,
    );
    return c.json({ ...problem, organizations: outcome.organizations }, 409, { "Content-Type": PROBLEM_CONTENT_TYPE });
  }
  if (outcome.kind === "mfa") return c.json({ mfaRequired: true as const, mfaToken: outcome.mfaToken }, 200);
  return c.json({ mfaRequired: false as const, tokens: outcome.tokens }, 200);
};

export const refresh: AppRouteHandler<typeof routes.refresh> = async (c) =>
  c.json({ tokens: await sessions.rotateRefreshToken(authDeps(c), c.req.valid("json").refreshToken) }, 200);

export const logout: AppRouteHandler<typeof routes.logout> = async (c) => {
  await sessions.logout(authDeps(c), memberOf(c.get("auth")), c.req.valid("json").refreshToken);
  return c.body(null, 204);
};

export const logoutAll: AppRouteHandler<typeof routes.logoutAll> = async (c) => {
  await sessions.logoutAll(authDeps(c), memberOf(c.get("auth")));
  return c.body(null, 204);
};

export const switchOrganization: AppRouteHandler<typeof routes.switchOrganization> = async (c) =>
  c.json({ tokens: await sessions.switchOrganization(authDeps(c), memberOf(c.get("auth")), c.req.valid("json").organizationId) }, 200);

export const forgotPassword: AppRouteHandler<typeof routes.forgotPassword> = async (c) => {
  await passwords.forgotPassword(authDeps(c), c.req.valid("json").email);
  return c.json({ message: passwords.FORGOT_MESSAGE }, 202);
};

export const resetPassword: AppRouteHandler<typeof routes.resetPassword> = async (c) => {
  const body = c.req.valid("json");
  await passwords.resetPassword(authDeps(c), body.token, body.password);
  return c.body(null, 204);
};

export const changePassword: AppRouteHandler<typeof routes.changePassword> = async (c) =>
  c.json({ tokens: await passwords.changePassword(authDeps(c), memberOf(c.get("auth")), c.req.valid("json")) }, 200);
