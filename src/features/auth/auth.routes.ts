import { text } from "#src/lib/text.ts";
import { createRoute, z } from "@hono/zod-openapi";
import { TokenPairSchema } from "#src/features/auth/auth.sessions.ts";
import { ROLES } from "#src/db/schema/identity.ts";
import { requirePermission } from "#src/middleware/auth.ts";
import { IdempotencyKeyHeader, idempotent } from "#src/middleware/idempotency.ts";
import { PROBLEM_CONTENT_TYPE, ProblemSchema, problemResponses } from "#src/lib/problem.ts";
import { MEMBER_ONLY, jsonBody, jsonResponse } from "#src/lib/openapi.ts";

const tags = ["Auth"];
const Email = text().trim().email().max(254);
const Password = text().min(1).max(1024);
const OpaqueToken = text().min(16).max(256);


export const UserSchema = z
  .object({ id: text().uuid(), email: text(), name: text(), emailVerified: z.boolean(), mfaEnabled: z.boolean() })
  .openapi("User");

export const OrganizationSummarySchema = z
  .object({ id: text().uuid(), name: text(), slug: text(), timezone: text() })
  .openapi("OrganizationSummary");

const SignupBody = z
  .object({
    organizationName: text().trim().min(1).max(200),
    organizationSlug: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "lower-case letters, digits and dashes, 2 to 63 characters")
      .optional(),
    name: text().trim().min(1).max(200),
    email: Email,
    password: Password,
  })
  .strict()
  .openapi("SignupRequest");

export const SignupAcceptedSchema = z.object({ message: text() }).openapi("SignupAccepted");

export const signup = createRoute({
  method: "post",
  path: "/auth/signup",
  tags,
  summary: "Start a sign-up: mails a confirmation link; the same 202 whether or not the email is registered",
  description:
    "Verify-first: nothing is created until the mailed link is confirmed at POST /auth/signup/confirm. " +
    "A registered address gets a mail saying someone tried to sign up with it, and how to sign in or reset the password instead.",
  middleware: [idempotent()] as const,
  request: { headers: IdempotencyKeyHeader, body: jsonBody(SignupBody) },
  responses: {
    202: jsonResponse("Accepted: a mail is on its way", SignupAcceptedSchema),
    ...problemResponses(400, 409, 413, 415, 422, 429, 500, 503),
  },
});

const SignupConfirmBody = z
  .object({ token: text().min(16).max(2048).openapi({ description: "The token of the mailed sign-up link" }) })
  .strict()
  .openapi("SignupConfirmRequest");

export const signupConfirm = createRoute({
  method: "post",
  path: "/auth/signup/confirm",
  tags,
  summary: "Confirm a sign-up with the mailed token: creates the organization and its owner, and signs in",
  middleware: [idempotent()] as const,
  request: { headers: IdempotencyKeyHeader, body: jsonBody(SignupConfirmBody) },
  responses: {
    201: jsonResponse(
      "Signed up and signed in",
      z
        .object({ user: UserSchema, organization: OrganizationSummarySchema, tokens: TokenPairSchema })
        .openapi("SignupResult"),
    ),
    ...problemResponses(400, 409, 413, 415, 422, 429, 500, 503),
  },
});

/** Every answer that signs in carries its token pair under `tokens`, beside what else it says. */
export const SessionSchema = z.object({ tokens: TokenPairSchema }).openapi("Session");

const LoginBody = z
  .object({ email: Email, password: Password, organizationId: text().uuid().optional() })
  .strict()
  .openapi("LoginRequest");

export const LoginResultSchema = z
  .union([
    z.object({ mfaRequired: z.literal(false), tokens: TokenPairSchema }),
    z.object({
      mfaRequired: z.literal(true),
      mfaToken: text().openapi({ description: "For POST /auth/mfa/verify; valid 5 minutes" }),
    }),
  ])
  .openapi("LoginResult");

export const OrganizationChoiceSchema = ProblemSchema.and(
  z.object({ organizations: z.array(z.object({ id: text().uuid(), name: text() })) }),
).openapi("OrganizationChoiceRequired");

