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
import { generateRecoveryCodes, hashRecoveryCode, recoveryCodeLookupHashes } from "#src/features/mfa/mfa.recovery-codes.ts";
import { type AuditEntry, type AuditOrigin, auditInsert } from "#src/lib/audit.ts";
import { open, seal } from "#src/lib/envelope.ts";
import { Conflict, TooManyRequests, Unauthorized, ValidationFailed } from "#src/lib/errors.ts";
import { verifyMfaToken } from "#src/lib/tokens.ts";
import { generateTotpSecret, otpauthUri, verifyTotp } from "#src/lib/totp.ts";
import type { RateLimiter, RateLimitPolicy } from "#src/platform/ports.ts";

export interface MfaDeps {
  db: Database;
  config: Config;
  origin: AuditOrigin;
  rateLimiter: RateLimiter;
  /** The clock codes are checked against; tests may move it. */
  now?: () => number;
}

export interface MfaMember {
  userId: string;
  organizationId: string;
}

const TOTP_CODE = /^\d{6}$/;
/** Second-factor guesses per user: 5 failures lock the MFA step for 15 minutes. */
export const MFA_MAX_FAILURES = 5;
export const MFA_LOCK_SECONDS = 15 * 60;
/** An MFA token mints one session: its jti is spent in a bucket that outlives the token. */
const MFA_TOKEN_POLICY: RateLimitPolicy = { name: "mfa-token", limit: 1, windowSeconds: 600 };

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
  const codeHashes = await Promise.all(
    recoveryCodes.map((recovery) => hashRecoveryCode(recovery, member.userId, deps.config.PASSWORD_PEPPERS)),
  );
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

export type SecondFactor = { code: string } | { recoveryCode: string };

const factorName = (factor: SecondFactor) => ("code" in factor ? "totp" : "recovery_code");

/**
 * Spends a second factor: a TOTP code whose step is later than the last accepted one, claimed
 * atomically so it is never good twice, or an unused recovery code. True when this call spent it.
 */
async function spendFactor(deps: MfaDeps, user: MfaUser, factor: SecondFactor): Promise<boolean> {
  if ("code" in factor) {
    const step = await matchingStep(deps, user, factor.code);
    return step !== null && (await claimTotpStep(deps.db, user.id, step));
  }
  const hashes = await recoveryCodeLookupHashes(factor.recoveryCode, user.id, deps.config.PASSWORD_PEPPERS);
  return consumeRecoveryCode(deps.db, user.id, hashes);
}

const userAudit = (deps: MfaDeps, member: MfaMember, entry: Pick<AuditEntry, "action" | "metadata">) =>
  auditInsert(deps.db, deps.origin, {
    ...entry,
    organizationId: member.organizationId,
    actorUserId: member.userId,
    targetType: "user",
    targetId: member.userId,
  });

/** Turns TOTP off; needs a current code (its step spent, as at login) or an unused recovery code. */
export async function disableMfa(deps: MfaDeps, member: MfaMember, code: string) {
  const user = await memberState(deps, member);
  if (!user.totpEnabledAt) throw Conflict("Two-factor authentication is not enabled.");
  if (!(await spendFactor(deps, user, TOTP_CODE.test(code) ? { code } : { recoveryCode: code }))) throw wrongCode("body.code");
  await deps.db.batch([...disableTotp(deps.db, member.userId), userAudit(deps, member, { action: "mfa.disabled" })]);
}

/**
 * The second login step: an MFA token from /auth/login plus a TOTP code or a recovery code. Each
 * user gets 5 guesses per 15 minutes (reserved before the check, like passwords), and a token
 * mints one session at most. Any failure is the same 401; failures are audited, never the code.
 */
export async function completeLogin(deps: MfaDeps, mfaToken: string, factor: SecondFactor): Promise<TokenPair> {
  const claims = await verifyMfaToken(deps.config, mfaToken);
  const member = { userId: claims.sub, organizationId: claims.org };
  const account = `mfa:${member.userId}`;
  const attempt = await deps.rateLimiter.reserveLoginAttempt(account, MFA_MAX_FAILURES, MFA_LOCK_SECONDS);
  if (!attempt.allowed) throw TooManyRequests(Math.max(1, attempt.retryAfterSeconds));

  const user = await findMfaUser(deps.db, member.userId, member.organizationId);
  const role = user?.totpEnabledAt ? user.role : null;
  const spent = user && role ? await spendFactor(deps, user, factor) : false;
  const locked = await deps.rateLimiter.settleLoginAttempt(account, spent, MFA_MAX_FAILURES, MFA_LOCK_SECONDS);
  const refused = Unauthorized("The code is invalid or already used.");
  const fail = async (reason: string) => {
    const failed = userAudit(deps, member, { action: "auth.mfa.failed", metadata: { factor: factorName(factor), reason } });
    const lockout = userAudit(deps, member, { action: "auth.lockout", metadata: { factor: "mfa" } });
    await (locked ? deps.db.batch([failed, lockout]) : failed);
    return refused;
  };
  if (!spent || !role) throw await fail(role ? "wrong_code" : "mfa_unavailable");

  // Spent only now, so wrong guesses do not burn the token; a replayed token mints nothing.
  const admission = await deps.rateLimiter.admit(`mfa-token:${claims.jti}`, MFA_TOKEN_POLICY);
  if (admission.revoked || !admission.decision.allowed) throw await fail("token_reused");

  const audits: Pick<AuditEntry, "action" | "metadata">[] = "code" in factor ? [] : [{ action: "mfa.recovery_code_used" }];
  audits.push({ action: "auth.login.succeeded", metadata: { mfa: factorName(factor) } });
  const { tokens, insert } = await newSession(deps.db, deps.config, { ...member, role });
  await deps.db.batch([insert, ...audits.map((entry) => userAudit(deps, member, entry))]);
  return tokens;
}
