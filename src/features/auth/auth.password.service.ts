import { and, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { type AuthDeps, RESET_TOKEN_TTL_MS } from "#src/features/auth/auth.deps.ts";
import { clearAfterReset, reservePasswordAttempt } from "#src/features/auth/auth.lockout.ts";
import { assertPasswordPolicy } from "#src/features/auth/auth.service.ts";
import { refreshTokenInsert, revokeAllSessions, type TokenPair, tokenPair } from "#src/features/auth/auth.sessions.ts";
import { firstRow } from "#src/db/rows.ts";
import { oneTimeTokens, type Role, users } from "#src/db/schema/index.ts";
import { auditFromCte, auditInsert } from "#src/lib/audit.ts";
import { randomToken, sha256Hex } from "#src/lib/encoding.ts";
import { BadRequest, NotFound, Unauthorized } from "#src/lib/errors.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { hashPassword, verifyPassword } from "#src/lib/password-hash.ts";
import { signAccessToken } from "#src/lib/tokens.ts";
import type { Caller } from "#src/features/auth/auth.refresh.service.ts";
import { mailLink } from "#src/platform/mailer.ts";
import { withinMailQuota } from "#src/features/auth/auth.mail-quota.ts";

const ResetRequestedRow = z.object({ user_id: z.string() });
const ResetRow = z.object({ id: z.string(), email: z.string() });

export const FORGOT_MESSAGE = "If an account uses this email, a reset link is on its way.";

/**
 * Creates a reset token only when the email is known, in one statement, doing the same work
 * either way; the mail goes out after the response so timing tells nothing, within the same
 * per-address quota as sign-up mails (`withinMailQuota`).
 */
export async function forgotPassword(deps: AuthDeps, email: string): Promise<void> {
  const token = randomToken();
  const hash = await sha256Hex(token);
  const address = email.toLowerCase();
  const expiresAt = new Date(deps.clock.now().getTime() + RESET_TOKEN_TTL_MS).toISOString();
  const result = await deps.db.execute(sql`
    with target as (select id from users where email = ${address}),
    created as (
      insert into one_time_tokens (id, user_id, purpose, token_hash, expires_at)
      select ${uuidv7()}::uuid, id, 'password_reset', ${hash}, ${expiresAt}::timestamptz from target
      returning user_id
    ), audited as (
      ${auditFromCte("target", deps.origin, { action: "auth.password.reset_requested", actorUserId: sql`id`, targetType: "user", targetId: sql`id` })}
      returning id
    )
    select user_id, (select count(*) from audited) as audited from created`);
  if (!firstRow(ResetRequestedRow, result)) return;
  const send = async () => {
    if (!(await withinMailQuota(deps, "reset", address))) return false;
    return deps.mailer.send({
      to: address,
      subject: "Reset your Tend password",
      text: `Reset your password (the link works once, for 30 minutes): ${mailLink(deps.config, "/reset-password", token)}`,
      template: "password-reset",
      api: { path: "/api/v1/auth/password/reset", body: { token, password: "<a new password>" } },
    });
  };
  deps.defer(send().catch(() => false));
}

/**
 * Spends a reset token (once) and every other outstanding reset link of the user, sets the
 * password and signs the user out everywhere. It also forgets the account's login failures and
 * lets this address past the per-account backoff for a while, so a fresh link always lets the
 * owner in while someone keeps guessing from elsewhere.
 */
export async function resetPassword(deps: AuthDeps, token: string, password: string): Promise<void> {
  await assertPasswordPolicy(password, "password", deps);
  const [hash, passwordHash] = await Promise.all([sha256Hex(token), hashPassword(password, deps.config.PASSWORD_PEPPERS)]);
  const result = await deps.db.execute(sql`
    with spent as (
      update one_time_tokens set used_at = now()
      where token_hash = ${hash} and purpose = 'password_reset' and used_at is null and expires_at > now()
      returning id, user_id
    ), changed as (
      update users set password_hash = ${passwordHash}, updated_at = now(), sessions_revoked_at = now()
      where id in (select user_id from spent)
      returning id, email
    ), others as (
      update one_time_tokens set used_at = now()
      where user_id in (select id from changed) and purpose = 'password_reset' and used_at is null
        and id not in (select id from spent)
      returning id
    ), revoked as (
      update refresh_tokens set revoked_at = now()
      where user_id in (select id from changed) and revoked_at is null
      returning id
    ), audited as (
      ${auditFromCte("changed", deps.origin, { action: "auth.password.reset", actorUserId: sql`id`, targetType: "user", targetId: sql`id` })}
      returning id
    )
    select id, email, (select count(*) from others) as others, (select count(*) from revoked) as revoked,
      (select count(*) from audited) as audited
    from changed`);
  const changed = firstRow(ResetRow, result);
  if (!changed) throw BadRequest("The reset link is invalid, expired or already used.");
  await Promise.all([deps.rateLimiter.revokeSessions(changed.id), clearAfterReset(deps, changed.email)]);
}

/**
 * Changes the password after checking the current one, which shares the login lockout: 5 wrong
 * guesses lock the session out of trying again, and they count toward the account's backoff (see
 * LOGIN_LOCKOUT). The database changes first (new hash, every refresh token and outstanding reset
 * link spent), then every access token but the new session's is revoked, and only then is the
 * caller's new pair made: the caller goes on in a fresh session (its old access and refresh
 * tokens end with every other session's).
 */
export async function changePassword(
  deps: AuthDeps,
  caller: Caller & { role: Role },
  input: { currentPassword: string; newPassword: string },
): Promise<TokenPair> {
  const { db, config, rateLimiter } = deps;
  const [user] = await db.select({ email: users.email, name: users.name, passwordHash: users.passwordHash }).from(users).where(eq(users.id, caller.userId));
  if (!user) throw NotFound("No such user.");
  await assertPasswordPolicy(input.newPassword, "newPassword", deps, user);
  // Counted per session, not per address: a signed-in guesser locks itself out, never the owner's sign-in.
  const { settle } = await reservePasswordAttempt(deps, user.email, { source: `session:${caller.sessionId ?? caller.userId}` });
  const check = await verifyPassword(input.currentPassword, user.passwordHash, config.PASSWORD_PEPPERS);
  const locked = await settle(check.valid);
  const audit = (action: "auth.password.changed" | "auth.password.change_failed" | "auth.lockout") =>
    auditInsert(db, deps.origin, { action, organizationId: caller.organizationId, actorUserId: caller.userId, targetType: "user", targetId: caller.userId });
  if (!check.valid) {
    await (locked ? db.batch([audit("auth.password.change_failed"), audit("auth.lockout")]) : audit("auth.password.change_failed"));
    throw Unauthorized("The current password is wrong.");
  }

  const passwordHash = await hashPassword(input.newPassword, config.PASSWORD_PEPPERS);
  await db.batch([
    revokeAllSessions(db, caller.userId, passwordHash),
    spendResetTokens(deps, caller.userId),
    audit("auth.password.changed"),
  ]);
  // The new session is spared by the watermark by id, and its refresh family starts in a later
  // statement than revokeAllSessions' stamp, so only it outlives the change.
  const session = { userId: caller.userId, organizationId: caller.organizationId, role: caller.role, familyId: uuidv7() };
  await rateLimiter.revokeSessions(caller.userId, undefined, { exceptSessionId: session.familyId });
  const refreshToken = randomToken();
  await (await refreshTokenInsert(db, config, refreshToken, session)).insert;
  const accessToken = await signAccessToken(config, { ...session, sessionId: session.familyId });
  return tokenPair(config, { accessToken, refreshToken }, session);
}

/** Spends every outstanding password-reset link of a user. */
function spendResetTokens(deps: AuthDeps, userId: string) {
  return deps.db
    .update(oneTimeTokens)
    .set({ usedAt: sql`now()` })
    .where(and(eq(oneTimeTokens.userId, userId), eq(oneTimeTokens.purpose, "password_reset"), isNull(oneTimeTokens.usedAt)));
}
