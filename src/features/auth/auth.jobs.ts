import { lt } from "drizzle-orm";
import { z } from "zod";
import { oneTimeTokens } from "#src/db/schema/index.ts";
import { defineJob } from "#src/jobs/job.ts";

/** Expired reset and verification links are kept this long (support questions), then deleted. */
export const ONE_TIME_TOKEN_RETENTION_DAYS = 7;

/** Deletes one-time tokens that expired over a week ago: none of them can be spent any more. */
export const purgeOneTimeTokensJob = defineJob({
  kind: "auth.purge-one-time-tokens",
  payload: z.object({ occurrence: z.string().min(1).max(64) }),
  queue: "jobs",
  runKey: (job) => job.occurrence,
  async handle(_job, deps) {
    const cutoff = new Date(deps.clock.now().getTime() - ONE_TIME_TOKEN_RETENTION_DAYS * 86_400_000);
    await deps.db.delete(oneTimeTokens).where(lt(oneTimeTokens.expiresAt, cutoff));
  },
  scheduled: (occurrence) => ({ occurrence }),
});

export const authJobs = [purgeOneTimeTokensJob] as const;
