import { SQL, sql } from "drizzle-orm";
import type { Database } from "#src/db/client.ts";
import { domainEvents } from "#src/db/schema/index.ts";
import type { AuditOrigin } from "#src/lib/audit.ts";
import type { Deps } from "#src/lib/deps.ts";
import { SQL_UUIDV7, uuidv7 } from "#src/lib/ids.ts";
import { enqueueAll } from "#src/platform/ports.ts";

/**
 * Domain events, through a transactional outbox: every change writes its `domain_events` row in
 * the same batch (or statement) as the change; after commit the request enqueues it, and the
 * per-minute sweeper (src/features/events/events.jobs.ts) re-enqueues any row still undispatched
 * a minute later. Consumers are idempotent by event id (`event_consumptions`).
 *
 * The types are SPEC's webhook events; payloads are minimal (ids and states, never PHI: a
 * webhook subscriber or a log line may see them).
 */
export const EVENT_TYPES = [
  "patient.created",
  "patient.updated",
  "appointment.scheduled",
  "appointment.updated",
  "appointment.cancelled",
  "note.signed",
  "alert.created",
  "alert.acknowledged",
  "alert.escalated",
  "alert.resolved",
  "reminder.due",
  "reminder.acknowledged",
  "reminder.missed",
  "schedule.created",
  "schedule.updated",
  "schedule.deleted",
  "calendar.synced",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export type EventPayload = Record<string, string | number | boolean | null | string[]>;

export interface DomainEvent {
  id: string;
  organizationId: string;
  type: EventType;
  subjectType: string;
  subjectId: string;
  payload: EventPayload;
}

/** A new event with its id, so the request knows what to enqueue once the batch commits. */
export function domainEvent(organizationId: string, type: EventType, subject: { type: string; id: string }, payload: EventPayload = {}): DomainEvent {
  return { id: uuidv7(), organizationId, type, subjectType: subject.type, subjectId: subject.id, payload };
}

/** The outbox insert, for the same `db.batch` as the change. */
export function eventInsert(db: Database, origin: AuditOrigin, event: DomainEvent) {
  return db.insert(domainEvents).values({
    id: event.id,
    organizationId: event.organizationId,
    type: event.type,
    subjectType: event.subjectType,
    subjectId: event.subjectId,
    payload: event.payload,
    requestId: origin.requestId,
  });
}

type CteValue = string | SQL;
const uuidValue = (value: CteValue): SQL => (value instanceof SQL ? sql`(${value})::uuid` : sql`${value}::uuid`);

/**
 * The outbox row as `insert … select … from <cte>`, for a data-modifying CTE: written only when
 * the change touched a row, in the same statement. `id` is the event id for a one-row CTE (known
 * beforehand, to enqueue); for a many-row CTE leave it out and select the ids back (`returning`).
 */
export function eventFromCte(
  cte: string,
  origin: AuditOrigin,
  event: { id?: string; organizationId: CteValue; type: EventType; subjectType: string; subjectId: CteValue; payload?: EventPayload | SQL },
): SQL {
  const id = event.id ? sql`${event.id}::uuid` : sql.raw(SQL_UUIDV7);
  const payload = event.payload instanceof SQL ? sql`(${event.payload})::jsonb` : sql`${JSON.stringify(event.payload ?? {})}::jsonb`;
  return sql`insert into domain_events (id, organization_id, type, subject_type, subject_id, payload, request_id)
    select ${id}, ${uuidValue(event.organizationId)}, ${event.type}::text, ${event.subjectType}::text, ${uuidValue(event.subjectId)},
      ${payload}, ${origin.requestId}::text
    from ${sql.raw(cte)}`;
}

/**
 * After commit: enqueues each event for dispatch, after the response (`defer`). A failed enqueue
 * is only logged: the row is in the outbox, and the sweeper sends it within a minute or two. It
 * also marks the caller's write (`deps.writes`, when the deps carry it: a request's always do).
 */
export function publishEvents(
  deps: Pick<Deps, "jobs" | "defer" | "logger"> & { writes?: Deps["writes"] },
  organizationId: string,
  eventIds: readonly string[],
): void {
  if (eventIds.length === 0) return;
  // A change is a write for read-your-writes caches (the dashboard, the clinicians list): the
  // caller's stamp is sent now, before the response leaves, so their next request sees it.
  if (deps.writes) deps.defer(deps.writes.markWrite().catch(() => undefined));
  const sent = Promise.all(eventIds.map((eventId) => deps.jobs.enqueue({ kind: "events.dispatch", organizationId, eventId }))).catch((error: unknown) => {
    deps.logger.log("warn", "events.enqueue_failed", { count: eventIds.length, error: error instanceof Error ? error.name : "unknown" });
  });
  deps.defer(sent);
}

/**
 * After a statement that wrote events for any number of organizations (a cron tick) commits:
 * each goes to dispatch, in batches. Best effort: a lost one is re-sent by the sweeper.
 */
export async function dispatchWritten(deps: Pick<Deps, "jobs" | "logger">, events: readonly { id: string; organization_id: string }[]): Promise<void> {
  try {
    await enqueueAll(
      deps.jobs,
      events.map((event) => ({ kind: "events.dispatch", organizationId: event.organization_id, eventId: event.id })),
    );
  } catch (error) {
    deps.logger.log("warn", "events.enqueue_failed", { count: events.length, error: error instanceof Error ? error.name : "unknown" });
  }
}
