import { text } from "#src/lib/text.ts";
import { createRoute, z } from "@hono/zod-openapi";
import { OrganizationChoiceSchema } from "#src/features/auth/auth.routes.ts";
import { TokenPairSchema } from "#src/features/auth/auth.sessions.ts";
import { RECOVERY_CODE_COUNT } from "#src/features/mfa/mfa.recovery-codes.ts";
import { PROBLEM_CONTENT_TYPE, problemResponses } from "#src/lib/problem.ts";
import { requirePermission } from "#src/middleware/auth.ts";
import { jsonBody, jsonResponse, MEMBER_ONLY } from "#src/lib/openapi.ts";

const TotpCode = text().regex(/^\d{6}$/, "must be 6 digits").openapi({ example: "123456" });
const RecoveryCode = text().min(8).max(32).openapi({ example: "7k2m-q9xd" });

export const TotpEnrolmentSchema = z
  .object({
    secret: text().openapi({ description: "Base32 shared secret, for manual entry" }),
    otpauthUri: text().openapi({ description: "otpauth:// URI to show as a QR code" }),
  })
  .openapi("TotpEnrolment");

export const RecoveryCodesSchema = z
  .object({
    recoveryCodes: z
      .array(text())
      .length(RECOVERY_CODE_COUNT)
      .openapi({ description: "Single-use codes, shown this once" }),
  })
  .openapi("RecoveryCodes");

export const MfaVerifySchema = z
  .strictObject({
    mfaToken: text().min(1).openapi({ description: "From POST /auth/login when it answers mfaRequired" }),
    code: TotpCode.optional(),
    recoveryCode: RecoveryCode.optional(),
    organizationId: z
      .string()
      .uuid()
      .optional()
      .openapi({ description: "The organization to sign in to, when the login did not settle it (see the 409 answer)" }),
  })
  .refine((body) => (body.code === undefined) !== (body.recoveryCode === undefined), {
    message: "send exactly one of code and recoveryCode",
    path: ["code"],
  })
  .openapi("MfaVerify");

export const MfaLoginSchema = z
  .object({ mfaRequired: z.literal(false), tokens: TokenPairSchema })
  .openapi("MfaLogin");

const member = { middleware: [requirePermission("profile:self")], security: MEMBER_ONLY };

export const enrol = createRoute({
  method: "post",
  path: "/me/mfa/totp",
  tags: ["MFA"],
  summary: "Start TOTP enrolment: a new secret, pending until confirmed",
  ...member,
  responses: {
    200: jsonResponse("The secret to load into an authenticator app", TotpEnrolmentSchema),
    ...problemResponses(401, 403, 409, 429, 500, 503),
  },
});

export const confirm = createRoute({
  method: "post",
  path: "/me/mfa/totp/confirm",
  tags: ["MFA"],
  summary: "Confirm enrolment with a current code; answers the recovery codes once",
  ...member,
  request: { body: jsonBody(z.strictObject({ code: TotpCode }).openapi("TotpConfirm")) },
  responses: {
    200: jsonResponse("TOTP is enabled", RecoveryCodesSchema),
    ...problemResponses(400, 401, 403, 409, 415, 422, 429, 500, 503),
  },
});

export const disable = createRoute({
  method: "delete",
  path: "/me/mfa/totp",
  tags: ["MFA"],
  summary: "Turn TOTP off, with a current code or a recovery code",
  ...member,
  request: {
    body: jsonBody(
      z
        .strictObject({ code: z.union([TotpCode, RecoveryCode]).openapi({ description: "A TOTP or recovery code" }) })
        .openapi("TotpDisable"),
    ),
  },
  responses: {
    204: { description: "TOTP is off and the recovery codes are gone" },
    ...problemResponses(400, 401, 403, 409, 415, 422, 429, 500, 503),
  },
});

export const verify = createRoute({
  method: "post",
  path: "/auth/mfa/verify",
  tags: ["Auth"],
  summary: "Second login step: the MFA token (single use) with a TOTP code or a recovery code; 5 wrong codes lock it for 15 minutes",
  request: { body: jsonBody(MfaVerifySchema) },
  responses: {
    200: jsonResponse("Signed in", MfaLoginSchema),
    409: {
      description: "The code is right but the organization is not settled: send organizationId with the same code (nothing was spent)",
      content: { [PROBLEM_CONTENT_TYPE]: { schema: OrganizationChoiceSchema } },
    },
    ...problemResponses(400, 401, 403, 415, 422, 429, 500, 503),
  },
});
