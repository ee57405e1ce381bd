/** This feature's jobs (src/jobs/registry.ts lists every feature's). */
export const alertsJobs = [] as const;
