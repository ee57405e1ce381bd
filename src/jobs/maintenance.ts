import { lt } from "drizzle-orm";
import type { Database } from "#src/db/client.ts";
import { idempotencyKeys, jobRuns } from "#src/db/schema/index.ts";

/** How long the record of a finished occurrence is kept: well past any redelivery. */
export const JOB_RUN_RETENTION_DAYS = 14;

/**
 * Claims the occurrence and sweeps expired job runs and idempotency keys in one batch (one
 * transaction). Sweeping is idempotent, and the claim tells a redelivery apart. Returns whether
 * this call made the claim.
 */
export async function sweep(db: Database, occurrence: string, now: Date): Promise<boolean> {
  const cutoff = new Date(now.getTime() - JOB_RUN_RETENTION_DAYS * 86_400_000);
  const [claimed] = await db.batch([
    db
      .insert(jobRuns)
      .values({ kind: "maintenance.sweep", occurrence })
      .onConflictDoNothing()
      .returning({ occurrence: jobRuns.occurrence }),
    db.delete(jobRuns).where(lt(jobRuns.startedAt, cutoff)),
    db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, now)),
  ]);
  return claimed.length > 0;
}
