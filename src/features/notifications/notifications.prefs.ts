import { type SQL, sql } from "drizzle-orm";
import { DEFAULT_PREFERENCES } from "#src/features/preferences/preferences.service.ts";

/**
 * Preferences as the outbox's SQL reads them: the membership's (channels, alertThreshold,
 * quietHours, dailySummaryTime) and the person's (timezone, phone), each key over
 * DEFAULT_PREFERENCES when a row or a key is missing. Every fragment is a scalar subquery over
 * an organization and a user expression (its aliases start np_, clear of the caller's), so producers, the sender's fallback and the sweep agree.
 */

/** The order external channels are tried in; a permanent failure moves to the next eligible one. */
export const CHANNEL_ORDER = ["voice", "push", "sms", "email"] as const;

const prefsOf = (org: SQL, user: SQL, select: SQL): SQL => sql`(select ${select}
    from (select coalesce(np_mp.preferences, '{}'::jsonb) as practice, coalesce(np_up.preferences, '{}'::jsonb) as personal
      from (select 1) as np_one
      left join membership_preferences np_mp on np_mp.organization_id = ${org} and np_mp.user_id = ${user}
      left join user_preferences np_up on np_up.user_id = ${user}) as np)`;

const channelOn = (channel: "push" | "sms" | "email"): SQL =>
  sql`coalesce((np.practice -> 'channels' ->> ${channel})::boolean, ${DEFAULT_PREFERENCES.channels[channel]}::boolean)`;

/**
 * The first external channel after `after` (CHANNEL_ORDER) the person can get: push when they
 * have a device and push on, SMS when SMS is on and they set a phone, email when email is on;
 * null when none is left.
 */
export function channelAfter(org: SQL, user: SQL, after: SQL): SQL {
  const position = sql`array_position(array['voice', 'push', 'sms', 'email']::text[], ${after}::text)`;
  return prefsOf(
    org,
    user,
    sql`case
      when ${position} < 2 and ${channelOn("push")} and exists (select 1 from push_devices np_d where np_d.user_id = ${user}) then 'push'
      when ${position} < 3 and ${channelOn("sms")} and np.personal ->> 'phone' is not null then 'sms'
      when ${position} < 4 and ${channelOn("email")} then 'email'
    end`,
  );
}

/** Whether the person takes email (the daily summary's channel when they do). */
export const summaryChannelOn = (org: SQL, user: SQL): SQL => prefsOf(org, user, channelOn("email"));

/** The phone the person set for SMS and calls, or null. */
export const phoneOf = (org: SQL, user: SQL): SQL => prefsOf(org, user, sql`np.personal ->> 'phone'`);

const SEVERITY_RANK = sql`array['low', 'medium', 'high', 'critical']::text[]`;

/** Whether an alert of `severity` reaches the person's alertThreshold. */
export const meetsThreshold = (org: SQL, user: SQL, severity: SQL): SQL =>
  prefsOf(
    org,
    user,
    sql`array_position(${SEVERITY_RANK}, ${severity}::text)
      >= array_position(${SEVERITY_RANK}, coalesce(np.practice ->> 'alertThreshold', ${DEFAULT_PREFERENCES.alertThreshold}::text))`,
  );

/** What the sender needs to apply quiet hours: a JSON object {enabled, start, end, timezone}. */
export const quietHoursOf = (org: SQL, user: SQL): SQL =>
  prefsOf(
    org,
    user,
    sql`jsonb_build_object(
      'enabled', coalesce((np.practice -> 'quietHours' ->> 'enabled')::boolean, ${DEFAULT_PREFERENCES.quietHours.enabled}::boolean),
      'start', coalesce(np.practice -> 'quietHours' ->> 'start', ${DEFAULT_PREFERENCES.quietHours.start}::text),
      'end', coalesce(np.practice -> 'quietHours' ->> 'end', ${DEFAULT_PREFERENCES.quietHours.end}::text),
      'timezone', coalesce(np.personal ->> 'timezone', ${DEFAULT_PREFERENCES.timezone}::text))`,
  );
