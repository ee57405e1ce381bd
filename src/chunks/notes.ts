// The `notes` chunk of the deployed bundle (src/routes.ts): clinical notes.
export { notesRouter } from "#src/features/notes/notes.index.ts";
