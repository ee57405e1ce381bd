import { text } from "#src/lib/text.ts";
import { z } from "@hono/zod-openapi";
import { type SQL, sql } from "drizzle-orm";
import type { Database } from "#src/db/client.ts";
import { ROLES, type Role, refreshTokens } from "#src/db/schema/identity.ts";
import type { Config } from "#src/env.ts";
import { randomToken, sha256Hex } from "#src/lib/encoding.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { signAccessToken } from "#src/lib/tokens.ts";

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  organizationId: string;
  role: Role;
}

export const TokenPairSchema = z
  .object({
    accessToken: text().openapi({ description: "ES256 JWT for the Authorization header" }),
    refreshToken: text().openapi({ description: "Opaque, single use: rotated by POST /auth/refresh" }),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().min(1).max(86_400).openapi({ format: "int32", description: "Seconds until the access token expires" }),
    organizationId: text().uuid(),
    role: z.enum(ROLES),
  })
  .openapi("TokenPair");

export interface SessionInput {
  userId: string;
  organizationId: string;
  role: Role;
  /** Continues a refresh-token family (rotation); a new family otherwise. */
  familyId?: string;
}

/** When a refresh token issued at `nowMs` expires. */
export function refreshExpiresAt(config: Config, nowMs = Date.now()): Date {
  return new Date(nowMs + config.REFRESH_TOKEN_TTL_DAYS * 86_400_000);
}

/** The token pair the API answers, for a session in one organization. */
export function tokenPair(
  config: Config,
  tokens: { accessToken: string; refreshToken: string },
  session: { organizationId: string; role: Role },
): TokenPair {
  return {
    ...tokens,
    tokenType: "Bearer",
    expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
    organizationId: session.organizationId,
    role: session.role,
  };
}

/**
 * The refresh-token insert for a new session, built from an already-made opaque token. Returned
 * inside an object: a query builder is thenable, and resolving a promise with it would run it.
 */
export async function refreshTokenInsert(db: Database, config: Config, refreshToken: string, input: SessionInput & { familyId: string }) {
  const tokenHash = await sha256Hex(refreshToken);
  const insert = db.insert(refreshTokens).values({
    id: uuidv7(),
    familyId: input.familyId,
    userId: input.userId,
    organizationId: input.organizationId,
    tokenHash,
    expiresAt: refreshExpiresAt(config),
  });
  return { insert };
}

export type RefreshTokenInsert = Awaited<ReturnType<typeof refreshTokenInsert>>["insert"];

/**
 * Builds a new session: signs an access token and returns the refresh-token insert to batch. The
 * refresh-token family id is the session id, carried as the access token's `sid`.
 */
export async function newSession(
  db: Database,
  config: Config,
  input: SessionInput,
): Promise<{ tokens: TokenPair; insert: RefreshTokenInsert; sessionId: string }> {
  const refreshToken = randomToken();
  const session = { ...input, familyId: input.familyId ?? uuidv7() };
  const [accessToken, { insert }] = await Promise.all([
    signAccessToken(config, { ...session, sessionId: session.familyId }),
    refreshTokenInsert(db, config, refreshToken, session),
  ]);
  return { tokens: tokenPair(config, { accessToken, refreshToken }, input), insert, sessionId: session.familyId };
}

/**
 * Ends every session of a user in one statement (batchable): stamps users.sessions_revoked_at,
 * so a refresh family started earlier is refused even when a racing rotation slips a token past
 * this update, and revokes every refresh token. With `passwordHash`, sets the password too.
 */
export function revokeAllSessions(db: Database, userId: string, passwordHash?: string) {
  const password = passwordHash === undefined ? sql`` : sql`, password_hash = ${passwordHash}, updated_at = now()`;
  return db.execute(sql`
    with marked as (
      update users set sessions_revoked_at = now()${password}
      where id = ${userId}
      returning id
    ), revoked as (
      update refresh_tokens set revoked_at = now()
      where user_id in (select id from marked) and revoked_at is null
      returning id
    )
    select (select count(*) from marked) as marked, (select count(*) from revoked) as revoked`);
}

/**
 * Ends every session of a user but one (batchable), with the same guarantee as revokeAllSessions:
 * users.sessions_revoked_at is stamped and every other family's refresh tokens revoked, while the
 * kept family is restamped as started just after the stamp, so it alone goes on rotating. Without
 * a family to keep, every session ends. `when` (SQL over users) makes it all conditional, so it
 * can follow an update in the same batch that may have changed nothing.
 */
export function revokeOtherSessions(db: Database, userId: string, keepFamilyId: string | undefined, when: SQL = sql`true`) {
  const keep = keepFamilyId ?? null;
  return db.execute(sql`
    with marked as (
      update users set sessions_revoked_at = now()
      where id = ${userId} and ${when}
      returning id
    ), kept as (
      update refresh_tokens set family_started_at = greatest(clock_timestamp(), now() + interval '1 microsecond')
      where user_id in (select id from marked) and family_id = ${keep}::uuid and revoked_at is null
      returning id
    ), revoked as (
      update refresh_tokens set revoked_at = now()
      where user_id in (select id from marked) and family_id is distinct from ${keep}::uuid and revoked_at is null
      returning id
    )
    select (select count(*) from marked) as marked, (select count(*) from kept) as kept, (select count(*) from revoked) as revoked`);
}
