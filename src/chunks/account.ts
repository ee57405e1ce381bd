// The `account` chunk of the deployed bundle (src/routes.ts): what the signed-in person has of their own (profile, preferences, devices, inbox, live updates).
export { meRouter } from "#src/features/me/me.index.ts";
export { preferencesRouter } from "#src/features/preferences/preferences.index.ts";
export { devicesRouter } from "#src/features/devices/devices.index.ts";
export { notificationsRouter } from "#src/features/notifications/notifications.index.ts";
export { realtimeRouter } from "#src/features/realtime/realtime.index.ts";
