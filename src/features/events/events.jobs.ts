import { z } from "zod";
import { defineJob } from "#src/jobs/job.ts";
import { dispatchEvent, sweepUndispatched } from "#src/features/events/events.service.ts";

/**
 * Delivers one outbox row to its consumers (each once, by event id), then marks it dispatched.
 * Enqueued after commit by publishEvents (src/lib/events.ts) and again by the sweeper.
 */
export const dispatchEventJob = defineJob({
  kind: "events.dispatch",
  payload: z.object({ organizationId: z.uuid(), eventId: z.uuid() }),
  queue: "jobs",
  // Every delivery runs: the consumers' own claims (event_consumptions) make a repeat a no-op,
  // and a retry after a partial failure must reach the consumers that have not had it yet.
  runKey: (job) => `${job.eventId}:${crypto.randomUUID()}`,
  handle: (job, deps) => dispatchEvent(deps, job.organizationId, job.eventId),
});

/** Each cron tick: re-enqueues outbox rows not dispatched within a minute (a lost enqueue, a crash). */
export const sweepEventsJob = defineJob({
  kind: "events.sweep",
  payload: z.object({ occurrence: z.string().min(1).max(64) }),
  queue: "jobs",
  runKey: (job) => job.occurrence,
  handle: async (_job, deps) => {
    await sweepUndispatched(deps);
  },
  scheduled: (occurrence) => ({ occurrence }),
});

export const eventJobs = [dispatchEventJob, sweepEventsJob] as const;
