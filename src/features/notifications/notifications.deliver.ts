import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { firstRow, rowsOf } from "#src/db/rows.ts";
import { scoped, type TenantScope } from "#src/db/scope.ts";
import { announce, OutboxRow } from "#src/features/notifications/notifications.outbox.ts";
import { phoneOf, quietHoursOf } from "#src/features/notifications/notifications.prefs.ts";
import { QuietHours, quietUntil } from "#src/features/notifications/notifications.quiet.ts";
import { emailText, twimlFor } from "#src/features/notifications/notifications.texts.ts";
import { fallbackInsert } from "#src/features/notifications/notifications.fallback.ts";
import type { JobDeps } from "#src/jobs/job.ts";
import { followsPatient } from "#src/lib/access.ts";
import { RetryLater } from "#src/jobs/runner.ts";
import type { SendOutcome } from "#src/platform/providers.ts";

/** Sends after which a row that still fails for now is failed for good (and its message dead-lettered). */
export const MAX_SEND_ATTEMPTS = 5;

/** The claim is back in the queue's hands: a retryable send failed on its last attempt. */
export class DeliveryExhausted extends Error {
  constructor() {
    super("notification failed after its last attempt");
    this.name = "DeliveryExhausted";
  }
}

const Claimed = z.object({
  id: z.string().nullable(),
  user_id: z.string().nullable(),
  channel: z.string().nullable(),
  kind: z.string().nullable(),
  severity: z.string().nullable(),
  title: z.string().nullable(),
  body: z.string().nullable(),
  attempts: z.number().int().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  quiet: QuietHours.nullable(),
  devices: z.array(z.object({ id: z.string(), token: z.string() })).nullable(),
  /** The row's state before this statement: why nothing was claimed. */
  current: z.string().nullable(),
  suppressed: z.boolean().nullable(),
});
type Row = { [K in keyof z.infer<typeof Claimed>]: NonNullable<z.infer<typeof Claimed>[K]> };

/** The queue's backoff (src/jobs/consumer.ts): 10 s, 20 s, 40 s … capped at 10 minutes. */
const backoffSeconds = (attempts: number): number => Math.min(600, 10 * 2 ** Math.max(0, attempts - 1));

/** Why a row was suppressed: its recipient may no longer be told about the patient. */
export const NOT_FOLLOWING = "recipient no longer follows the patient";

/** A queue message may arrive a moment before the not_before it was delayed to. */
const EARLY_SLACK_MS = 5000;

/**
 * pending -> sending, attempts + 1, in one statement that also reads where and how to send. A row
 * about a patient its recipient no longer follows (taken off the care team, a role change since
 * it was written, deferred by quiet hours or retried meanwhile) is suppressed instead: never sent.
 */
async function claim(scope: TenantScope, id: string, now: Date) {
  const org = sql`${scope.organizationId}::uuid`;
  const result = await scope.db.execute(sql`
    with due as (
      select n.id, n.patient_id is null or ${followsPatient(org, sql`n.patient_id`, sql`n.user_id`)} as entitled
      from notifications n
      where n.organization_id = ${org} and n.id = ${id}::uuid and n.status = 'pending'
        and n.not_before <= ${new Date(now.getTime() + EARLY_SLACK_MS).toISOString()}::timestamptz
    ), claimed as (
      update notifications set status = 'sending', attempts = attempts + 1, claimed_at = ${now.toISOString()}::timestamptz, updated_at = now()
      where organization_id = ${org} and status = 'pending' and id in (select due.id from due where due.entitled)
      returning id, user_id, channel, kind, severity, title, body, attempts
    ), suppressed as (
      update notifications set status = 'suppressed', last_error = ${NOT_FOLLOWING}, updated_at = now()
      where organization_id = ${org} and status = 'pending' and id in (select due.id from due where not due.entitled)
      returning id
    )
    select c.id, c.user_id, c.channel, c.kind, c.severity, c.title, c.body, c.attempts, u.email,
      ${phoneOf(org, sql`c.user_id`)} as phone, ${quietHoursOf(org, sql`c.user_id`)} as quiet,
      (select coalesce(json_agg(json_build_object('id', d.id, 'token', d.token) order by d.last_seen_at desc), '[]'::json)
        from push_devices d where d.user_id = c.user_id) as devices,
      (select status || ':' || coalesce(last_error, '') from notifications where organization_id = ${org} and id = ${id}::uuid) as current,
      exists (select 1 from suppressed) as suppressed
    from (select 1) as one
    left join claimed c on true
    left join users u on u.id = c.user_id`);
  const row = firstRow(Claimed, result);
  return { row: row?.id ? (row as Row) : undefined, current: row?.current ?? null, suppressed: row?.suppressed === true };
}

type Attempt = { outcome: SendOutcome; goneDevices: string[] };

const noAddress = (what: string): Attempt => ({ outcome: { ok: false, permanent: true, error: `no ${what}` }, goneDevices: [] });

