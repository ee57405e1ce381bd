/** Audit sealing (Cron → Queue): filled in with the sealing job. */
export const auditJobs = [] as const;
