import type { JobDefinition, JobMessage } from "#src/jobs/job.ts";
import type { QueueName } from "#src/jobs/queues.ts";
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

/** Kinds are unique: a second definition of one kind is a mistake caught at start-up. */
export function jobRegistry(definitions: readonly JobDefinition[]): JobRegistry {
  const registry = new Map<string, JobDefinition>();
  for (const definition of definitions) {
    if (registry.has(definition.kind)) throw new Error(`job kind ${definition.kind} is defined twice`);
    registry.set(definition.kind, definition);
  }
  return registry;
}

export const jobs: JobRegistry = jobRegistry(JOB_DEFINITIONS);

/** The queue a job is sent to: the one its definition names. */
export function queueOf(job: Job, registry: JobRegistry = jobs): QueueName {
  const definition = registry.get(job.kind);
  if (!definition) throw new Error(`job kind ${job.kind} is not registered`);
  return definition.queue;
}