/** One provider call for the row's channel (push: the newest device FCM still knows). */
async function send(deps: JobDeps, row: Row): Promise<Attempt> {
  const { providers } = deps;
  const idempotencyKey = row.id;
  if (row.channel === "email") {
    return { outcome: await providers.email.send({ to: row.email, subject: row.title, text: emailText(row.body, deps.config.APP_URL), idempotencyKey }), goneDevices: [] };
  }
  if (row.channel === "sms") return row.phone ? { outcome: await providers.sms.send({ to: row.phone, body: `${row.title}: ${row.body}`, idempotencyKey }), goneDevices: [] } : noAddress("phone");
  if (row.channel === "voice") return row.phone ? { outcome: await providers.voice.call({ to: row.phone, twiml: twimlFor(row.body), idempotencyKey }), goneDevices: [] } : noAddress("phone");
  const goneDevices: string[] = [];
  for (const device of row.devices) {
    const outcome = await providers.push.send({ token: device.token, title: row.title, body: row.body, data: { notificationId: row.id, kind: row.kind }, idempotencyKey });
    if (outcome.ok || !outcome.unregistered) return { outcome, goneDevices };
    goneDevices.push(device.id);
  }
  return { outcome: { ok: false, permanent: true, error: goneDevices.length > 0 ? "fcm unregistered" : "no device" }, goneDevices };
}

/** The claim this run holds: settling touches the row only while it is still ours. */
const ours = (scope: TenantScope, id: string, claimedAt: Date): SQL =>
  sql`organization_id = ${scope.organizationId}::uuid and id = ${id}::uuid and status = 'sending' and claimed_at = ${claimedAt.toISOString()}::timestamptz`;

const dropDevices = (userId: string, ids: string[]): SQL =>
  sql`gone as (delete from push_devices where user_id = ${userId}::uuid and id::text = any(string_to_array(${ids.join(",")}, ',')) returning id)`;

/** Writes the outcome; a permanent failure adds the next channel's row (returned, to enqueue). */
async function settle(scope: TenantScope, row: Row, claimedAt: Date, attempt: Attempt, now: Date): Promise<OutboxRow[]> {
  const { outcome } = attempt;
  const where = ours(scope, row.id, claimedAt);
  const gone = dropDevices(row.user_id, attempt.goneDevices);
  if (outcome.ok) {
    await scope.db.execute(sql`with ${gone}
      update notifications set status = 'sent', sent_at = ${now.toISOString()}::timestamptz, provider_message_id = ${outcome.providerMessageId ?? null},
        last_error = null, updated_at = now() where ${where}`);
    return [];
  }
  const exhausted = !outcome.permanent && row.attempts >= MAX_SEND_ATTEMPTS;
  if (!outcome.permanent && !exhausted) {
    const delay = Math.max(outcome.retryAfterSeconds ?? 0, backoffSeconds(row.attempts));
    await scope.db.execute(sql`with ${gone}
      update notifications set status = 'pending', claimed_at = null, last_error = ${outcome.error},
        not_before = ${new Date(now.getTime() + delay * 1000).toISOString()}::timestamptz, updated_at = now() where ${where}`);
    throw new RetryLater(delay, outcome.error);
  }
  const error = exhausted ? `exhausted: ${outcome.error}` : outcome.error;
  const result = await scope.db.execute(sql`with ${gone},
    failed as (update notifications set status = 'failed', last_error = ${error}, updated_at = now() where ${where} returning *)
    ${fallbackInsert("failed")}`);
  return rowsOf(OutboxRow, result);
}

export type DeliveryResult = "sent" | "deferred" | "failed" | "suppressed" | "skipped";

/**
 * Delivers one outbox row, at most once per channel: the row is claimed (pending -> sending)
 * before the provider is called, so a redelivered or concurrent message finds it taken and does
 * nothing. A row whose recipient no longer follows its patient is suppressed, not sent. Quiet
 * hours (the recipient's zone) defer a non-critical row to their end. A permanent
 * failure fails the row and queues the next channel; a retryable one puts the row back and
 * throws (RetryLater: the queue retries after the backoff or Retry-After), until the last attempt.
 */
export async function deliverNotification(deps: JobDeps, organizationId: string, notificationId: string): Promise<DeliveryResult> {
  const scope = scoped(deps.db, organizationId);
  const now = deps.clock.now();
  const { row, current, suppressed } = await claim(scope, notificationId, now);
  if (suppressed) {
    deps.logger.log("info", "notification suppressed", { notification: notificationId, reason: NOT_FOLLOWING });
    return "suppressed";
  }
  if (!row) {
    // The last attempt's message goes on failing, so the queue parks it in the dead-letter queue.
    if (current?.startsWith("failed:exhausted")) throw new DeliveryExhausted();
    return "skipped";
  }
  const until = row.severity === "critical" ? null : quietUntil(now, row.quiet);
  if (until) {
    await scope.db.execute(sql`update notifications set status = 'pending', claimed_at = null, attempts = attempts - 1,
      not_before = ${until.toISOString()}::timestamptz, updated_at = now() where ${ours(scope, row.id, now)}`);
    return "deferred";
  }
  const attempt = await send(deps, row);
  if (!attempt.outcome.ok) deps.logger.log("warn", "notification not sent", { notification: row.id, channel: row.channel, error: attempt.outcome.error });
  await announce(deps, await settle(scope, row, now, attempt, now));
  if (!attempt.outcome.ok && !attempt.outcome.permanent) throw new DeliveryExhausted();
  return attempt.outcome.ok ? "sent" : "failed";
}
