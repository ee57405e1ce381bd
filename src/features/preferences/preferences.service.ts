import type { z } from "@hono/zod-openapi";
import { eq, sql } from "drizzle-orm";
import type { Database } from "#src/db/client.ts";
import { membershipPreferences, userPreferences } from "#src/db/schema/index.ts";
import { scoped, type TenantScope } from "#src/db/scope.ts";
import type { PreferencesPatchSchema, PreferencesSchema } from "#src/features/preferences/preferences.routes.ts";

export type Preferences = z.infer<typeof PreferencesSchema>;
export type PreferencesPatch = z.infer<typeof PreferencesPatchSchema>;

export const DEFAULT_PREFERENCES: Preferences = {
  channels: { email: true, sms: false, push: true },
  alertThreshold: "medium",
  quietHours: { enabled: false, start: "22:00", end: "07:00" },
  dailySummaryTime: "08:00",
  timezone: "UTC",
};

type Stored = Partial<{ [K in keyof Preferences]: Preferences[K] extends object ? Partial<Preferences[K]> : Preferences[K] }>;

/** Stored fields over the defaults, nested objects field by field. */
export function withDefaults(stored: Stored): Preferences {
  return {
    ...DEFAULT_PREFERENCES,
    ...stored,
    channels: { ...DEFAULT_PREFERENCES.channels, ...stored.channels },
    quietHours: { ...DEFAULT_PREFERENCES.quietHours, ...stored.quietHours },
  };
}

/** Whose preferences: a person, in the organization they are signed in to. */
export interface PreferenceOwner {
  userId: string;
  organizationId: string;
}

/**
 * Where each field lives. The timezone and the phone (SMS and calls) are the person's: they live in
 * one place, whichever practice they act for. The rest is per membership: a caregiver in two practices is on call
 * differently in each: quiet hours, alert threshold, channels and summary time follow the practice.
 */
const PERSONAL_FIELDS = ["timezone", "phone"] as const satisfies readonly (keyof Preferences)[];

function split(patch: PreferencesPatch): { personal: Stored; practice: Stored } {
  const personal: Stored = {};
  const practice: Stored = {};
  for (const [key, value] of Object.entries(patch) as [keyof Preferences, unknown][]) {
    if (value === undefined) continue;
    Object.assign((PERSONAL_FIELDS as readonly string[]).includes(key) ? personal : practice, { [key]: value });
  }
  return { personal, practice };
}

const readPersonal = (db: Database, userId: string) =>
  db.select({ preferences: userPreferences.preferences }).from(userPreferences).where(eq(userPreferences.userId, userId));

const readPractice = (scope: TenantScope, userId: string) =>
  scope.db
    .select({ preferences: membershipPreferences.preferences })
    .from(membershipPreferences)
    .where(scope.where(membershipPreferences, eq(membershipPreferences.userId, userId)));

/** Top-level fields replace; `channels` and `quietHours` merge key by key, in SQL. */
const MERGED = (table: string) => sql.raw(`${table}.preferences || excluded.preferences || jsonb_build_object(
        'channels', coalesce(${table}.preferences -> 'channels', '{}'::jsonb) || coalesce(excluded.preferences -> 'channels', '{}'::jsonb),
        'quietHours', coalesce(${table}.preferences -> 'quietHours', '{}'::jsonb) || coalesce(excluded.preferences -> 'quietHours', '{}'::jsonb)
      )`);

const upsertPersonal = (db: Database, userId: string, personal: Stored) =>
  db
    .insert(userPreferences)
    .values({ userId, preferences: personal })
    .onConflictDoUpdate({ target: userPreferences.userId, set: { preferences: sql`user_preferences.preferences || excluded.preferences`, updatedAt: sql`now()` } })
    .returning({ preferences: userPreferences.preferences });

const upsertPractice = (scope: TenantScope, userId: string, practice: Stored) =>
  scope
    .insert(membershipPreferences, { userId, preferences: practice })
    .onConflictDoUpdate({
      target: [membershipPreferences.organizationId, membershipPreferences.userId],
      set: { preferences: MERGED("membership_preferences"), updatedAt: sql`now()` },
    })
    .returning({ preferences: membershipPreferences.preferences });

const merged = (personal: { preferences: unknown }[], practice: { preferences: unknown }[]): Preferences =>
  withDefaults({ ...((practice[0]?.preferences ?? {}) as Stored), ...((personal[0]?.preferences ?? {}) as Stored) });

/** The person's fields and this membership's, over the defaults: one round trip. */
export async function getPreferences(db: Database, owner: PreferenceOwner): Promise<Preferences> {
  const scope = scoped(db, owner.organizationId);
  const [personal, practice] = await scope.db.batch([readPersonal(scope.db, owner.userId), readPractice(scope, owner.userId)]);
  return merged(personal, practice);
}

/** Each part of the patch goes where its fields live (an UPSERT each), in one batch. */
export async function patchPreferences(db: Database, owner: PreferenceOwner, patch: PreferencesPatch): Promise<Preferences> {
  const scope = scoped(db, owner.organizationId);
  const { personal, practice } = split(patch);
  const [personalRows, practiceRows] = await scope.db.batch([
    Object.keys(personal).length > 0 ? upsertPersonal(scope.db, owner.userId, personal) : readPersonal(scope.db, owner.userId),
    Object.keys(practice).length > 0 ? upsertPractice(scope, owner.userId, practice) : readPractice(scope, owner.userId),
  ]);
  return merged(personalRows, practiceRows);
}
