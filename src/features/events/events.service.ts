import { enqueueAll } from "#src/platform/ports.ts";
import { eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { firstRow, rowsOf } from "#src/db/rows.ts";
import { domainEvents, eventConsumptions } from "#src/db/schema/index.ts";
import { scoped, systemScope, type TenantScope } from "#src/db/scope.ts";
import { type DeliveredEvent, EVENT_CONSUMERS, type EventConsumer } from "#src/features/events/events.consumers.ts";
import type { JobDeps } from "#src/jobs/job.ts";

export type { DeliveredEvent, EventConsumer } from "#src/features/events/events.consumers.ts";

/** Past this many deliveries the sweeper leaves an event alone: it waits for an operator. */
export const MAX_DISPATCH_ATTEMPTS = 25;

/** The sweeper re-enqueues what was not dispatched within this long. */
export const SWEEP_AFTER_MS = 60_000;

/** Events re-enqueued per sweep at most, oldest first: each is a queue send (a subrequest). */
export const SWEEP_BATCH = 200;

const EventRow = z.object({
  id: z.string(),
  type: z.string(),
  subject_type: z.string(),
  subject_id: z.string(),
  payload: z.record(z.string(), z.unknown()),
  attempts: z.number().int(),
});

/** Starts a delivery: counts the attempt and reads the event, unless it was dispatched already. */
async function startDelivery(scope: TenantScope, eventId: string): Promise<DeliveredEvent | undefined> {
  const result = await scope.db.execute(sql`
    update domain_events set attempts = attempts + 1
    where organization_id = ${scope.organizationId}::uuid and id = ${eventId}::uuid and dispatched_at is null
    returning id, type, subject_type, subject_id, payload, attempts`);
  const row = firstRow(EventRow, result);
  if (!row) return undefined;
  const { subject_type: subjectType, subject_id: subjectId, ...rest } = row;
  return { ...rest, organizationId: scope.organizationId, subjectType, subjectId };
}

const Claimed = z.object({ claimed: z.boolean() });

/**
 * Claims the event for one consumer and, in the same statement, does its database work; then
 * its outside work, releasing the claim when that fails so the retry runs it again.
 */
async function deliverTo(scope: TenantScope, consumer: EventConsumer, event: DeliveredEvent, deps: JobDeps): Promise<boolean> {
  const statements = consumer.inDatabase ? [consumer.inDatabase(event)].flat() : [];
  const work = sql.join(
    statements.map((statement, index) => sql`, ${sql.raw(`work${index}`)} as (${statement})`),
    sql``,
  );
  const result = await scope.db.execute(sql`
    with claim as (
      insert into event_consumptions (event_id, consumer, organization_id)
      values (${event.id}::uuid, ${consumer.name}, ${scope.organizationId}::uuid)
      on conflict (event_id, consumer) do nothing
      returning event_id, organization_id
    )${work}
    select exists (select 1 from claim) as claimed`);
  if (!firstRow(Claimed, result)?.claimed) return false;
  if (!consumer.outside) return true;
  try {
    await consumer.outside(event, deps);
  } catch (error) {
    await scope
      .delete(eventConsumptions, eq(eventConsumptions.eventId, event.id), eq(eventConsumptions.consumer, consumer.name))
      .catch(() => deps.logger.log("warn", "events.claim_not_released", { consumer: consumer.name }));
    throw error;
  }
  return true;
}

export class ConsumersFailed extends Error {
  readonly consumers: string[];
  constructor(consumers: string[]) {
    super(`event consumers failed: ${consumers.join(", ")}`);
    this.name = "ConsumersFailed";
    this.consumers = consumers;
  }
}

/**
 * Delivers one outbox row: each consumer that handles its type gets it once (its claim), all of
 * them side by side; when every one has it, the row is marked dispatched. A consumer that fails
 * makes the delivery throw (the queue retries with backoff): the retry runs only the consumers
 * whose claim is still free. Deliveries of a dispatched event, or of an unknown one, do nothing.
 */
export async function dispatchEvent(deps: JobDeps, organizationId: string, eventId: string, consumers: readonly EventConsumer[] = EVENT_CONSUMERS): Promise<void> {
  const scope = scoped(deps.db, organizationId);
  const event = await startDelivery(scope, eventId);
  if (!event) return;
  const handling = consumers.filter((consumer) => consumer.handles(event.type));
  const outcomes = await Promise.allSettled(handling.map((consumer) => deliverTo(scope, consumer, event, deps)));
  const failed = handling.filter((_, index) => outcomes[index]?.status === "rejected");
  if (failed.length > 0) {
    deps.logger.log("warn", "events.consumers_failed", { type: event.type, attempts: event.attempts, consumers: failed.map((consumer) => consumer.name).join(",") });
    throw new ConsumersFailed(failed.map((consumer) => consumer.name));
  }
  await scope.update(domainEvents, { dispatchedAt: sql`now()` }, eq(domainEvents.id, eventId), isNull(domainEvents.dispatchedAt));
}

const PendingRow = z.object({ id: z.string(), organization_id: z.string() });

/**
 * Re-enqueues, across organizations (the audited system scope), the events not dispatched within
 * a minute, oldest first: a lost enqueue, a crash before it, a delivery that died. One round trip
 * whatever the backlog (SWEEP_BATCH a tick; the rest on the next ones). Redeliveries are safe:
 * consumers are idempotent by event id.
 */
export async function sweepUndispatched(deps: Pick<JobDeps, "db" | "clock" | "jobs" | "logger">): Promise<number> {
  const db = systemScope(deps.db, "events.sweep");
  const cutoff = new Date(deps.clock.now().getTime() - SWEEP_AFTER_MS);
  const result = await db.execute(sql`
    select id, organization_id from domain_events
    where dispatched_at is null and created_at < ${cutoff.toISOString()}::timestamptz and attempts < ${MAX_DISPATCH_ATTEMPTS}
    order by created_at limit ${SWEEP_BATCH}`);
  const rows = rowsOf(PendingRow, result);
  await enqueueAll(deps.jobs, rows.map((row) => ({ kind: "events.dispatch", organizationId: row.organization_id, eventId: row.id })));
  if (rows.length > 0) deps.logger.log("info", "events.swept", { count: rows.length });
  return rows.length;
}
