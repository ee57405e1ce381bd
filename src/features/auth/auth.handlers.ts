import { requestDeps } from "#src/lib/deps.ts";
import * as passwords from "#src/features/auth/auth.password.service.ts";
import * as sessions from "#src/features/auth/auth.refresh.service.ts";
import type * as routes from "#src/features/auth/auth.routes.ts";
import * as service from "#src/features/auth/auth.service.ts";
import * as signups from "#src/features/auth/auth.signup.service.ts";
import { Conflict } from "#src/lib/errors.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const signup: AppHandler<typeof routes.signup> = async (c) => {
  await signups.requestSignup(requestDeps(c), c.req.valid("json"));
  return c.json({ message: signups.SIGNUP_MESSAGE }, 202);
};

export const signupConfirm: AppHandler<typeof routes.signupConfirm> = async (c) =>
  c.json(await signups.confirmSignup(requestDeps(c), c.req.valid("json")), 201);

/** A member of several organizations gets a 409 problem listing them (an extension member). */
export const login: AppHandler<typeof routes.login> = async (c) => {
  const outcome = await service.login(requestDeps(c), c.req.valid("json"));
  if (outcome.kind === "choose") {
    throw Conflict("You belong to several organizations: send organizationId.", { extensions: { organizations: outcome.organizations } });
  }
  if (outcome.kind === "mfa") return c.json({ mfaRequired: true as const, mfaToken: outcome.mfaToken, deviceToken: outcome.deviceToken }, 200);
  return c.json({ mfaRequired: false as const, tokens: outcome.tokens, deviceToken: outcome.deviceToken }, 200);
};

export const refresh: AppHandler<typeof routes.refresh> = async (c) =>
  c.json({ tokens: await sessions.rotateRefreshToken(requestDeps(c), c.req.valid("json").refreshToken) }, 200);

export const logout: AppHandler<typeof routes.logout> = async (c) => {
  await sessions.logout(requestDeps(c), c.var.auth, c.req.valid("json").refreshToken);
  return c.body(null, 204);
};

export const logoutAll: AppHandler<typeof routes.logoutAll> = async (c) => {
  await sessions.logoutAll(requestDeps(c), c.var.auth);
  return c.body(null, 204);
};

export const switchOrganization: AppHandler<typeof routes.switchOrganization> = async (c) =>
  c.json({ tokens: await sessions.switchOrganization(requestDeps(c), c.var.auth, c.req.valid("json").organizationId) }, 200);

export const forgotPassword: AppHandler<typeof routes.forgotPassword> = async (c) => {
  await passwords.forgotPassword(requestDeps(c), c.req.valid("json").email);
  return c.json({ message: passwords.FORGOT_MESSAGE }, 202);
};

export const resetPassword: AppHandler<typeof routes.resetPassword> = async (c) => {
  const body = c.req.valid("json");
  await passwords.resetPassword(requestDeps(c), body.token, body.password);
  return c.body(null, 204);
};

export const changePassword: AppHandler<typeof routes.changePassword> = async (c) =>
  c.json({ tokens: await passwords.changePassword(requestDeps(c), c.var.auth, c.req.valid("json")) }, 200);
