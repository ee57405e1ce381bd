import type { JobDefinition, JobMessage } from "#src/jobs/job.ts";
import { queueOfKind } from "#src/jobs/queues.ts";
import { maintenanceJobs } from "#src/jobs/maintenance.ts";
import { authJobs } from "#src/features/auth/auth.jobs.ts";
import { eventJobs } from "#src/features/events/events.jobs.ts";
import { auditJobs } from "#src/features/audit/audit.jobs.ts";
import { remindersJobs } from "#src/features/reminders/reminders.jobs.ts";
import { alertsJobs } from "#src/features/alerts/alerts.jobs.ts";
import { notificationsJobs } from "#src/features/notifications/notifications.jobs.ts";
import { realtimeJobs } from "#src/features/realtime/realtime.jobs.ts";

/** Every job, one line per feature: each feature's `<area>.jobs.ts` says what its jobs are. */
export const JOB_DEFINITIONS = [
  ...maintenanceJobs,
  ...authJobs,
  ...eventJobs,
  ...auditJobs,
  ...remindersJobs,
  ...alertsJobs,
  ...notificationsJobs,
  ...realtimeJobs,
] as const;

type Definition = (typeof JOB_DEFINITIONS)[number];

/** Every message any queue carries. */
export type Job = Definition extends infer D ? (D extends JobDefinition<infer K, infer P> ? JobMessage<K, P> : never) : never;

export type JobRegistry = ReadonlyMap<string, JobDefinition>;

/**
 * Kinds are unique, and each is on the queue src/jobs/queues.ts sends it to: a second definition
 * of one kind, or a queue the producer does not know of, is a mistake caught when the registry loads.
 */
export function jobRegistry(definitions: readonly JobDefinition[]): JobRegistry {
  const registry = new Map<string, JobDefinition>();
  for (const definition of definitions) {
    if (registry.has(definition.kind)) throw new Error(`job kind ${definition.kind} is defined twice`);
    if (queueOfKind(definition.kind) !== definition.queue) {
      throw new Error(`job kind ${definition.kind} is on the ${definition.queue} queue: list it in src/jobs/queues.ts, which sends it to ${queueOfKind(definition.kind)}`);
    }
    registry.set(definition.kind, definition);
  }
  return registry;
}

export const jobs: JobRegistry = jobRegistry(JOB_DEFINITIONS);

