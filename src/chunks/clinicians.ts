// The `clinicians` chunk of the deployed bundle (src/routes.ts): clinicians: the list, working hours, availability.
export { cliniciansRouter } from "#src/features/clinicians/clinicians.index.ts";
