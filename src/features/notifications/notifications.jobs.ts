import { z } from "zod";
import { deliverNotification } from "#src/features/notifications/notifications.deliver.ts";
import { sendDailySummaries, sweepNotifications } from "#src/features/notifications/notifications.sweep.ts";
import { defineJob } from "#src/jobs/job.ts";

const Uuid = z.string().regex(/^[0-9a-f-]{36}$/i);

/**
 * Sends one outbox row on its channel. The run key is the row and the not_before it was enqueued
 * for: a redelivery of the same message is one run, and a deferred row's later run is another.
 * The row's own claim (pending -> sending) is what keeps every run from sending twice.
 */
export const deliverJob = defineJob({
  kind: "notifications.deliver",
  queue: "notifications",
  payload: z.object({ organizationId: Uuid, notificationId: Uuid, round: z.string().min(1).max(40) }),
  runKey: (payload) => `${payload.notificationId}:${payload.round}`,
  async handle(payload, deps) {
    await deliverNotification(deps, payload.organizationId, payload.notificationId);
  },
});

/** Every minute: stale sends taken back, due rows (deferred, retried, lost) enqueued again. */
export const sweepJob = defineJob({
  kind: "notifications.sweep",
  queue: "jobs",
  payload: z.object({ occurrence: z.string().min(1).max(40) }),
  runKey: (payload) => payload.occurrence,
  handle: async (_payload, deps) => void (await sweepNotifications(deps)),
  scheduled: (occurrence) => ({ occurrence }),
});

/** Every minute: the daily summaries whose local time has come. */
export const dailySummaryJob = defineJob({
  kind: "notifications.daily",
  queue: "jobs",
  payload: z.object({ occurrence: z.string().min(1).max(40) }),
  runKey: (payload) => payload.occurrence,
  handle: async (_payload, deps) => void (await sendDailySummaries(deps)),
  scheduled: (occurrence) => ({ occurrence }),
});

/** This feature's jobs (src/jobs/registry.ts lists every feature's). */
export const notificationsJobs = [deliverJob, sweepJob, dailySummaryJob] as const;
