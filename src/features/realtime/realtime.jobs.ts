import { z } from "zod";
import { defineJob } from "#src/jobs/job.ts";

/**
 * One event to a slice of its recipients' hubs: an event for more people than one invocation
 * should call (LIVE_FANOUT_PER_CALL) is published by several of these. Redelivery is safe: a hub
 * stores an event id once.
 */
export const publishLiveJob = defineJob({
  kind: "realtime.publish",
  payload: z.object({
    organizationId: z.uuid(),
    eventId: z.uuid(),
    type: z.string().min(1).max(64),
    data: z.record(z.string(), z.unknown()),
    userIds: z.array(z.uuid()).min(1).max(100),
  }),
  queue: "jobs",
  runKey: (job) => `${job.eventId}:${job.userIds[0]}`,
  handle: (job, deps) => deps.realtime.publish(job.userIds, { id: job.eventId, type: job.type, organizationId: job.organizationId, data: job.data }),
});

export const realtimeJobs = [publishLiveJob] as const;