export const login = createRoute({
  method: "post",
  path: "/auth/login",
  tags,
  summary: "Sign in with email and password; locks the account for 15 minutes after 5 failures",
  request: { body: jsonBody(LoginBody) },
  responses: {
    200: jsonResponse("Signed in, or the MFA step is required", LoginResultSchema),
    409: {
      description: "Member of several organizations: send organizationId",
      content: { [PROBLEM_CONTENT_TYPE]: { schema: OrganizationChoiceSchema } },
    },
    ...problemResponses(400, 401, 403, 422, 429, 500, 503),
  },
});

const RefreshBody = z.object({ refreshToken: OpaqueToken }).strict().openapi("RefreshRequest");

export const refresh = createRoute({
  method: "post",
  path: "/auth/refresh",
  tags,
  summary: "Rotate a refresh token; presenting a used one revokes its whole family",
  request: { body: jsonBody(RefreshBody) },
  responses: {
    200: jsonResponse("A new token pair", SessionSchema),
    ...problemResponses(400, 401, 422, 429, 500, 503),
  },
});

export const logout = createRoute({
  method: "post",
  path: "/auth/logout",
  tags,
  summary: "Revoke the refresh-token family of this session",
  middleware: [requirePermission("profile:self")] as const,
  security: MEMBER_ONLY,
  request: { body: jsonBody(RefreshBody) },
  responses: {
    204: { description: "Signed out" },
    ...problemResponses(400, 401, 403, 422, 429, 500, 503),
  },
});

export const logoutAll = createRoute({
  method: "post",
  path: "/auth/logout-all",
  tags,
  summary: "Revoke every refresh token and every access token of the caller",
  middleware: [requirePermission("profile:self")] as const,
  security: MEMBER_ONLY,
  responses: {
    204: { description: "Signed out everywhere" },
    ...problemResponses(401, 403, 429, 500, 503),
  },
});

const SwitchBody = z.object({ organizationId: text().uuid() }).strict().openapi("SwitchOrganizationRequest");

export const switchOrganization = createRoute({
  method: "post",
  path: "/auth/switch",
  tags,
  summary: "A token pair for another organization the caller belongs to",
  middleware: [requirePermission("profile:self")] as const,
  security: MEMBER_ONLY,
  request: { body: jsonBody(SwitchBody) },
  responses: {
    200: jsonResponse("Signed in to the organization", SessionSchema),
    ...problemResponses(400, 401, 403, 404, 422, 429, 500, 503),
  },
});

const ForgotBody = z.object({ email: Email }).strict().openapi("ForgotPasswordRequest");

export const AcceptedSchema = z.object({ message: text() }).openapi("Accepted");

export const forgotPassword = createRoute({
  method: "post",
  path: "/auth/password/forgot",
  tags,
  summary: "Mail a password-reset link; answers the same whether or not the email is known",
  request: { body: jsonBody(ForgotBody) },
  responses: {
    202: jsonResponse("Accepted", AcceptedSchema),
    ...problemResponses(400, 422, 429, 500, 503),
  },
});

const ResetBody = z.object({ token: OpaqueToken, password: Password }).strict().openapi("ResetPasswordRequest");

export const resetPassword = createRoute({
  method: "post",
  path: "/auth/password/reset",
  tags,
  summary: "Set a new password with a reset token (single use, spends the others); signs out every session",
  request: { body: jsonBody(ResetBody) },
  responses: {
    204: { description: "Password changed" },
    ...problemResponses(400, 422, 429, 500, 503),
  },
});

const ChangeBody = z
  .object({ currentPassword: Password, newPassword: Password })
  .strict()
  .openapi("ChangePasswordRequest");

export const changePassword = createRoute({
  method: "post",
  path: "/auth/password/change",
  tags,
  summary: "Change the password (shares the login lockout); other sessions and reset links end, this one gets fresh tokens",
  middleware: [requirePermission("profile:self")] as const,
  security: MEMBER_ONLY,
  request: { body: jsonBody(ChangeBody) },
  responses: {
    200: jsonResponse("Password changed; a new token pair", SessionSchema),
    ...problemResponses(400, 401, 403, 422, 429, 500, 503),
  },
});

export const RoleSchema = z.enum(ROLES);
