import { z } from "@hono/zod-openapi";
import { ROLES } from "#src/db/schema/identity.ts";
import { TokenPairSchema } from "#src/features/auth/auth.sessions.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { ProblemSchema, problemResponseSpec } from "#src/lib/problem.ts";
import { defineRoute } from "#src/lib/route.ts";
import { email, text, uuid } from "#src/lib/text.ts";

const tags: ["Auth"] = ["Auth"];
const Email = text().trim().email().max(254);
const Password = text(1024).min(1);
const OpaqueToken = text().min(16).max(256);

/** What the 409 of a sign-in that needs an organization looks like. */
export const ORGANIZATION_CHOICE_EXAMPLE = {
  detail: "You belong to several organizations: send organizationId.",
  instance: "/api/v1/auth/mfa/verify",
  organizations: [
    { id: "0193a5c2-7d1e-7b3a-9f00-2c4d6e8f0a1b", name: "Riverside Practice" },
    { id: "0193a5c2-9e4f-7c2d-8a11-3d5e7f9a1b2c", name: "Hillview Clinic" },
  ],
};

export const UserSchema = z
  .object({ id: uuid(), email: email(), name: text(200), emailVerified: z.boolean(), mfaEnabled: z.boolean() })
  .openapi("User");

export const OrganizationSummarySchema = z
  .object({ id: uuid(), name: text(200), slug: text(63), timezone: text(64) })
  .openapi("OrganizationSummary");

const SignupBody = z
  .object({
    organizationName: text().trim().min(1).max(200),
    organizationSlug: z
      .string()
      .max(63)
      .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "lower-case letters, digits and dashes, 2 to 63 characters")
      .optional(),
    name: text().trim().min(1).max(200),
    email: Email,
  })
  .strict()
  .openapi("SignupRequest");

export const SignupAcceptedSchema = z.object({ message: text() }).openapi("SignupAccepted");

export const signup = defineRoute({
  method: "post",
  path: "/auth/signup",
  operationId: "signup",
  tags,
  summary: "Start a sign-up: mails a confirmation link; the same 202 whether or not the email is registered",
  description:
    "Verify-first: nothing is created until the mailed link is confirmed at POST /auth/signup/confirm. " +
    "A registered address gets a mail saying someone tried to sign up with it, and how to sign in or reset the password instead.",
  create: true,
  rateLimit: "auth",
  request: { body: jsonBody(SignupBody) },
  responses: { 202: jsonResponse("Accepted: a mail is on its way", SignupAcceptedSchema) },
});

const SignupConfirmBody = z
  .object({
    token: text(2048).min(16).openapi({ description: "The token of the mailed sign-up link" }),
    password: Password.openapi({ description: "The owner's password, chosen now by whoever holds the mailed link" }),
  })
  .strict()
  .openapi("SignupConfirmRequest");

export const signupConfirm = defineRoute({
  method: "post",
  path: "/auth/signup/confirm",
  operationId: "confirmSignup",
  tags,
  summary: "Confirm a sign-up with the mailed token and choose the owner's password: creates the organization and its owner, and signs in",
  description:
    "The password is chosen here, by whoever holds the mailed link, never at POST /auth/signup. " +
    "422 for a bad or expired token or a refused password; 409 when the sign-up was already confirmed or the organization slug was taken meanwhile.",
  create: true,
  rateLimit: "auth",
  request: { body: jsonBody(SignupConfirmBody) },
  responses: {
    201: jsonResponse(
      "Signed up and signed in",
      z
        .object({ user: UserSchema, organization: OrganizationSummarySchema, tokens: TokenPairSchema })
        .openapi("SignupResult"),
    ),
  },
});

/** Every answer that signs in carries its token pair under `tokens`, beside what else it says. */
export const SessionSchema = z.object({ tokens: TokenPairSchema }).openapi("Session");

const DeviceToken = text(200).openapi({
  description:
    "Proof that this device signed in to the account before: keep it (per account) and send it with the next sign-in. A known device is never slowed down by the per-account backoff that many wrong passwords from elsewhere start. Valid 180 days.",
});

const LoginBody = z
  .object({ email: Email, password: Password, organizationId: uuid().optional(), deviceToken: DeviceToken.optional() })
  .strict()
  .openapi("LoginRequest");

export const LoginResultSchema = z
  .union([
    z.object({ mfaRequired: z.literal(false), tokens: TokenPairSchema, deviceToken: DeviceToken }),
    z.object({
      mfaRequired: z.literal(true),
      mfaToken: text(2048).openapi({ description: "A signed JWT for POST /auth/mfa/verify; valid 5 minutes" }),
      deviceToken: DeviceToken,
    }),
  ])
  .openapi("LoginResult");

