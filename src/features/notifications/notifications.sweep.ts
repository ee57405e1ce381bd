import { sql } from "drizzle-orm";
import { rowsOf } from "#src/db/rows.ts";
import { systemScope } from "#src/db/scope.ts";
import { fallbackInsert } from "#src/features/notifications/notifications.fallback.ts";
import { announce, OutboxRow, outboxColumns } from "#src/features/notifications/notifications.outbox.ts";
import { channelAfter, summaryChannelOn } from "#src/features/notifications/notifications.prefs.ts";
import { DEFAULT_PREFERENCES } from "#src/features/preferences/preferences.service.ts";
import { TEXTS } from "#src/features/notifications/notifications.texts.ts";
import type { JobDeps } from "#src/jobs/job.ts";
import { SQL_UUIDV7 } from "#src/lib/ids.ts";

/** A row 'sending' this long belongs to a sender that died: sends time out after 10 s. */
export const SEND_LEASE_SECONDS = 300;

/** Rows each part of a sweep takes at most per tick; the rest wait for the next minute. */
export const SWEEP_LIMIT = 200;

type SweepDeps = Pick<JobDeps, "db" | "clock" | "jobs" | "realtime" | "logger">;

/**
 * Every minute, across organizations, in one statement: a stale 'sending' email row goes back to
 * pending (Resend's Idempotency-Key, the row's id, keeps the re-send from mailing twice); a stale
 * SMS, push or voice row is failed as interrupted and falls back to the next channel (no provider
 * key there: the message may have gone, so the channel is never tried twice); and pending rows
 * whose not_before has passed (quiet hours over, retries due, enqueues lost) are enqueued again.
 */
export async function sweepNotifications(deps: SweepDeps): Promise<number> {
  const db = systemScope(deps.db, "notifications.sweep");
  const now = deps.clock.now();
  const at = now.toISOString();
  const result = await db.execute(sql`
    with stale as (
      select id from notifications
      where status = 'sending' and claimed_at < ${at}::timestamptz - make_interval(secs => ${SEND_LEASE_SECONDS})
      order by claimed_at limit ${SWEEP_LIMIT} for update skip locked
    ),
    resumed as (
      update notifications n set status = 'pending', claimed_at = null, not_before = ${at}::timestamptz, updated_at = now()
      from stale s where n.id = s.id and n.channel = 'email'
      returning ${outboxColumns("n")}
    ),
    interrupted as (
      update notifications n set status = 'failed', last_error = 'interrupted: the sender stopped mid-send', updated_at = now()
      from stale s where n.id = s.id and n.channel <> 'email'
      returning n.*
    ),
    fallback as (${fallbackInsert("interrupted")}),
    due as (
      select ${outboxColumns("n")} from notifications n
      where n.status = 'pending' and n.not_before <= ${at}::timestamptz
      order by n.not_before limit ${SWEEP_LIMIT}
    )
    select * from resumed union all select * from fallback union all select * from due`);
  const rows = rowsOf(OutboxRow, result);
  await announce(deps, rows);
  if (rows.length > 0) deps.logger.log("info", "notifications.swept", { count: rows.length });
  return rows.length;
}

/**
 * The daily summary, across organizations, in one statement: each caregiver or clinician on a
 * care team whose dailySummaryTime has passed today in their zone, and who has no row
 * 'daily:<user>:<local date>' yet, gets one on email (or their first channel, else the inbox)
 * with counts only: open alerts and reminders missed in the last 24 hours, for their patients.
 */
export async function sendDailySummaries(deps: SweepDeps): Promise<number> {
  const db = systemScope(deps.db, "notifications.daily");
  const at = sql`${deps.clock.now().toISOString()}::timestamptz`;
  const org = sql`d.organization_id`;
  const user = sql`d.user_id`;
  const result = await db.execute(sql`
    with members as (
      select distinct c.organization_id, c.user_id from care_team_members c
      join memberships m on m.organization_id = c.organization_id and m.user_id = c.user_id and m.role in ('caregiver', 'clinician')
    ),
    zoned as (
      select mb.organization_id, mb.user_id, coalesce(up.preferences ->> 'timezone', ${DEFAULT_PREFERENCES.timezone}::text) as zone,
        coalesce(mp.preferences ->> 'dailySummaryTime', ${DEFAULT_PREFERENCES.dailySummaryTime}::text) as summary_time
      from members mb
      left join user_preferences up on up.user_id = mb.user_id
      left join membership_preferences mp on mp.organization_id = mb.organization_id and mp.user_id = mb.user_id
    ),
    -- A zone ICU knows and the database does not would fail the statement for everyone: UTC for it.
    known as (select name from pg_timezone_names where name in (select zone from zoned)),
    local as (
      select z.organization_id, z.user_id, z.summary_time,
        (${at} at time zone case when z.zone in (select name from known) then z.zone else 'UTC' end) as wall
      from zoned z
    ),
    due as (
      select l.organization_id, l.user_id, 'daily:' || l.user_id::text || ':' || to_char(l.wall, 'YYYY-MM-DD') as dedupe_key
      from local l
      where l.wall::time >= l.summary_time::time
        and not exists (select 1 from notifications n where n.organization_id = l.organization_id and n.dedupe_key = 'daily:' || l.user_id::text || ':' || to_char(l.wall, 'YYYY-MM-DD'))
      limit ${SWEEP_LIMIT}
    ),
    summary as (
      select d.*, coalesce(case when ${summaryChannelOn(org, user)} then 'email' end, ${channelAfter(org, user, sql`'voice'`)}, 'in_app') as channel,
        (select count(*) from alerts a join care_team_members c on c.organization_id = a.organization_id and c.patient_id = a.patient_id
          where a.organization_id = d.organization_id and c.user_id = d.user_id and a.status = 'open') as open_alerts,
        (select count(*) from reminders r join care_team_members c on c.organization_id = r.organization_id and c.patient_id = r.patient_id
          where r.organization_id = d.organization_id and c.user_id = d.user_id and r.status = 'missed'
            and r.missed_after > ${at} - interval '24 hours' and r.missed_after <= ${at}) as missed
      from due d
    )
    insert into notifications (id, organization_id, user_id, channel, kind, dedupe_key, title, body, status, sent_at)
    select ${sql.raw(SQL_UUIDV7)}, s.organization_id, s.user_id, s.channel, 'daily.summary', s.dedupe_key, ${TEXTS.daily.title}::text,
      format(${TEXTS.daily.bodyFormat}::text, s.open_alerts, s.missed),
      case when s.channel = 'in_app' then 'sent' else 'pending' end, case when s.channel = 'in_app' then now() end
    from summary s
    on conflict (organization_id, dedupe_key) do nothing
    returning ${outboxColumns("notifications")}`);
  const rows = rowsOf(OutboxRow, result);
  await announce(deps, rows);
  return rows.length;
}
