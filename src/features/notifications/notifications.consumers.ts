import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { REMINDER_KINDS, SEVERITIES } from "#src/db/schema/care.ts";
import type { DeliveredEvent, EventConsumer } from "#src/features/events/events.consumers.ts";
import { announce, eventRows } from "#src/features/notifications/notifications.outbox.ts";
import { channelAfter, meetsThreshold, phoneOf } from "#src/features/notifications/notifications.prefs.ts";
import { TEXTS } from "#src/features/notifications/notifications.texts.ts";
import { currentCareTeam } from "#src/lib/access.ts";
import { SQL_UUIDV7 } from "#src/lib/ids.ts";

/**
 * Domain events into notification rows, in the statement that claims the event: for each
 * recipient one in-app row (delivered by being in their inbox) and one external row on their
 * first channel (push, SMS, email; a voice call for a critical alert's last step). dedupe_key
 * `<event>:<user>:<channel>` makes a replay insert nothing. Afterwards the external rows are
 * enqueued for delivery and the in-app ones announced on the recipients' sockets.
 */

const Uuid = z.string().regex(/^[0-9a-f-]{36}$/i);
const ReminderDue = z.object({ patientId: Uuid, kind: z.enum(REMINDER_KINDS) });
const AlertEvent = z.object({ patientId: Uuid, severity: z.enum(SEVERITIES), level: z.number().int().min(0).max(3).optional() });

interface Outbox {
  /** `select user_id from …`: who is told. */
  targets: SQL;
  patientId: string;
  severity: string | null;
  title: string;
  body: string;
  /** Alerts: each recipient's alertThreshold filters. */
  threshold: boolean;
  /** The external row is a voice call (when the person set a phone; otherwise their first channel). */
  voice: boolean;
}

function outboxInsert(event: DeliveredEvent, outbox: Outbox): SQL {
  const org = sql`${event.organizationId}::uuid`;
  const user = sql`t.user_id`;
  const first = channelAfter(org, user, sql`'voice'`);
  const external = outbox.voice ? sql`coalesce(case when ${phoneOf(org, user)} is not null then 'voice' end, ${first})` : first;
  const severity = sql`${outbox.severity}::text`;
  return sql`with targets as (${outbox.targets}),
    recipients as (
      select t.user_id, ${external} as external
      from (select distinct user_id from targets) t
      join memberships m on m.organization_id = ${org} and m.user_id = t.user_id
      where ${outbox.threshold ? meetsThreshold(org, user, severity) : sql`true`}
    )
    insert into notifications (id, organization_id, user_id, channel, kind, severity, subject_type, subject_id, patient_id, dedupe_key, title, body, status, sent_at)
    select ${sql.raw(SQL_UUIDV7)}, ${org}, r.user_id, c.channel, ${event.type}::text, ${severity}, ${event.subjectType}::text, ${event.subjectId}::uuid,
      ${outbox.patientId}::uuid, ${event.id}::text || ':' || r.user_id::text || ':' || c.channel, ${outbox.title}::text,
      case when c.channel = 'voice' then ${TEXTS.alert.voice}::text else ${outbox.body}::text end,
      case when c.channel = 'in_app' then 'sent' else 'pending' end,
      case when c.channel = 'in_app' then now() end
    from claim
    cross join recipients r
    cross join lateral (values ('in_app'::text), (r.external)) as c(channel)
    where c.channel is not null
    on conflict (organization_id, dedupe_key) do nothing`;
}

/** The patient's care team as it stands (staff hold none of the care loop). */
const team = (org: string, patientId: string) => currentCareTeam(sql`${org}::uuid`, sql`${patientId}::uuid`);

/** Level 0 and 3: the primary, or the whole care team when the patient has none. */
const primaryOrTeam = (org: string, patientId: string) => sql`select user_id from (${team(org, patientId)}) tm
  where tm.is_primary or not exists (select 1 from (${team(org, patientId)}) p where p.is_primary)`;

/** Who is told at each escalation level (care-design.md, Recipients). */
function alertTargets(event: DeliveredEvent, patientId: string, level: number): SQL {
  const org = event.organizationId;
  if (level === 1) {
    return sql`select tm.user_id from (${team(org, patientId)}) tm where not exists (
      select 1 from notifications n where n.organization_id = ${org}::uuid and n.subject_id = ${event.subjectId}::uuid and n.user_id = tm.user_id and n.channel = 'in_app')`;
  }
  if (level === 2) return sql`select user_id from memberships where organization_id = ${org}::uuid and role in ('owner', 'admin')`;
  return primaryOrTeam(org, patientId);
}

function outboxOf(event: DeliveredEvent): Outbox | undefined {
  if (event.type === "reminder.due") {
    const payload = ReminderDue.safeParse(event.payload);
    if (!payload.success) return undefined;
    const { patientId, kind } = payload.data;
    const targets = sql`select user_id from patients where organization_id = ${event.organizationId}::uuid and id = ${patientId}::uuid and user_id is not null`;
    return { targets, patientId, severity: null, title: TEXTS.reminder.title, body: TEXTS.reminder.body[kind], threshold: false, voice: false };
  }
  const payload = AlertEvent.safeParse(event.payload);
  if (!payload.success) return undefined;
  const { patientId, severity } = payload.data;
  const level = event.type === "alert.created" ? 0 : (payload.data.level ?? 1);
  // The voice call is the last step of a critical alert only.
  if (level === 3 && severity !== "critical") return undefined;
  const body = event.type === "alert.created" ? TEXTS.alert.created(severity) : TEXTS.alert.escalated(severity);
  return { targets: alertTargets(event, patientId, level), patientId, severity, title: TEXTS.alert.title, body, threshold: level !== 3, voice: level === 3 };
}

export const notificationsOutboxConsumer: EventConsumer = {
  name: "notifications-outbox",
  handles: (type) => type === "reminder.due" || type === "alert.created" || type === "alert.escalated",
  inDatabase(event) {
    const outbox = outboxOf(event);
    if (!outbox) return sql`select 1 from claim where false`;
    if (event.type !== "reminder.due") return outboxInsert(event, outbox);
    // The reminder is sent once its notifications exist (the in-app one is delivered by being
    // written): when the patient has an app to be told on, that is.
    const sent = sql`update reminders r set status = 'sent', updated_at = now()
      where r.organization_id = ${event.organizationId}::uuid and r.id = ${event.subjectId}::uuid and r.status = 'pending'
        and exists (select 1 from claim)
        and exists (select 1 from patients p where p.organization_id = r.organization_id and p.id = r.patient_id and p.user_id is not null)`;
    return [outboxInsert(event, outbox), sent];
  },
  async outside(event, deps) {
    await announce(deps, await eventRows(deps, event));
  },
};

/** This feature's domain-event consumers (EVENT_CONSUMERS in src/features/events/events.consumers.ts lists them). */
export const notificationsConsumers: readonly EventConsumer[] = [notificationsOutboxConsumer];
