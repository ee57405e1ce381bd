import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { rowsOf } from "#src/db/rows.ts";
import { systemScope } from "#src/db/scope.ts";
import { isoOf } from "#src/db/sql-time.ts";
import type { Deps } from "#src/lib/deps.ts";
import { dispatchWritten, eventFromCte } from "#src/lib/events.ts";
import { SQL_UUIDV7 } from "#src/lib/ids.ts";

/**
 * The reminder tick, across every organization (the audited system scope), each step ONE
 * set-based statement whatever the number of patients:
 *
 * - generate: every occurrence due in (now - LOOKBACK, now] of every active schedule of an
 *   active patient, from its local times and weekdays through the patient's timezone, and the
 *   24 h and 1 h reminders of live appointments. The unique occurrence key makes a re-run, an
 *   overlapping tick or a redelivery insert nothing twice; the key names the LOCAL date and time,
 *   so a DST change cannot make one dose two (a 02:30 dose on a spring-forward day is due once, at
 *   the instant Postgres gives the missing time; a 01:30 on a fall-back day once).
 * - missed: open reminders past missed_after become missed; a medication one opens a
 *   missed_medication alert (one per reminder, by a unique index).
 *
 * Each writes its domain events in the same statement and enqueues them after commit.
 */

export type TickDeps = Pick<Deps, "db" | "origin" | "jobs" | "logger">;

/** How far back a tick looks: a tick that ran late, or was lost, is covered by the next ones. */
export const LOOKBACK_MINUTES = 15;

const EventRow = z.object({ id: z.string(), organization_id: z.string() });
export type TickEvent = z.output<typeof EventRow>;

/** Schedule occurrences due in the window, as reminder rows to insert. */
const scheduleOccurrences = sql`
  select s.organization_id, s.patient_id, s.id as schedule_id, null::uuid as appointment_id, s.kind,
    'schedule:' || s.id || ':' || to_char(o.day, 'YYYY-MM-DD') || 'T' || o.hhmm as occurrence_key,
    o.due_at, o.due_at + make_interval(mins => s.grace_minutes) as missed_after
  from schedules s
  join patients p on p.organization_id = s.organization_id and p.id = s.patient_id and p.status = 'active'
  cross join w
  cross join lateral (
    select d.day, t.hhmm, (d.day + t.hhmm::time) at time zone p.timezone as due_at
    from (select distinct unnest(array[(w.since at time zone p.timezone)::date, (w.now at time zone p.timezone)::date]) as day) d
    cross join unnest(s.times_of_day) as t(hhmm)
    where extract(isodow from d.day)::smallint = any (s.days_of_week)
      and (s.start_date is null or d.day >= s.start_date)
      and (s.end_date is null or d.day <= s.end_date)
  ) o
  where s.active and s.deleted_at is null
    and o.due_at > w.since and o.due_at <= w.now and o.due_at >= s.created_at`;

/** The 24 h and 1 h reminders of live appointments whose reminder instant falls in the window. */
const appointmentOccurrences = sql`
  select a.organization_id, a.patient_id, null::uuid, a.id, 'appointment',
    'appointment:' || a.id || ':' || to_char(a.starts_at at time zone 'UTC', 'YYYYMMDD"T"HH24MISS') || ':' || l.label,
    a.starts_at - l.lead, null::timestamptz
  from appointments a
  cross join w
  cross join (values ('24h', interval '24 hours'), ('1h', interval '1 hour')) as l(label, lead)
  join patients p on p.organization_id = a.organization_id and p.id = a.patient_id and p.status <> 'discharged'
  where a.status in ('scheduled', 'confirmed')
    and a.starts_at > w.since + l.lead and a.starts_at <= w.now + l.lead
    and a.created_at < a.starts_at - l.lead`;

