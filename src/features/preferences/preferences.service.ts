import type { z } from "@hono/zod-openapi";
import { eq, sql } from "drizzle-orm";
import type { Database } from "#src/db/client.ts";
import { userPreferences } from "#src/db/schema/index.ts";
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

export async function getPreferences(db: Database, userId: string): Promise<Preferences> {
  const [row] = await db.select({ preferences: userPreferences.preferences }).from(userPreferences).where(eq(userPreferences.userId, userId));
  return withDefaults((row?.preferences ?? {}) as Stored);
}

/** One UPSERT: top-level fields replace, `channels` and `quietHours` merge key by key in SQL. */
export async function patchPreferences(db: Database, userId: string, patch: PreferencesPatch): Promise<Preferences> {
  const json = JSON.stringify(patch);
  const result = await db.execute<{ preferences: Stored }>(sql`
    insert into user_preferences (user_id, preferences) values (${userId}, ${json}::jsonb)
    on conflict (user_id) do update set
      preferences = user_preferences.preferences || excluded.preferences || jsonb_build_object(
        'channels', coalesce(user_preferences.preferences -> 'channels', '{}'::jsonb) || coalesce(excluded.preferences -> 'channels', '{}'::jsonb),
        'quietHours', coalesce(user_preferences.preferences -> 'quietHours', '{}'::jsonb) || coalesce(excluded.preferences -> 'quietHours', '{}'::jsonb)
      ),
      updated_at = now()
    returning preferences`);
  return withDefaults(result.rows[0]?.preferences ?? {});
}
