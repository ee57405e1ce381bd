import { ConfigError, type WorkerEnv } from "#src/env.ts";

/**
 * The queues Tend sends jobs to, one per concern, each with the producer binding wrangler.toml
 * gives it. A concern gets its own queue when its first consumer lands: one line here, its
 * `[[queues.producers]]` and `[[queues.consumers]]` in wrangler.toml, and `queue: "<name>"` on
 * its jobs. Every queue's consumer names the one dead-letter queue (DEAD_LETTER_QUEUE).
 */
export const QUEUES = {
  jobs: "JOBS",
  notifications: "NOTIFICATIONS",
} as const;

export type QueueName = keyof typeof QUEUES;

/**
 * The jobs that are not on the `jobs` queue, by kind. The producer reads this rather than the job
 * registry, which imports every job's feature (the registry loads with the first queue batch, not
 * at startup); the registry refuses a definition whose `queue` disagrees with it.
 */
const OFF_THE_JOBS_QUEUE: Readonly<Record<string, QueueName>> = {
  "notifications.deliver": "notifications",
};

/** The queue a job of this kind is sent to. */
export function queueOfKind(kind: string): QueueName {
  return OFF_THE_JOBS_QUEUE[kind] ?? "jobs";
}

const isQueue = (value: unknown): value is Queue =>
  typeof value === "object" && value !== null && "send" in value && typeof value.send === "function";

/** Every queue's producer binding, checked like the others: a missing one is named, not hit later. */
export function queueProducers(env: WorkerEnv): Record<QueueName, Queue> {
  const entries = Object.entries(QUEUES).map(([name, binding]) => [name, env[binding]] as const);
  const missing = entries.filter(([, queue]) => !isQueue(queue)).map(([name]) => QUEUES[name as QueueName]);
  if (missing.length > 0) throw new ConfigError(missing);
  return Object.fromEntries(entries) as Record<QueueName, Queue>;
}
