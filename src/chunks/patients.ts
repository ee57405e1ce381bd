// The `patients` chunk of the deployed bundle (src/routes.ts): patients and their care teams.
export { patientsRouter } from "#src/features/patients/patients.index.ts";
