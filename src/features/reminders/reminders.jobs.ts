import { z } from "zod";
import { defineJob, type JobDeps } from "#src/jobs/job.ts";
import { generateDueReminders, markMissedReminders } from "#src/features/reminders/reminders.tick.ts";

/** The tick's instant: its occurrence (so a late delivery still covers its own window), else the clock. */
function tickTime(occurrence: string, deps: JobDeps): Date {
  const at = Date.parse(occurrence);
  return Number.isNaN(at) ? deps.clock.now() : new Date(at);
}

const Tick = z.object({ occurrence: z.string().min(1).max(64) });

/** Each cron tick: the reminders due across every organization, in one statement (reminders.tick.ts). */
export const generateRemindersJob = defineJob({
  kind: "reminders.generate",
  payload: Tick,
  queue: "jobs",
  runKey: (job) => job.occurrence,
  handle: async (job, deps) => {
    await generateDueReminders(deps, tickTime(job.occurrence, deps));
  },
  scheduled: (occurrence) => ({ occurrence }),
});

/** Each cron tick: open reminders past their grace become missed; medication ones open an alert. */
export const markMissedJob = defineJob({
  kind: "reminders.missed",
  payload: Tick,
  queue: "jobs",
  runKey: (job) => job.occurrence,
  handle: async (job, deps) => {
    await markMissedReminders(deps, tickTime(job.occurrence, deps));
  },
  scheduled: (occurrence) => ({ occurrence }),
});

/** This feature's jobs (src/jobs/registry.ts lists every feature's). */
export const remindersJobs = [generateRemindersJob, markMissedJob] as const;
