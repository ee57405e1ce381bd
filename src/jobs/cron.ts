import type { Jobs } from "#src/platform/ports.ts";

/** Cron only finds work and enqueues it; the queue consumer does it. */
export async function runCron(scheduledTime: number, jobs: Jobs): Promise<void> {
  await jobs.enqueue({ kind: "maintenance.sweep", occurrence: new Date(scheduledTime).toISOString() });
}
