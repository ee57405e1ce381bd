// The `alerts` chunk of the deployed bundle (src/routes.ts): heartbeats, activity and alerts.
export { activityRouter } from "#src/features/activity/activity.index.ts";
export { alertsRouter } from "#src/features/alerts/alerts.index.ts";
