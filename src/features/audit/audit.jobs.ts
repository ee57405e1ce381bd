import { z } from "zod";
import { sealAuditTrails } from "#src/features/audit/audit.service.ts";
import { defineJob } from "#src/jobs/job.ts";

/**
 * Tamper evidence (Cron → Queue): each tick enqueues one `audit.seal`, whose run seals every
 * organization's next range in one set-based statement. A redelivered tick is one run (its run
 * key); two runs at once seal nothing twice (unique (organization_id, seq), ON CONFLICT DO NOTHING).
 */
export const sealAuditJob = defineJob({
  kind: "audit.seal",
  payload: z.object({ occurrence: z.string().min(1).max(64) }),
  queue: "jobs",
  runKey: (job) => job.occurrence,
  handle: async (_job, deps) => {
    const sealed = await sealAuditTrails(deps);
    if (sealed.seals > 0) deps.logger.log("info", "audit.sealed", sealed);
  },
  scheduled: (occurrence) => ({ occurrence }),
});

export const auditJobs = [sealAuditJob] as const;
