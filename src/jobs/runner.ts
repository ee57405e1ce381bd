import type { Database } from "#src/db/client.ts";
import type { Job } from "#src/jobs/job.ts";
import { sweep } from "#src/jobs/maintenance.ts";
import type { Logger } from "#src/lib/logger.ts";
import type { Clock } from "#src/platform/ports.ts";

export interface JobDeps {
  db: Database;
  logger: Logger;
  clock: Clock;
}

/** Does one job. Throws to ask for a retry; every job is safe to run again. */
export async function runJob(job: Job, deps: JobDeps): Promise<void> {
  switch (job.kind) {
    case "maintenance.sweep": {
      const claimed = await sweep(deps.db, job.occurrence, deps.clock.now());
      deps.logger.log("info", "job done", { kind: job.kind, duplicate: !claimed });
      return;
    }
  }
}
