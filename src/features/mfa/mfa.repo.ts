import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Database } from "#src/db/client.ts";
import { memberships, organizations, type Role, recoveryCodes, users } from "#src/db/schema/index.ts";
import { uuidv7 } from "#src/lib/ids.ts";

/** The columns that say whether and how a user has TOTP. */
const TOTP_STATE = {
  id: users.id,
  email: users.email,
  totpSecret: users.totpSecret,
  totpEnabledAt: users.totpEnabledAt,
  totpLastStep: users.totpLastStep,
};

/** The TOTP state of a user, and their role in one organization (null when not a member). */
export async function findMfaUser(db: Database, userId: string, organizationId: string) {
  const [row] = await db
    .select({
      ...TOTP_STATE,
      role: memberships.role,
    })
    .from(users)
    .leftJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.organizationId, organizationId)))
    .where(eq(users.id, userId));
  return row;
}

export type MfaUser = NonNullable<Awaited<ReturnType<typeof findMfaUser>>>;

/** The TOTP state of a user and every membership (by organization name), for the second login step. */
export async function findMfaLoginUser(db: Database, userId: string) {
  const rows = await db
    .select({
      ...TOTP_STATE,
      organizationId: memberships.organizationId,
      organizationName: organizations.name,
      role: memberships.role,
    })
    .from(users)
    .leftJoin(memberships, eq(memberships.userId, users.id))
    .leftJoin(organizations, eq(organizations.id, memberships.organizationId))
    .where(eq(users.id, userId))
    .orderBy(organizations.name, organizations.id);
  const [first] = rows;
  if (!first) return undefined;
  const { organizationId: _id, organizationName: _name, role: _role, ...user } = first;
  const memberOf: { id: string; name: string; role: Role }[] = [];
  for (const row of rows) {
    if (row.organizationId && row.organizationName !== null && row.role) {
      memberOf.push({ id: row.organizationId, name: row.organizationName, role: row.role });
    }
  }
  return { ...user, organizations: memberOf };
}

/** Stores a pending (not yet confirmed) secret, replacing any earlier pending one. */
export function storePendingSecret(db: Database, userId: string, sealedSecret: string) {
  return db
    .update(users)
    .set({ totpSecret: sealedSecret, totpLastStep: null, updatedAt: sql`now()` })
    .where(and(eq(users.id, userId), isNull(users.totpEnabledAt)));
}

/**
 * Enables TOTP and replaces the recovery codes. Meant for one batch: the code statements only act
 * when this very enablement (`enabledAt`) took effect, so a concurrent confirm changes nothing.
 */
export function enableTotp(
  db: Database,
  input: { userId: string; sealedSecret: string; step: number; enabledAt: Date; codeHashes: string[] },
) {
  const { userId, enabledAt } = input;
  const enabledNow = sql`exists (select 1 from users where id = ${userId} and totp_enabled_at = ${enabledAt.toISOString()}::timestamptz)`;
  const ids = sql.join(input.codeHashes.map(() => sql`${uuidv7()}`), sql`, `);
  const hashes = sql.join(input.codeHashes.map((hash) => sql`${hash}`), sql`, `);
  return [
    db
      .update(users)
      .set({ totpEnabledAt: enabledAt, totpLastStep: input.step, updatedAt: sql`now()` })
      .where(and(eq(users.id, userId), isNull(users.totpEnabledAt), eq(users.totpSecret, input.sealedSecret)))
      .returning({ id: users.id }),
    db.delete(recoveryCodes).where(and(eq(recoveryCodes.userId, userId), enabledNow)),
    db.insert(recoveryCodes).select(sql`
      select code.id, ${userId}::uuid, code.hash, null::timestamptz, now()
      from unnest(array[${ids}]::uuid[], array[${hashes}]::text[]) as code(id, hash)
      where ${enabledNow}`),
  ] as const;
}

export function disableTotp(db: Database, userId: string) {
  return [
    db
      .update(users)
      .set({ totpSecret: null, totpEnabledAt: null, totpLastStep: null, updatedAt: sql`now()` })
      .where(eq(users.id, userId)),
    db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)),
  ] as const;
}

/** Records `step` as used unless it (or a later one) already was: true when this call won. */
export async function claimTotpStep(db: Database, userId: string, step: number): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ totpLastStep: step })
    .where(and(eq(users.id, userId), sql`(${users.totpLastStep} is null or ${users.totpLastStep} < ${step})`))
    .returning({ id: users.id });
  return rows.length > 0;
}

/** Whether one of the user's unused recovery codes matches: a check that spends nothing. */
export async function hasRecoveryCode(db: Database, userId: string, codeHashes: string[]): Promise<boolean> {
  const rows = await db
    .select({ id: recoveryCodes.id })
    .from(recoveryCodes)
    .where(and(eq(recoveryCodes.userId, userId), inArray(recoveryCodes.codeHash, codeHashes), isNull(recoveryCodes.usedAt)))
    .limit(1);
  return rows.length > 0;
}

/**
 * Marks one unused recovery code used, matched by any of its possible stored hashes: true when it
 * existed and this call consumed it.
 */
export async function consumeRecoveryCode(db: Database, userId: string, codeHashes: string[]): Promise<boolean> {
  const rows = await db
    .update(recoveryCodes)
    .set({ usedAt: sql`now()` })
    .where(and(eq(recoveryCodes.userId, userId), inArray(recoveryCodes.codeHash, codeHashes), isNull(recoveryCodes.usedAt)))
    .returning({ id: recoveryCodes.id });
  return rows.length > 0;
}
