import { sql } from "drizzle-orm";
import type { Deps } from "#src/lib/deps.ts";
import { chooseOrganization } from "#src/features/auth/auth.service.ts";
import { newSession, revokeOtherSessions, type TokenPair } from "#src/features/auth/auth.sessions.ts";
import {
  claimTotpStep,
  consumeRecoveryCode,
  disableTotp,
  enableTotp,
  findMfaLoginUser,
  findMfaUser,
  hasRecoveryCode,
  type MfaUser,
  storePendingSecret,
} from "#src/features/mfa/mfa.repo.ts";
import { generateRecoveryCodes, hashRecoveryCode, recoveryCodeLookupHashes } from "#src/features/mfa/mfa.recovery-codes.ts";
import { type AuditEntry, auditInsert } from "#src/lib/audit.ts";
import { open, seal } from "#src/lib/envelope.ts";
import { Conflict, Forbidden, TooManyRequests, Unauthorized, ValidationFailed } from "#src/lib/errors.ts";
import { verifyMfaToken } from "#src/lib/tokens.ts";
import { generateTotpSecret, otpauthUri, verifyTotp } from "#src/lib/totp.ts";
import type { LoginLockoutPolicy } from "#src/platform/ports.ts";

/** The clock is what codes are checked against: tests may move it. */
export type MfaDeps = Pick<Deps, "db" | "config" | "origin" | "rateLimiter" | "clock">;

export interface MfaMember {
  userId: string;
  organizationId: string;
  /** The caller's session (the access token's `sid`): the one enabling MFA keeps. */
  sessionId?: string | undefined;
}

const TOTP_CODE = /^\d{6}$/;
/** Second-factor guesses per user: 5 failures lock the MFA step for 15 minutes. */
export const MFA_MAX_FAILURES = 5;
export const MFA_LOCK_SECONDS = 15 * 60;
/** Only the password is known to whoever reaches this step, so one counter per user will do. */
const MFA_LOCKOUT: LoginLockoutPolicy = { source: { maxFailures: MFA_MAX_FAILURES, windowSeconds: MFA_LOCK_SECONDS, lockSeconds: MFA_LOCK_SECONDS } };
const MFA_SOURCE = "second-factor";
/** An MFA token mints one session: its jti is spent for longer than the token lives. */
const MFA_TOKEN_SPENT_SECONDS = 600;

async function memberState(deps: MfaDeps, member: MfaMember): Promise<MfaUser> {
  const user = await findMfaUser(deps.db, member.userId, member.organizationId);
  if (!user) throw Unauthorized("The account no longer exists.");
  return user;
}

/** The TOTP step `code` matches, if it is later than the last accepted one; null otherwise. */
type TotpState = Pick<MfaUser, "id" | "totpSecret" | "totpLastStep">;

async function matchingStep(deps: MfaDeps, user: TotpState, code: string): Promise<number | null> {
  if (!user.totpSecret) return null;
  const secret = await open(user.totpSecret, deps.config.ENCRYPTION_KEYS);
  const step = await verifyTotp(secret, code, deps.clock.now().getTime());
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

/**
 * Proves the app holds the secret, turns TOTP on and hands out fresh recovery codes, once. Every
 * other session of the user ends in the same batch (refresh tokens) and at once after it (access
 * tokens): they were signed in with a password alone. The session that enabled MFA goes on.
 */
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
  const enabledAt = deps.clock.now();
  const enabledNow = sql`totp_enabled_at = ${enabledAt.toISOString()}::timestamptz`;
  const [enabled] = await deps.db.batch([
    ...enableTotp(deps.db, { userId: member.userId, sealedSecret: user.totpSecret, step, enabledAt, codeHashes }),
    revokeOtherSessions(deps.db, member.userId, member.sessionId, enabledNow),
    auditInsert(deps.db, deps.origin, {
      action: "mfa.enabled",
      organizationId: member.organizationId,
      actorUserId: member.userId,
      targetType: "user",
      targetId: member.userId,
    }),
  ]);
  if (enabled.length === 0) throw Conflict("The enrolment changed meanwhile; start again.");
  await deps.rateLimiter.revokeSessions(member.userId, undefined, { exceptSessionId: member.sessionId });
  return { recoveryCodes };
}

export type SecondFactor = { code: string } | { recoveryCode: string };

const factorName = (factor: SecondFactor) => ("code" in factor ? "totp" : "recovery_code");

/** A second factor found good but not yet spent: the TOTP step it matched, or a recovery code's hashes. */
type CheckedFactor = { step: number } | { recoveryHashes: string[] };

/**
 * Checks a second factor without spending it: a TOTP code whose step is later than the last
 * accepted one, or an unused recovery code. Null when it is not good.
 */