/** The generator's statement (exported for the bench, which counts its round trips). */
export function generateStatement(deps: Pick<Deps, "origin">, now: Date): SQL {
  return sql`
    with w as (select ${now.toISOString()}::timestamptz as now, ${now.toISOString()}::timestamptz - ${sql.raw(`interval '${LOOKBACK_MINUTES} minutes'`)} as since),
    inserted as (
      insert into reminders (id, organization_id, patient_id, schedule_id, appointment_id, kind, occurrence_key, due_at, missed_after, created_at, updated_at)
      select ${sql.raw(SQL_UUIDV7)}, o.*, w.now, w.now from (${scheduleOccurrences} union all ${appointmentOccurrences}) o cross join w
      on conflict (organization_id, occurrence_key) do nothing
      returning id, organization_id, patient_id, kind, due_at
    ), events as (
      ${eventFromCte("inserted", deps.origin, {
        organizationId: sql`organization_id`,
        type: "reminder.due",
        subjectType: "reminder",
        subjectId: sql`id`,
        payload: sql`jsonb_build_object('patientId', patient_id, 'kind', kind, 'dueAt', ${isoOf("due_at")})`,
      })}
      returning id, organization_id
    )
    select id, organization_id from events`;
}

/** The missed step's statement. */
export function missedStatement(deps: Pick<Deps, "origin">, now: Date): SQL {
  return sql`
    with w as (select ${now.toISOString()}::timestamptz as now),
    due as (
      select r.id from reminders r cross join w
      where r.status in ('pending', 'sent') and r.missed_after is not null and r.missed_after < w.now
      for update of r skip locked
    ), changed as (
      -- A reminder its schedule's deletion raced past (inserted by a tick that read the schedule
      -- before the delete committed) is cancelled, not missed.
      update reminders r set updated_at = w.now, status = case when exists (
          select 1 from schedules s where s.organization_id = r.organization_id and s.id = r.schedule_id and s.deleted_at is not null
        ) then 'cancelled' else 'missed' end
      from due d cross join w
      where r.id = d.id and r.status in ('pending', 'sent')
      returning r.id, r.organization_id, r.patient_id, r.kind, r.status
    ), missed as (
      select * from changed where status = 'missed'
    ), opened as (
      insert into alerts (id, organization_id, patient_id, type, severity, reminder_id, next_escalation_at, created_at, updated_at)
      select ${sql.raw(SQL_UUIDV7)}, m.organization_id, m.patient_id, 'missed_medication', 'high', m.id,
        w.now + make_interval(mins => o.escalation_minutes), w.now, w.now
      from missed m join organizations o on o.id = m.organization_id cross join w
      where m.kind = 'medication'
      on conflict (organization_id, reminder_id) where reminder_id is not null do nothing
      returning id, organization_id, patient_id, severity, type
    ), missed_events as (
      ${eventFromCte("missed", deps.origin, {
        organizationId: sql`organization_id`,
        type: "reminder.missed",
        subjectType: "reminder",
        subjectId: sql`id`,
        payload: sql`jsonb_build_object('patientId', patient_id, 'kind', kind)`,
      })}
      returning id, organization_id
    ), alert_events as (
      ${eventFromCte("opened", deps.origin, {
        organizationId: sql`organization_id`,
        type: "alert.created",
        subjectType: "alert",
        subjectId: sql`id`,
        payload: sql`jsonb_build_object('patientId', patient_id, 'severity', severity, 'type', type)`,
      })}
      returning id, organization_id
    )
    select id, organization_id from missed_events union all select id, organization_id from alert_events`;
}


/** One tick of the generator at `now`: the reminders due, and their events enqueued. */
export async function generateDueReminders(deps: TickDeps, now: Date): Promise<TickEvent[]> {
  const events = rowsOf(EventRow, await systemScope(deps.db, "reminders.generate").execute(generateStatement(deps, now)));
  await dispatchWritten(deps, events);
  if (events.length > 0) deps.logger.log("info", "reminders.generated", { count: events.length });
  return events;
}

/** One tick of the missed step at `now`: reminder.missed and alert.created events, enqueued. */
export async function markMissedReminders(deps: TickDeps, now: Date): Promise<TickEvent[]> {
  const events = rowsOf(EventRow, await systemScope(deps.db, "reminders.missed").execute(missedStatement(deps, now)));
  await dispatchWritten(deps, events);
  if (events.length > 0) deps.logger.log("info", "reminders.missed", { count: events.length });
  return events;
}
