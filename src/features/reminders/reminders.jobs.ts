/** This feature's jobs (src/jobs/registry.ts lists every feature's). */
export const remindersJobs = [] as const;
