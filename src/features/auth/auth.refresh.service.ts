import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { AuthDeps } from "#src/features/auth/auth.deps.ts";
import type { Deps } from "#src/lib/deps.ts";
import { refreshExpiresAt, revokeAllSessions, type TokenPair, tokenPair } from "#src/features/auth/auth.sessions.ts";
import { z } from "zod";
import { firstRow } from "#src/db/rows.ts";
import { ROLES, refreshTokens } from "#src/db/schema/index.ts";
import { auditFromCte, auditInsert } from "#src/lib/audit.ts";
import { randomToken, sha256Hex } from "#src/lib/encoding.ts";
import { NotFound, Unauthorized } from "#src/lib/errors.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { signAccessToken } from "#src/lib/tokens.ts";

const RotationRow = z.object({
  outcome: z.enum(["rotated", "reuse"]),
  family_id: z.string(),
  user_id: z.string(),
  organization_id: z.string(),
  role: z.enum(ROLES).nullable(),
});

const SwitchRow = z.object({ role: z.enum(ROLES) });

const refreshExpiry = (deps: AuthDeps) => refreshExpiresAt(deps.config, deps.clock.now().getTime()).toISOString();

/**
 * Rotates a refresh token in one statement: marks it used and inserts its successor in the same
 * family (the role read from the current membership, the family's start copied). A family started
 * before the user's last sign-out-everywhere (users.sessions_revoked_at) is refused, so a rotation
 * racing logout-all or a password change mints nothing that outlives it. When the presented token
 * is alive but this statement did not mark it used (used earlier, or by a concurrent rotation that
 * won the row lock: the snapshot shows it unused, the update finds it used), the whole family is
 * revoked and the reuse recorded. A family with any revoked token is dead: the successor such a
 * concurrent winner inserted is invisible to the revoking statement's snapshot, so it survives the
 * update but is refused here.
 */
export async function rotateRefreshToken(deps: AuthDeps, presented: string): Promise<TokenPair> {
  const next = randomToken();
  const [presentedHash, nextHash] = await Promise.all([sha256Hex(presented), sha256Hex(next)]);
  const result = await deps.db.execute(sql`
    with presented as (
      select rt.id, rt.family_id, rt.user_id, rt.organization_id, rt.used_at
      from refresh_tokens rt join users u on u.id = rt.user_id
      where rt.token_hash = ${presentedHash} and rt.revoked_at is null and rt.expires_at > now()
        and (u.sessions_revoked_at is null or rt.family_started_at > u.sessions_revoked_at)
        and not exists (select 1 from refresh_tokens f where f.family_id = rt.family_id and f.revoked_at is not null)
    ), used as (
      update refresh_tokens set used_at = now()
      where id in (select id from presented where used_at is null) and used_at is null and revoked_at is null
      returning family_id, family_started_at, user_id, organization_id
    ), current_member as (
      select used.family_id, used.family_started_at, used.user_id, used.organization_id, m.role
      from used join memberships m on m.organization_id = used.organization_id and m.user_id = used.user_id
    ), inserted as (
      insert into refresh_tokens (id, family_id, family_started_at, user_id, organization_id, token_hash, expires_at)
      select ${uuidv7()}::uuid, family_id, family_started_at, user_id, organization_id, ${nextHash}, ${refreshExpiry(deps)}::timestamptz
      from current_member
      returning id
    ), reused as (
      select family_id, user_id, organization_id from presented where not exists (select 1 from used)
    ), revoked as (
      update refresh_tokens set revoked_at = now()
      where family_id in (select family_id from reused) and revoked_at is null
      returning id
    ), audited as (
      ${auditFromCte("reused", deps.origin, { action: "auth.refresh_reuse", organizationId: sql`organization_id`, actorUserId: sql`user_id`, targetType: "refresh_token_family", targetId: sql`family_id` })}
      returning id
    )
    select 'rotated' as outcome, family_id, user_id, organization_id, role,
      (select count(*) from inserted) as inserted
    from current_member
    union all
    select 'reuse', family_id, user_id, organization_id, null, (select count(*) from revoked) + (select count(*) from audited)
    from reused`);
  const row = firstRow(RotationRow, result);
  if (!row || row.outcome !== "rotated" || !row.role) {
    throw Unauthorized("The refresh token is invalid, expired or revoked.");
  }
  const accessToken = await signAccessToken(deps.config, {
    userId: row.user_id,
    organizationId: row.organization_id,
    role: row.role,
    sessionId: row.family_id,
  });
  return tokenPair(deps.config, { accessToken, refreshToken: next }, { organizationId: row.organization_id, role: row.role });
}

