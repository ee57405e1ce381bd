import { z } from "@hono/zod-openapi";
import { ORGANIZATION_CHOICE_EXAMPLE, OrganizationChoiceSchema } from "#src/features/auth/auth.routes.ts";
import { TokenPairSchema } from "#src/features/auth/auth.sessions.ts";
import { RECOVERY_CODE_COUNT } from "#src/features/mfa/mfa.recovery-codes.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { problemResponseSpec } from "#src/lib/problem.ts";
import { defineRoute } from "#src/lib/route.ts";
import { text, uuid } from "#src/lib/text.ts";

const TotpCode = text().regex(/^\d{6}$/, "must be 6 digits").openapi({ example: "123456" });
const RecoveryCode = text().min(8).max(32).openapi({ example: "7k2m-q9xd" });

export const TotpEnrolmentSchema = z
  .object({
    secret: text(64).openapi({ description: "Base32 shared secret, for manual entry" }),
    otpauthUri: text(512).openapi({ description: "otpauth:// URI to show as a QR code" }),
  })
  .openapi("TotpEnrolment");

export const RecoveryCodesSchema = z
  .object({
    recoveryCodes: z
      .array(text(9).openapi({ example: "7k2m-q9xd" }))
      .length(RECOVERY_CODE_COUNT)
      .openapi({ description: "Single-use codes, shown this once", minItems: RECOVERY_CODE_COUNT, maxItems: RECOVERY_CODE_COUNT }),
  })
  .openapi("RecoveryCodes");

export const MfaVerifySchema = z
  .strictObject({
    mfaToken: text(2048).min(1).openapi({ description: "From POST /auth/login when it answers mfaRequired" }),
    code: TotpCode.optional(),
    recoveryCode: RecoveryCode.optional(),
    organizationId: uuid()
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

const tags: ["MFA"] = ["MFA"];

export const enrol = defineRoute({
  method: "post",
  path: "/me/mfa/totp",
  operationId: "startTotpEnrolment",
  tags,
  summary: "Start TOTP enrolment: a new secret, pending until confirmed",
  description: "409 when TOTP is already on. Starting again replaces a pending secret.",
  permission: "profile:self",
  membersOnly: true,
  problems: [409],
  responses: { 200: jsonResponse("The secret to load into an authenticator app", TotpEnrolmentSchema) },
});

export const confirm = defineRoute({
  method: "post",
  path: "/me/mfa/totp/confirm",
  operationId: "confirmTotpEnrolment",
  tags,
  summary: "Confirm enrolment with a current code; answers the recovery codes once",
  description: "Turns TOTP on; the recovery codes are in this answer only.",
  permission: "profile:self",
  membersOnly: true,
  problems: [409],
  request: { body: jsonBody(z.strictObject({ code: TotpCode }).openapi("TotpConfirm")) },
  responses: { 200: jsonResponse("TOTP is enabled", RecoveryCodesSchema) },
});

export const disable = defineRoute({
  method: "delete",
  path: "/me/mfa/totp",
  operationId: "disableTotp",
  tags,
  summary: "Turn TOTP off, with a current code or a recovery code",
  description: "The recovery codes are deleted with the secret.",
  permission: "profile:self",
  membersOnly: true,
  problems: [409],
  request: {
    body: jsonBody(
      z
        .strictObject({ code: z.union([TotpCode, RecoveryCode]).openapi({ description: "A TOTP or recovery code" }) })
        .openapi("TotpDisable"),
    ),
  },
  responses: { 204: { description: "TOTP is off and the recovery codes are gone" } },
});

export const verify = defineRoute({
  method: "post",
  path: "/auth/mfa/verify",
  operationId: "verifyMfa",
  tags: ["Auth"],
  summary: "Second login step: the MFA token (single use) with a TOTP code or a recovery code; 5 wrong codes lock it for 15 minutes",
  description:
    "Send exactly one of code and recoveryCode. A member of several organizations also sends organizationId (see the 409); 403 when it differs from the one named at sign-in.",
  rateLimit: "auth",
  problems: [403],
  request: { body: jsonBody(MfaVerifySchema) },
  responses: {
    200: jsonResponse("Signed in", MfaLoginSchema),
    409: problemResponseSpec(409, {
      description: "The code is right but the organization is not settled: send organizationId with the same code (nothing was spent)",
      schema: OrganizationChoiceSchema,
      example: ORGANIZATION_CHOICE_EXAMPLE,
    }),
  },
});