async function checkFactor(deps: MfaDeps, user: TotpState, factor: SecondFactor): Promise<CheckedFactor | null> {
  if ("code" in factor) {
    const step = await matchingStep(deps, user, factor.code);
    return step === null ? null : { step };
  }
  const recoveryHashes = await recoveryCodeLookupHashes(factor.recoveryCode, user.id, deps.config.PASSWORD_PEPPERS);
  return (await hasRecoveryCode(deps.db, user.id, recoveryHashes)) ? { recoveryHashes } : null;
}

/** Spends a checked factor atomically, so it is never good twice: true when this call spent it. */
function spendChecked(deps: MfaDeps, userId: string, checked: CheckedFactor): Promise<boolean> {
  return "step" in checked ? claimTotpStep(deps.db, userId, checked.step) : consumeRecoveryCode(deps.db, userId, checked.recoveryHashes);
}

async function spendFactor(deps: MfaDeps, user: TotpState, factor: SecondFactor): Promise<boolean> {
  const checked = await checkFactor(deps, user, factor);
  return checked !== null && (await spendChecked(deps, user.id, checked));
}

const userAudit = (deps: MfaDeps, member: { userId: string; organizationId: string | null }, entry: Pick<AuditEntry, "action" | "metadata">) =>
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

export type MfaLoginOutcome =
  | { kind: "tokens"; tokens: TokenPair }
  | { kind: "choose"; organizations: { id: string; name: string }[] };

/**
 * The second login step: an MFA token from /auth/login plus a TOTP code or a recovery code. Each
 * user gets 5 guesses per 15 minutes (reserved before the check, like passwords), and a token
 * mints one session at most. Any failure is the same 401; failures are audited, never the code.
 *
 * The factor is checked first without being spent; only then is the organization settled (the
 * token's, else `organizationId`, else the only membership). When it cannot be, the answer lists
 * the organizations and spends nothing, so the same code and token work again with a choice.
 */
export async function completeLogin(
  deps: MfaDeps,
  mfaToken: string,
  factor: SecondFactor,
  organizationId?: string,
): Promise<MfaLoginOutcome> {
  const claims = await verifyMfaToken(deps.config, mfaToken);
  const userId = claims.sub;
  const account = `mfa:${userId}`;
  const attempt = await deps.rateLimiter.reserveLoginAttempt(account, MFA_SOURCE, MFA_LOCKOUT);
  if (!attempt.allowed) throw TooManyRequests(Math.max(1, attempt.retryAfterSeconds));
  const settle = (succeeded: boolean) => deps.rateLimiter.settleLoginAttempt(account, MFA_SOURCE, succeeded, MFA_LOCKOUT);

  const found = await findMfaLoginUser(deps.db, userId);
  const user = found?.totpEnabledAt ? found : undefined;
  const checked = user ? await checkFactor(deps, user, factor) : null;
  const fail = async (reason: string, locked: boolean, member = { userId, organizationId: claims.org ?? null }) => {
    const failed = userAudit(deps, member, { action: "auth.mfa.failed", metadata: { factor: factorName(factor), reason } });
    const lockout = userAudit(deps, member, { action: "auth.lockout", metadata: { factor: "mfa" } });
    await (locked ? deps.db.batch([failed, lockout]) : failed);
    return Unauthorized("The code is invalid or already used.");
  };
  if (!user || !checked) throw await fail(user ? "wrong_code" : "mfa_unavailable", await settle(false));

  // The factor is right, so choosing (or naming a wrong) organization is not a failed guess.
  let choice: ReturnType<typeof chooseOrganization<(typeof user.organizations)[number]>>;
  try {
    if (claims.org && organizationId && organizationId !== claims.org) {
      throw Forbidden("The organization differs from the one named at sign-in.");
    }
    choice = chooseOrganization(user.organizations, claims.org ?? organizationId);
  } catch (error) {
    await settle(true);
    throw error;
  }
  if ("choose" in choice) {
    await settle(true);
    return { kind: "choose", organizations: choice.choose };
  }

  const member = { userId, organizationId: choice.id };
  const spent = await spendChecked(deps, userId, checked);
  const locked = await settle(spent);
  if (!spent) throw await fail("wrong_code", locked, member);

  // Spent only now, so wrong guesses and organization choices do not burn the token; a replayed
  // token mints nothing.
  if (!(await deps.rateLimiter.spendOnce(`user:${userId}`, `mfa-token:${claims.jti}`, MFA_TOKEN_SPENT_SECONDS))) {
    throw await fail("token_reused", false, member);
  }

  const audits: Pick<AuditEntry, "action" | "metadata">[] = "code" in factor ? [] : [{ action: "mfa.recovery_code_used" }];
  audits.push({ action: "auth.login.succeeded", metadata: { mfa: factorName(factor) } });
  const { tokens, insert } = await newSession(deps.db, deps.config, { ...member, role: choice.role });
  await deps.db.batch([insert, ...audits.map((entry) => userAudit(deps, member, entry))]);
  return { kind: "tokens", tokens };
}
