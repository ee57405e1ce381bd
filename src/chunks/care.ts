// The `care` chunk of the deployed bundle (src/routes.ts): medication and check-in schedules, and their reminders.
export { schedulesRouter } from "#src/features/schedules/schedules.index.ts";
export { remindersRouter } from "#src/features/reminders/reminders.index.ts";
