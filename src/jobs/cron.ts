import { JOB_DEFINITIONS } from "#src/jobs/registry.ts";
import type { Jobs } from "#src/platform/ports.ts";

/** Cron only finds work and enqueues it: one message per scheduled job, keyed by the tick. */
export async function runCron(scheduledTime: number, jobs: Jobs): Promise<void> {
  const occurrence = new Date(scheduledTime).toISOString();
  await Promise.all(
    JOB_DEFINITIONS.flatMap((definition) => (definition.scheduled ? [jobs.enqueue(definition.scheduled(occurrence))] : [])),
  );
}
