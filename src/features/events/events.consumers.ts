import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { rowsOf } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import type { JobDeps } from "#src/jobs/job.ts";
import { notificationsConsumers } from "#src/features/notifications/notifications.consumers.ts";
import { realtimeConsumers } from "#src/features/realtime/realtime.consumers.ts";

/** An outbox row as its consumers see it: ids and states only, never PHI. */
export interface DeliveredEvent {
  id: string;
  organizationId: string;
  type: string;
  subjectType: string;
  subjectId: string;
  payload: Record<string, unknown>;
  /** How many deliveries have started, this one included. */
  attempts: number;
}

/**
 * A consumer of domain events: notifications, live updates and webhooks (issue 8) add theirs to
 * EVENT_CONSUMERS below. Each consumer handles an event once, by event id: its delivery claims
 * `(event_id, consumer)` in event_consumptions before anything happens, and a redelivery whose
 * claim finds the row does nothing.
 */
export interface EventConsumer {
  /** Unique and stable: the claim's key. Renaming a consumer makes it see every event anew. */
  readonly name: string;
  handles(type: string): boolean;
  /**
   * Database work, done exactly once: a data-modifying statement run in the claiming statement,
   * over the CTE `claim` (one row when this delivery claimed the event, none otherwise), e.g.
   * `insert into notifications (…) select … from claim`. The claim and the work commit together.
   * Several statements (each its own CTE of the one statement) when the work changes two tables.
   */
  inDatabase?(event: DeliveredEvent): SQL | SQL[];
  /**
   * Work outside the database (KV, a Durable Object, an HTTP call), run after a successful claim.
   * It must be idempotent: when it throws, the claim is released and the delivery retried.
   */
  outside?(event: DeliveredEvent, deps: JobDeps): Promise<void>;
}

const CallerRow = z.object({ caller: z.string() });

/**
 * Callers whose dashboards one event drops at most: each is a KV call, and an invocation's
 * KV operations are bounded (1,000), and a queue batch holds up to 10 events. Past it
 * invalidation is best effort, and the 30 s TTL bounds the rest.
 */
export const DASHBOARD_INVALIDATION_MAX = 50;

/**
 * Dashboards are cached per caller for 30 s (`dashboard:v1:<org>:<userId or apiKeyId>`, see
 * dashboardCacheKey in the dashboard feature); a patient or appointment change drops every
 * cached dashboard of the organization, so other callers see it within seconds rather than at
 * the end of the TTL. (The writer's own entry is the dashboard's business: read-your-writes.)
 * Patients hold no dashboard:read, so theirs are never cached; API keys only with that scope.
 */
export const dashboardCacheConsumer: EventConsumer = {
  name: "dashboard-cache",
  handles: (type) => type.startsWith("patient.") || type.startsWith("appointment."),
  async outside(event, deps) {
    const scope = scoped(deps.db, event.organizationId);
    const result = await scope.db.execute(sql`
      (select user_id::text as caller from memberships
        where organization_id = ${event.organizationId}::uuid and role <> 'patient'
        union all
        select id::text from api_keys
        where organization_id = ${event.organizationId}::uuid and revoked_at is null and 'dashboard:read' = any(scopes))
      order by caller limit ${DASHBOARD_INVALIDATION_MAX}`);
    const callers = rowsOf(CallerRow, result).map((row) => row.caller);
    await Promise.all(callers.map((caller) => deps.cache.delete(`dashboard:v1:${event.organizationId}:${caller}`)));
  },
};

/** Every consumer, in the order their claims are taken. */
export const EVENT_CONSUMERS: readonly EventConsumer[] = [dashboardCacheConsumer, ...notificationsConsumers, ...realtimeConsumers];
