import { z } from "zod";
import { sealAuditTrails } from "#src/features/audit/audit.service.ts";
import { auditEvents } from "#src/db/schema/index.ts";
import { scoped } from "#src/db/scope.ts";
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

/**
 * An audit row recorded through the queue: for a read answered with no SQL at all (a cached
 * dashboard), so the request keeps its 0-round-trip budget and the read is still on record. The
 * row's id is made by the request, so a redelivery inserts nothing twice.
 */
export const recordAuditJob = defineJob({
  kind: "audit.record",
  payload: z.object({
    id: z.uuid(),
    organizationId: z.uuid(),
    actorUserId: z.uuid().nullable(),
    actorApiKeyId: z.uuid().nullable(),
    action: z.string().min(1).max(64),
    targetType: z.string().max(64).nullable(),
    targetId: z.string().max(64).nullable(),
    patientIds: z.array(z.uuid()).max(1000),
    metadata: z.record(z.string(), z.union([z.string().max(100), z.number(), z.boolean(), z.null(), z.array(z.string().max(64)).max(1000)])),
    ip: z.string().max(64).nullable(),
    userAgent: z.string().max(256).nullable(),
    requestId: z.string().max(128),
  }),
  queue: "jobs",
  runKey: (job) => job.id,
  handle: async (job, deps) => {
    const { db } = scoped(deps.db, job.organizationId);
    await db
      .insert(auditEvents)
      .values({
        id: job.id,
        organizationId: job.organizationId,
        actorUserId: job.actorUserId,
        actorApiKeyId: job.actorApiKeyId,
        action: job.action,
        targetType: job.targetType,
        targetId: job.targetId,
        patientIds: job.patientIds,
        metadata: job.metadata,
        ip: job.ip,
        userAgent: job.userAgent,
        requestId: job.requestId,
      })
      .onConflictDoNothing();
  },
});

export const auditJobs = [sealAuditJob, recordAuditJob] as const;
