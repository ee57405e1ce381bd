import { type SQL, sql } from "drizzle-orm";
import type { Deps } from "#src/lib/deps.ts";
import type { Database } from "#src/db/client.ts";
import type { apiKeys } from "#src/db/schema/index.ts";
import { firstRow } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { insertKey, listKeys, RevokeRow, RotateRow, revokeKey, rotateKey } from "#src/features/api-keys/api-keys.repo.ts";
import { auditInsert } from "#src/lib/audit.ts";
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

export type ApiKeyDeps = Pick<Deps, "db" | "origin" | "config" | "clock">;

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
  const rows = await listKeys(scoped(db, auth.organizationId));
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
  const scope = scoped(deps.db, auth.organizationId);
  const [rows] = await scope.db.batch([
    insertKey(scope, { id, createdBy: auth.userId, name: input.name, prefix: secret.prefix, keyHash: secret.hash, scopes }),
    auditInsert(scope.db, deps.origin, {
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

/**
 * One statement (api-keys.repo.ts): ends the old key's life after the grace period, issues its
 * replacement with the same name and scopes and audits it. Rotation re-grants the old scopes, so they must all be
 * the caller's to grant (403 otherwise, checked in the update itself). A revoked, expired or
 * already-rotated key is a 409.
 */
export async function rotateApiKey(deps: ApiKeyDeps, auth: KeyManager, id: string) {
  const secret = await newSecret();
  const newId = uuidv7();
  const held = textArray(grantableScopes(auth));
  const result = await rotateKey(scoped(deps.db, auth.organizationId), deps.origin, auth, {
    id,
    newId,
    prefix: secret.prefix,
    hash: secret.hash,
    held,
    graceHours: deps.config.API_KEY_GRACE_HOURS,
  });
  const row = firstRow(RotateRow, result);
  if (!row?.found) throw NotFound("No such API key.");
  if (!row.live && !row.grantable) throw Forbidden("You cannot grant every scope of this key, so you cannot rotate it.");
  if (!row.live || !row.id) throw Conflict("This key is revoked, expired or already rotated.");
  const issued: ApiKeyView = {
    id: row.id,
    name: row.name ?? "",
    prefix: row.prefix ?? "",
    scopes: row.scopes ?? [],
    createdAt: iso(row.created_at) ?? deps.clock.now().toISOString(),
    lastUsedAt: null,
    expiresAt: null,
    revokedAt: null,
  };
  return { ...issued, key: secret.key };
}

export async function revokeApiKey(deps: ApiKeyDeps, auth: KeyManager, id: string): Promise<void> {
  const result = await revokeKey(scoped(deps.db, auth.organizationId), deps.origin, auth, id);
  if (!firstRow(RevokeRow, result)?.found) throw NotFound("No such API key.");
}

