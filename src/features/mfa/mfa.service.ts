import type { Database } from "#src/db/client.ts";
import type { Config } from "#src/env.ts";
import { newSession, type TokenPair } from "#src/features/auth/auth.sessions.ts";
import {
  claimTotpStep,
  consumeRecoveryCode,
  disableTotp,
  enableTotp,
  findMfaUser,
  type MfaUser,
  storePendingSecret,
} from "#src/features/mfa/mfa.repo.ts";
import { generateRecoveryCodes, hashRecoveryCode } from "#src/features/mfa/mfa.recovery-codes.ts";
import { type AuditOrigin, auditInsert } from "#src/lib/audit.ts";
import { open, seal } from "#src/lib/envelope.ts";
import { Conflict, Unauthorized, ValidationFailed } from "#src/lib/errors.ts";
import { verifyMfaToken } from "#src/lib/tokens.ts";
import { generateTotpSecret, otpauthUri, verifyTotp } from "#src/lib/totp.ts";

export interface MfaDeps {
  db: Database;
  config: Config;
  origin: AuditOrigin;
  /** The clock codes are checked against; tests may move it. */
  now?: () => number;
}

export interface MfaMember {
  userId: string;
  organizationId: string;
}

const TOTP_CODE = /^\d{6}$/;

async function memberState(deps: MfaDeps, member: MfaMember): Promise<MfaUser> {
  const user = await findMfaUser(deps.db, member.userId, member.organizationId);
  if (!user) throw Unauthorized("The account no longer exists.");
  return user;
}

/** The TOTP step `code` matches, if it is later than the last accepted one; null otherwise. */
async function matchingStep(deps: MfaDeps, user: MfaUser, code: string): Promise<number | null> {
  if (!user.totpSecret) return null;
  const secret = await open(user.totpSecret, deps.config.ENCRYPTION_KEYS);
  const step = await verifyTotp(secret, code, deps.now?.() ?? Date.now());
  if (step === null || (user.totpLastStep !== null && step <= user.totpLastStep)) return null;
  return step;
}

const wrongCode = (path: string) => ValidationFailed([{ path, message: "is not a valid code" }]);

/** Starts (or restarts) enrolment: a new secret, stored sealed and pending until confirmed. */
export async function startEnrolment(deps: MfaDeps, member: MfaMember) {
  const user = await memberState(deps, member);
  if (user.totpEnabledAt) throw Conflict("Two-factor authentication is already enabled; disable it first.");
  const secret = generateTotpSecret();
  const sealed = await seal(secret, deps.config.ENCRYPTION_KEYS);
  await deps.db.batch([
    storePendingSecret(deps.db, member.userId, sealed),
    auditInsert(deps.db, deps.origin, {
      action: "mfa.enrolled",
      organizationId: member.organizationId,
      actorUserId: member.userId,
      targetType: "user",
      targetId: member.userId,
    }),
  ]);
  return { secret, otpauthUri: otpauthUri(user.email, secret) };
}

/** Proves the app holds the secret, turns TOTP on and hands out fresh recovery codes, once. */
export async function confirmEnrolment(deps: MfaDeps, member: MfaMember, code: string) {
  const user = await memberState(deps, member);
  if (user.totpEnabledAt) throw Conflict("Two-factor authentication is already enabled.");
  if (!user.totpSecret) throw Conflict("There is no pending enrolment: POST /me/mfa/totp first.");
  const step = await matchingStep(deps, user, code);
  if (step === null) throw wrongCode("body.code");
  const recoveryCodes = generateRecoveryCodes();
  const codeHashes = await Promise.all(recoveryCodes.map(hashRecoveryCode));
  const [enabled] = await deps.db.batch([
    ...enableTotp(deps.db, { userId: member.userId, sealedSecret: user.totpSecret, step, enabledAt: new Date(), codeHashes }),
    auditInsert(deps.db, deps.origin, {
      action: "mfa.enabled",
      organizationId: member.organizationId,
      actorUserId: member.userId,
      targetType: "user",
      targetId: member.userId,
    }),
  ]);
  if (enabled.length === 0) throw Conflict("The enrolment changed meanwhile; start again.");
  return { recoveryCodes };
}

/** Turns TOTP off; needs a current code or an unused recovery code. */
export async function disableMfa(deps: MfaDeps, member: MfaMember, code: string) {
  const user = await memberState(deps, member);
  if (!user.totpEnabledAt) throw Conflict("Two-factor authentication is not enabled.");
  const valid = TOTP_CODE.test(code)
    ? (await matchingStep(deps, user, code)) !== null
    : await consumeRecoveryCode(deps.db, member.userId, await hashRecoveryCode(code));
  if (!valid) throw wrongCode("body.code");
  await deps.db.batch([
    ...disableTotp(deps.db, member.userId),
    auditInsert(deps.db, deps.origin, {
      action: "mfa.disabled",
      organizationId: member.organizationId,
      actorUserId: member.userId,
      targetType: "user",
      targetId: member.userId,
    }),
  ]);
}

export type SecondFactor = { code: string } | { recoveryCode: string };

/**
 * The second login step: an MFA token from /auth/login plus a TOTP code (each step accepted once,
 * claimed atomically) or an unused recovery code. Any failure is the same 401.
 */
export async function completeLogin(deps: MfaDeps, mfaToken: string, factor: SecondFactor): Promise<TokenPair> {
  const claims = await verifyMfaToken(deps.config, mfaToken);
  const member = { userId: claims.sub, organizationId: claims.org };
  const user = await findMfaUser(deps.db, member.userId, member.organizationId);
  const refused = Unauthorized("The code is invalid or already used.");
  if (!user?.role || !user.totpEnabledAt || !user.totpSecret) throw refused;
  const audits = [];
  if ("code" in factor) {
    const step = await matchingStep(deps, user, factor.code);
    if (step === null || !(await claimTotpStep(deps.db, user.id, step))) throw refused;
  } else {
    if (!(await consumeRecoveryCode(deps.db, user.id, await hashRecoveryCode(factor.recoveryCode)))) throw refused;
    audits.push({ action: "mfa.recovery_code_used" as const });
  }
  audits.push({ action: "auth.login.succeeded" as const, metadata: { mfa: "code" in factor ? "totp" : "recovery_code" } });
  const { tokens, insert } = await newSession(deps.db, deps.config, { ...member, role: user.role });
  await deps.db.batch([
    insert,
    ...audits.map((entry) =>
      auditInsert(deps.db, deps.origin, {
        ...entry,
        organizationId: member.organizationId,
        actorUserId: member.userId,
        targetType: "user",
        targetId: member.userId,
      }),
    ),
  ]);
  return tokens;
}
