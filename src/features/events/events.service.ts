import { and, eq, isNull, lt, sql } from "drizzle-orm";
import { domainEvents } from "#src/db/schema/index.ts";
import { scoped, systemScope } from "#src/db/scope.ts";
import type { JobDeps } from "#src/jobs/job.ts";

/** Consumers of domain events. The care loop, live updates and webhooks add theirs here. */
export interface EventConsumer {
  name: string;
  handles(type: string): boolean;
  consume(event: { id: string; organizationId: string; type: string; subjectType: string; subjectId: string; payload: unknown }, deps: JobDeps): Promise<void>;
}

export const EVENT_CONSUMERS: EventConsumer[] = [];

/** Runs each consumer once for the event, then marks it dispatched. (Placeholder: refined with the consumers.) */
export async function dispatchEvent(deps: JobDeps, organizationId: string, eventId: string): Promise<void> {
  const scope = scoped(deps.db, organizationId);
  const [event] = await scope.select(domainEvents, eq(domainEvents.id, eventId));
  if (!event || event.dispatchedAt) return;
  for (const consumer of EVENT_CONSUMERS) if (consumer.handles(event.type)) await consumer.consume(event, deps);
  await scope.update(domainEvents, { dispatchedAt: deps.clock.now() }, eq(domainEvents.id, eventId), isNull(domainEvents.dispatchedAt));
}

/** Re-enqueues what was not dispatched within a minute, oldest first, at most 500 a tick. */
export async function sweepUndispatched(deps: JobDeps): Promise<void> {
  const db = systemScope(deps.db, "events.sweep");
  const cutoff = new Date(deps.clock.now().getTime() - 60_000);
  const rows = await db
    .select({ id: domainEvents.id, organizationId: domainEvents.organizationId })
    .from(domainEvents)
    .where(and(isNull(domainEvents.dispatchedAt), lt(domainEvents.createdAt, cutoff)))
    .orderBy(domainEvents.createdAt)
    .limit(500);
  void sql;
  await Promise.all(rows.map((row) => deps.jobs.enqueue({ kind: "events.dispatch", organizationId: row.organizationId, eventId: row.id })));
}
