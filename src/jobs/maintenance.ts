import { lt } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "#src/db/client.ts";
import { idempotencyKeys, jobRuns } from "#src/db/schema/index.ts";
import { defineJob } from "#src/jobs/job.ts";

/** How long the record of a run is kept: well past any redelivery (or abandoned claim). */
export const JOB_RUN_RETENTION_DAYS = 14;

/**
 * Sweeps finished job runs past retention and expired idempotency keys, in one batch (one
 * transaction). Deleting what has expired is idempotent; the runner's claim makes a redelivered
 * occurrence a no-op besides.
 */
export async function sweep(db: Database, now: Date): Promise<void> {
  const cutoff = new Date(now.getTime() - JOB_RUN_RETENTION_DAYS * 86_400_000);
  await db.batch([
    db.delete(jobRuns).where(lt(jobRuns.startedAt, cutoff)),
    db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, now)),
  ]);
}

/** The platform's own housekeeping, on every cron tick. */
export const sweepJob = defineJob({
  kind: "maintenance.sweep",
  payload: z.object({
    /** The cron occurrence (ISO time) this sweep belongs to. */
    occurrence: z.string().min(1).max(64),
  }),
  queue: "jobs",
  runKey: (job) => job.occurrence,
  handle: (_job, deps) => sweep(deps.db, deps.clock.now()),
  scheduled: (occurrence) => ({ occurrence }),
});

export const maintenanceJobs = [sweepJob] as const;
