// The `insight` chunk of the deployed bundle (src/routes.ts): the dashboard and the audit trail.
export { dashboardRouter } from "#src/features/dashboard/dashboard.index.ts";
export { auditRouter } from "#src/features/audit/audit.index.ts";
