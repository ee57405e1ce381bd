/** This feature's jobs (src/jobs/registry.ts lists every feature's). */
export const notificationsJobs = [] as const;
