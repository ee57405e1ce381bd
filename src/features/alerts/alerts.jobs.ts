import { z } from "zod";
import { escalateDueAlerts, scanInactivity } from "#src/features/alerts/alerts.service.ts";
import { defineJob } from "#src/jobs/job.ts";

const Tick = z.object({ occurrence: z.string().min(1).max(64) });

/** Every cron tick: opens an inactivity alert for each patient whose heartbeats stopped (one statement). */
export const inactivityScanJob = defineJob({
  kind: "alerts.inactivity-scan",
  payload: Tick,
  queue: "jobs",
  runKey: (job) => job.occurrence,
  handle: async (_job, deps) => {
    await scanInactivity(deps);
  },
  scheduled: (occurrence) => ({ occurrence }),
});

/** Every cron tick: escalates each unacknowledged high or critical alert that is due, one step (one statement). */
export const escalationJob = defineJob({
  kind: "alerts.escalate",
  payload: Tick,
  queue: "jobs",
  runKey: (job) => job.occurrence,
  handle: async (_job, deps) => {
    await escalateDueAlerts(deps);
  },
  scheduled: (occurrence) => ({ occurrence }),
});

/** This feature's jobs (src/jobs/registry.ts lists every feature's). */
export const alertsJobs = [inactivityScanJob, escalationJob] as const;
