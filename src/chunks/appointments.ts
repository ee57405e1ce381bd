// The `appointments` chunk of the deployed bundle (src/routes.ts): appointments.
export { appointmentsRouter } from "#src/features/appointments/appointments.index.ts";
