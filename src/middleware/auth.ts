import { sql } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import type { Database } from "#src/db/client.ts";
import { firstRow } from "#src/db/rows.ts";
import type { Role } from "#src/db/schema/identity.ts";
import { sha256Hex } from "#src/lib/encoding.ts";
import { BadRequest, Forbidden, Unauthorized } from "#src/lib/errors.ts";
import { type Permission, ROLE_PERMISSIONS } from "#src/lib/permissions.ts";
import { issuedAtMs, verifyAccessToken } from "#src/lib/tokens.ts";
import type { AppEnv } from "#src/lib/types.ts";

/** Who is calling: a member through an access token, or an integration through an API key. */
export interface AuthContext {
  kind: "user" | "api_key";
  userId: string | null;
  apiKeyId: string | null;
  organizationId: string;
  role: Role | null;
  permissions: ReadonlySet<Permission>;
  /** For access tokens: when it was issued, checked against the user's revocation watermarks. */
  issuedAtMs?: number;
  /** For access tokens: the session (`sid`), which logout revokes on its own. */
  sessionId?: string;
}

export const API_KEY_PREFIX = "tend_";

const ApiKeyRow = z.object({ id: z.string(), organization_id: z.string(), scopes: z.array(z.string()) });

/**
 * Finds a live API key by its hash and touches `last_used_at` at most once a minute, in one
 * statement (one round trip). Rotated keys keep working until their `expires_at`.
 */
async function apiKeyAuth(db: Database, key: string): Promise<AuthContext> {
  if (!key.startsWith(API_KEY_PREFIX)) throw Unauthorized("The API key is invalid.");
  const hash = await sha256Hex(key);
  const result = await db.execute(sql`
    with hit as (
      select id, organization_id, scopes from api_keys
      where key_hash = ${hash} and revoked_at is null and (expires_at is null or expires_at > now())
    ), touched as (
      update api_keys set last_used_at = now() from hit
      where api_keys.id = hit.id and (api_keys.last_used_at is null or api_keys.last_used_at < now() - interval '1 minute')
    )
    select id, organization_id, scopes from hit`);
  const row = firstRow(ApiKeyRow, result);
  if (!row) throw Unauthorized("The API key is invalid, revoked or expired.");
  return {
    kind: "api_key",
    userId: null,
    apiKeyId: row.id,
    organizationId: row.organization_id,
    role: null,
    permissions: new Set(row.scopes as Permission[]),
  };
}

/**
 * Reads the caller's credentials when present: a bearer access token (verified with jose, no
 * database) or an `X-API-Key`. Bad credentials answer 401; none leave the request anonymous,
 * for `requirePermission` to refuse where a route needs a caller.
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const authorization = c.req.header("Authorization");
    const apiKey = c.req.header("X-API-Key");
    if (authorization !== undefined && apiKey !== undefined) {
      throw BadRequest("Send one credential: a bearer token or an X-API-Key, not both.");
    }
    if (authorization) {
      const [scheme, token] = authorization.split(" ");
      if (scheme?.toLowerCase() !== "bearer" || !token) throw Unauthorized("Use the Bearer scheme.");
      const claims = await verifyAccessToken(c.get("config"), token);
      const permissions = ROLE_PERMISSIONS[claims.role];
      if (!permissions) throw Unauthorized("The token is invalid or expired.");
      c.set("auth", {
        kind: "user",
        userId: claims.sub,
        apiKeyId: null,
        organizationId: claims.org,
        role: claims.role,
        permissions,
        issuedAtMs: issuedAtMs(claims.jti),
        sessionId: claims.sid,
      });
    } else if (apiKey) {
      c.set("auth", await apiKeyAuth(c.get("db"), apiKey));
    }
    await next();
  };
}

/** A signed-in member (a bearer access token), as opposed to an API key. */
export type SignedInMember = AuthContext & { kind: "user"; userId: string; role: Role };

/** What a route's guard leaves in `c.var.auth`: any caller, or only a signed-in member. */
export type CallerEnv = { Variables: { auth: AuthContext } };
export type MemberEnv = { Variables: { auth: SignedInMember } };

/** The caller, or 401. */
export function requireAuth(auth: AuthContext | undefined): AuthContext {
  if (!auth) throw Unauthorized("Sign in: send a bearer access token or an X-API-Key.");
  return auth;
}

/** The signed-in member (not an API key), or 401/403. */
export function memberOf(auth: AuthContext | undefined): SignedInMember {
  const caller = requireAuth(auth);
  if (caller.kind !== "user" || !caller.userId || !caller.role) throw Forbidden("This needs a signed-in member.");
  return caller as SignedInMember;
}

function checkPermission(auth: AuthContext, permission: Permission | undefined): void {
  if (permission && !auth.permissions.has(permission)) throw Forbidden(`This needs the "${permission}" permission.`);
}

/** Route guard: the caller's role (or key's scopes) must grant `permission`. `defineRoute` applies it. */
export function requirePermission(permission: Permission): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    checkPermission(requireAuth(c.get("auth")), permission);
    await next();
  };
}

/** Route guard for routes about the caller themself: a signed-in member (never an API key) holding `permission`. */
export function requireMember(permission?: Permission): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    checkPermission(memberOf(c.get("auth")), permission);
    await next();
  };
}
