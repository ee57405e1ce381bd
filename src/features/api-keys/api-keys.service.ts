import { desc, eq, type SQL, sql } from "drizzle-orm";
import type { Database } from "#src/db/client.ts";
import { apiKeys } from "#src/db/schema/index.ts";
import { auditFromCte } from "#src/lib/audit.ts";
import { type AuditOrigin, auditInsert } from "#src/lib/audit.ts";
import { randomToken, sha256Hex } from "#src/lib/encoding.ts";
import { Conflict, Forbidden, NotFound } from "#src/lib/errors.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { API_KEY_SCOPES, type Permission } from "#src/lib/permissions.ts";
import { API_KEY_PREFIX, type AuthContext, type memberOf } from "#src/middleware/auth.ts";

/** A signed-in member: only members manage keys, never another key. */
export type KeyManager = ReturnType<typeof memberOf>;

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface ApiKeyDeps {
  db: Database;
  origin: AuditOrigin;
  graceHours: number;
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

function view(row: typeof apiKeys.$inferSelect): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
    revokedAt: iso(row.revokedAt),
  };
}

async function newSecret() {
  const key = `${API_KEY_PREFIX}${randomToken()}`;
  return { key, prefix: key.slice(0, 12), hash: await sha256Hex(key) };
}

/**
 * A `text[]` parameter. drizzle's sql template expands a JS array into a `($1, $2)` list, which
 * does not cast to an array, so build `array[$1, $2]::text[]` instead (`array[]::text[]` when empty).
 */
export const textArray = (values: Iterable<string>): SQL =>
  sql`array[${sql.join([...values].map((value) => sql`${value}`), sql`, `)}]::text[]`;

/** The scopes a caller could put on a key: what an integration may hold and the caller holds. */
const grantableScopes = (auth: AuthContext): Permission[] => API_KEY_SCOPES.filter((scope) => auth.permissions.has(scope));

export async function listApiKeys(db: Database, auth: AuthContext): Promise<ApiKeyView[]> {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.organizationId, auth.organizationId)).orderBy(desc(apiKeys.id));
  return rows.map(view);
}

/** A key can carry only what an integration may, and only what its creator holds. */
export function assertGrantable(auth: AuthContext, scopes: string[]): Permission[] {
  const beyond = scopes.filter((scope) => !API_KEY_SCOPES.includes(scope as Permission) || !auth.permissions.has(scope as Permission));
  if (beyond.length > 0) throw Forbidden(`You cannot grant: ${beyond.join(", ")}.`);
  return [...new Set(scopes as Permission[])];
}

export async function createApiKey(deps: ApiKeyDeps, auth: KeyManager, input: { name: string; scopes: string[] }) {
  const scopes = assertGrantable(auth, input.scopes);
  const secret = await newSecret();
  const id = uuidv7();
  const { db } = deps;
  const [rows] = await db.batch([
    db
      .insert(apiKeys)
      .values({ id, organizationId: auth.organizationId, createdBy: auth.userId, name: input.name, prefix: secret.prefix, keyHash: secret.hash, scopes })
      .returning(),
    auditInsert(db, deps.origin, {
      action: "api_key.created",
      organizationId: auth.organizationId,
      actorUserId: auth.userId,
      actorApiKeyId: auth.apiKeyId,
      targetType: "api_key",
      targetId: id,
      metadata: { scopes: scopes.join(",") },
    }),
  ]);
  const row = rows[0];
  if (!row) throw new Error("api key insert returned nothing");
  return { ...view(row), key: secret.key };
}

type RotateRow = {
  found: boolean;
  grantable: boolean | null;
  live: boolean;
  id: string | null;
  name: string | null;
  prefix: string | null;
  scopes: string[] | null;
  created_at: string | null;
};

/**
 * One statement: ends the old key's life after the grace period, issues its replacement with
 * the same name and scopes and audits it. Rotation re-grants the old scopes, so they must all be
 * the caller's to grant (403 otherwise, checked in the update itself). A revoked, expired or
 * already-rotated key is a 409.
 */
export async function rotateApiKey(deps: ApiKeyDeps, auth: KeyManager, id: string) {
  const secret = await newSecret();
  const newId = uuidv7();
  const org = auth.organizationId;
  const held = textArray(grantableScopes(auth));
  const result = await deps.db.execute<RotateRow>(sql`
    with target as (
      select id, scopes <@ ${held} as grantable from api_keys where id = ${id} and organization_id = ${org}
    ), old as (
      update api_keys set expires_at = now() + make_interval(hours => ${deps.graceHours}::int), replaced_by = ${newId}
      where id = ${id} and organization_id = ${org} and revoked_at is null and replaced_by is null
        and (expires_at is null or expires_at > now()) and scopes <@ ${held}
      returning name, scopes
    ), fresh as (
      insert into api_keys (id, organization_id, created_by, name, prefix, key_hash, scopes)
      select ${newId}::uuid, ${org}::uuid, ${auth.userId}::uuid, old.name, ${secret.prefix}::text, ${secret.hash}::text, old.scopes from old
      returning id, name, prefix, scopes, created_at
    ), audit as (
      ${auditFromCte("fresh", deps.origin, {
        action: "api_key.rotated",
        organizationId: org,
        actorUserId: auth.userId,
        actorApiKeyId: auth.apiKeyId,
        targetType: "api_key",
        targetId: id,
        metadata: { replacedBy: newId },
      })}
    )
    select exists (select 1 from target) as found, (select grantable from target) as grantable, exists (select 1 from fresh) as live,
      fresh.id, fresh.name, fresh.prefix, fresh.scopes, fresh.created_at
    from (select 1) as one left join fresh on true`);
  const row = result.rows[0];
  if (!row?.found) throw NotFound("No such API key.");
  if (!row.live && !row.grantable) throw Forbidden("You cannot grant every scope of this key, so you cannot rotate it.");
  if (!row.live || !row.id) throw Conflict("This key is revoked, expired or already rotated.");
  const issued: ApiKeyView = {
    id: row.id,
    name: row.name ?? "",
    prefix: row.prefix ?? "",
    scopes: row.scopes ?? [],
    createdAt: iso(row.created_at) ?? new Date().toISOString(),
    lastUsedAt: null,
    expiresAt: null,
    revokedAt: null,
  };
  return { ...issued, key: secret.key };
}

export async function revokeApiKey(deps: ApiKeyDeps, auth: KeyManager, id: string): Promise<void> {
  const org = auth.organizationId;
  const result = await deps.db.execute<{ found: boolean }>(sql`
    with revoked as (
      update api_keys set revoked_at = coalesce(revoked_at, now())
      where id = ${id} and organization_id = ${org}
      returning id
    ), audit as (
      ${auditFromCte("revoked", deps.origin, {
        action: "api_key.revoked",
        organizationId: org,
        actorUserId: auth.userId,
        actorApiKeyId: auth.apiKeyId,
        targetType: "api_key",
        targetId: id,
      })}
    )
    select exists (select 1 from revoked) as found`);
  if (!result.rows[0]?.found) throw NotFound("No such API key.");
}