export interface Caller {
  userId: string;
  organizationId: string;
  /** The caller's session (the access token's `sid`); absent on tokens minted before sessions had ids. */
  sessionId?: string | undefined;
}

/**
 * Ends the session the caller signed this request with (its refresh family and, at once, its
 * access tokens), and the session of the refresh token presented when it is one of the caller's
 * (someone else's token changes nothing). The user's other sessions go on working.
 */
export async function logout(deps: AuthDeps, caller: Caller, refreshToken: string): Promise<void> {
  const { db } = deps;
  const hash = await sha256Hex(refreshToken);
  // The session behind the access token (its `sid` is the refresh family) ends whatever the
  // body says, and so does the family of the refresh token presented, when it is the caller's.
  const presented = eq(refreshTokens.tokenHash, hash);
  const family = db
    .select({ familyId: refreshTokens.familyId })
    .from(refreshTokens)
    .where(and(eq(refreshTokens.userId, caller.userId), caller.sessionId ? or(presented, eq(refreshTokens.familyId, caller.sessionId)) : presented));
  const [ended] = await db.batch([
    db
      .update(refreshTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(inArray(refreshTokens.familyId, family), isNull(refreshTokens.revokedAt)))
      .returning({ familyId: refreshTokens.familyId }),
    auditInsert(db, deps.origin, {
      action: "auth.logout",
      organizationId: caller.organizationId,
      actorUserId: caller.userId,
      targetType: "user",
      targetId: caller.userId,
    }),
  ]);
  const sessions = new Set([...ended.map((row) => row.familyId), ...(caller.sessionId ? [caller.sessionId] : [])]);
  await Promise.all([...sessions].map((sessionId) => deps.rateLimiter.revokeSession(caller.userId, sessionId)));
}

/**
 * Revokes every refresh token (and every family started until now, see revokeAllSessions) and,
 * through the rate limiter's watermark, every access token; the user's live-updates sockets close (4001).
 */
export async function logoutAll(deps: AuthDeps & Pick<Deps, "realtime" | "logger">, caller: Caller): Promise<void> {
  const { db } = deps;
  await db.batch([
    revokeAllSessions(db, caller.userId),
    auditInsert(db, deps.origin, {
      action: "auth.logout_all",
      organizationId: caller.organizationId,
      actorUserId: caller.userId,
      targetType: "user",
      targetId: caller.userId,
    }),
  ]);
  const closing = deps.realtime.disconnect(caller.userId).catch(() => deps.logger.log("warn", "realtime.disconnect_failed"));
  await Promise.all([deps.rateLimiter.revokeSessions(caller.userId), closing]);
}

/**
 * A new session in another organization of the caller's, in one statement, audited in the target
 * organization (naming the one left); 404 when not a member.
 */
export async function switchOrganization(deps: AuthDeps, caller: Caller, organizationId: string): Promise<TokenPair> {
  const next = randomToken();
  const sessionId = uuidv7();
  const result = await deps.db.execute(sql`
    with member as (
      select user_id, organization_id, role from memberships
      where user_id = ${caller.userId} and organization_id = ${organizationId}
    ), inserted as (
      insert into refresh_tokens (id, family_id, user_id, organization_id, token_hash, expires_at)
      select ${uuidv7()}::uuid, ${sessionId}::uuid, user_id, organization_id, ${await sha256Hex(next)}, ${refreshExpiry(deps)}::timestamptz
      from member
      returning id
    ), audited as (
      ${auditFromCte("member", deps.origin, { action: "auth.switch", organizationId: sql`organization_id`, actorUserId: sql`user_id`, targetType: "user", targetId: sql`user_id`, metadata: { fromOrganizationId: caller.organizationId } })}
      returning id
    )
    select role, (select count(*) from inserted) as inserted, (select count(*) from audited) as audited from member`);
  const role = firstRow(SwitchRow, result)?.role;
  if (!role) throw NotFound("No such organization.");
  const accessToken = await signAccessToken(deps.config, { userId: caller.userId, organizationId, role, sessionId });
  return tokenPair(deps.config, { accessToken, refreshToken: next }, { organizationId, role });
}