export const OrganizationChoiceSchema = ProblemSchema.and(
  z.object({ organizations: z.array(z.object({ id: uuid(), name: text(200) })).max(1000) }),
).openapi("OrganizationChoiceRequired");

export const login = defineRoute({
  method: "post",
  path: "/auth/login",
  operationId: "login",
  tags,
  summary: "Sign in with email and password; locks the account for 15 minutes after 5 failures",
  description:
    "Answers the token pair, or an MFA token for POST /auth/mfa/verify. A member of several organizations sends organizationId (see the 409); 403 when the account belongs to none, or not to the one named.",
  rateLimit: "auth",
  problems: [403],
  request: { body: jsonBody(LoginBody) },
  responses: {
    200: jsonResponse("Signed in, or the MFA step is required", LoginResultSchema),
    409: problemResponseSpec(409, {
      description: "Member of several organizations: send organizationId",
      schema: OrganizationChoiceSchema,
      example: { ...ORGANIZATION_CHOICE_EXAMPLE, instance: "/api/v1/auth/login" },
    }),
  },
});

const RefreshBody = z.object({ refreshToken: OpaqueToken }).strict().openapi("RefreshRequest");

export const refresh = defineRoute({
  method: "post",
  path: "/auth/refresh",
  operationId: "refreshTokens",
  tags,
  summary: "Rotate a refresh token; presenting a used one revokes its whole family",
  description: "Each refresh token works once; the answer carries the next pair.",
  rateLimit: "auth",
  request: { body: jsonBody(RefreshBody) },
  responses: { 200: jsonResponse("A new token pair", SessionSchema) },
});

export const logout = defineRoute({
  method: "post",
  path: "/auth/logout",
  operationId: "logout",
  tags,
  summary: "Revoke the refresh-token family of this session",
  description: "The access token stays valid until it expires (at most 15 minutes); use logout-all to end those too.",
  permission: "profile:self",
  membersOnly: true,
  rateLimit: "auth",
  request: { body: jsonBody(RefreshBody) },
  responses: { 204: { description: "Signed out" } },
});

export const logoutAll = defineRoute({
  method: "post",
  path: "/auth/logout-all",
  operationId: "logoutAll",
  tags,
  summary: "Revoke every refresh token and every access token of the caller",
  description: "Every session of the member ends at once, this one included.",
  permission: "profile:self",
  membersOnly: true,
  rateLimit: "auth",
  responses: { 204: { description: "Signed out everywhere" } },
});

const SwitchBody = z.object({ organizationId: uuid() }).strict().openapi("SwitchOrganizationRequest");

export const switchOrganization = defineRoute({
  method: "post",
  path: "/auth/switch",
  operationId: "switchOrganization",
  tags,
  summary: "A token pair for another organization the caller belongs to",
  description: "404 when the caller is not a member of that organization.",
  permission: "profile:self",
  membersOnly: true,
  rateLimit: "auth",
  problems: [404],
  request: { body: jsonBody(SwitchBody) },
  responses: { 200: jsonResponse("Signed in to the organization", SessionSchema) },
});

const ForgotBody = z.object({ email: Email }).strict().openapi("ForgotPasswordRequest");

export const AcceptedSchema = z.object({ message: text() }).openapi("Accepted");

export const forgotPassword = defineRoute({
  method: "post",
  path: "/auth/password/forgot",
  operationId: "forgotPassword",
  tags,
  summary: "Mail a password-reset link; answers the same whether or not the email is known",
  description: "The link is valid for an hour and single use.",
  rateLimit: "auth",
  request: { body: jsonBody(ForgotBody) },
  responses: { 202: jsonResponse("Accepted", AcceptedSchema) },
});

const ResetBody = z.object({ token: OpaqueToken, password: Password }).strict().openapi("ResetPasswordRequest");

export const resetPassword = defineRoute({
  method: "post",
  path: "/auth/password/reset",
  operationId: "resetPassword",
  tags,
  summary: "Set a new password with a reset token (single use, spends the others); signs out every session",
  description: "400 when the link is invalid, expired or already used.",
  rateLimit: "auth",
  request: { body: jsonBody(ResetBody) },
  responses: { 204: { description: "Password changed" } },
});

const ChangeBody = z
  .object({ currentPassword: Password, newPassword: Password })
  .strict()
  .openapi("ChangePasswordRequest");

export const changePassword = defineRoute({
  method: "post",
  path: "/auth/password/change",
  operationId: "changePassword",
  tags,
  summary: "Change the password (shares the login lockout); other sessions and reset links end, this one gets fresh tokens",
  description: "401 when the current password is wrong.",
  permission: "profile:self",
  membersOnly: true,
  rateLimit: "auth",
  problems: [404],
  request: { body: jsonBody(ChangeBody) },
  responses: { 200: jsonResponse("Password changed; a new token pair", SessionSchema) },
});

export const RoleSchema = z.enum(ROLES);
