import { z } from "zod";
import { firstRow, rowsOf } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { addendumContentHash } from "#src/features/notes/notes.canonical.ts";
import {
  AddendumInsertRow,
  AddendumRow,
  ChangeRow,
  CreateRow,
  insertNote,
  ListFlags,
  listNotes,
  NoteDetailRow,
  NoteListRow,
  NoteRow,
  readNote,
} from "#src/features/notes/notes.repo.ts";
import { insertAddendum, signDraft, updateDraft } from "#src/features/notes/notes.changes.repo.ts";
import { renderSnippet, searchStatement } from "#src/features/notes/notes.search.ts";
import { decodeCursor, pageOf } from "#src/lib/cursor.ts";
import type { Deps } from "#src/lib/deps.ts";
import { expectedVersion, PreconditionFailed } from "#src/lib/etag.ts";
import { Conflict, Forbidden, NotFound, ValidationFailed } from "#src/lib/errors.ts";
import { domainEvent, publishEvents } from "#src/lib/events.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import type { AuthContext, SignedInMember } from "#src/middleware/auth.ts";

export type NotesDeps = Pick<Deps, "db" | "origin" | "jobs" | "defer" | "logger">;

type NoteFormat = "soap" | "dap" | "free";
export interface NoteInput {
  format: NoteFormat;
  content: Record<string, string | undefined>;
  appointmentId?: string | null | undefined;
}

/** The sections of each format, in reading order: stored content always holds every one. */
export const SECTIONS = {
  soap: ["subjective", "objective", "assessment", "plan"],
  dap: ["data", "assessment", "plan"],
  free: ["text"],
} as const satisfies Record<NoteFormat, readonly string[]>;

const iso = (value: string | Date): string => new Date(value).toISOString();
const isoOrNull = (value: string | Date | null | undefined): string | null => (value === null || value === undefined ? null : iso(value));

const NOT_FOUND = "No such note.";
const NO_PATIENT = "No such patient.";

/** jsonb keeps keys shortest first; the API shows a format's sections in reading order. */
const inReadingOrder = (format: NoteFormat, content: Record<string, string>): Record<string, string> => ({
  ...Object.fromEntries(SECTIONS[format].map((section) => [section, content[section] ?? ""])),
  ...content,
});

function noteView(row: z.output<typeof NoteRow>) {
  return {
    id: row.id,
    patientId: row.patient_id,
    appointmentId: row.appointment_id,
    authorId: row.author_id,
    format: row.format,
    content: inReadingOrder(row.format, row.content),
    status: row.status,
    signedAt: isoOrNull(row.signed_at),
    signedBy: row.signed_by,
    contentHash: row.content_hash,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export const addendumView = (row: z.output<typeof AddendumRow>) => ({
  id: row.id,
  noteId: row.note_id,
  authorId: row.author_id,
  body: row.body,
  contentHash: row.content_hash,
  signedAt: iso(row.signed_at),
  createdAt: iso(row.created_at),
});

export type NoteView = ReturnType<typeof noteView> & { addenda: ReturnType<typeof addendumView>[] };

interface QueryResult {
  rows: readonly unknown[];
}

/** The note a statement returned, once its flags say it holds one. */
function noteOf(result: QueryResult) {
  const row = firstRow(NoteRow, result);
  if (!row) throw new Error("a note statement returned no row");
  return row;
}

/** Every section of the format, empty ones as "": what is stored and what the signature covers. */
export function normalizedContent(input: NoteInput): Record<string, string> {
  return Object.fromEntries(SECTIONS[input.format].map((section) => [section, input.content[section] ?? ""]));
}

const badAppointment = () =>
  ValidationFailed([{ path: "body.appointmentId", message: "is not an appointment of this patient in your organization" }]);

/**
 * The database's refusals this feature can meet, as the caller's problems: the statements check
 * first, and these are the net under them (a signed note's trigger, 55000; the composite
 * appointment key, 23503). Anything else goes on to the app's error path.
 */
export function noteProblemFor(error: unknown): Error | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const fields = current as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (fields.code === "55000") return Conflict("The note is signed and cannot change: add an addendum instead.");
    if (fields.code === "23503" && fields.constraint === "progress_notes_appointment_fk") return badAppointment();
    current = fields.cause;
  }
  return undefined;
}

async function run<T>(statement: Promise<T>): Promise<T> {
  try {
    return await statement;
  } catch (error) {
    throw noteProblemFor(error) ?? error;
  }
}

export async function getNote(deps: NotesDeps, auth: AuthContext, id: string): Promise<NoteView> {
  const result = await run(readNote(scoped(deps.db, auth.organizationId), deps.origin, auth, id));
  const row = firstRow(NoteDetailRow, result);
  if (!row?.visible || !row.id) throw NotFound(NOT_FOUND);
  return { ...noteView(noteOf(result)), addenda: (row.addenda ?? []).map(addendumView) };
}

export async function listPatientNotes(
  deps: NotesDeps,
  auth: AuthContext,
  patientId: string,
  query: { status?: "draft" | "signed" | undefined; limit: number; cursor?: string | undefined },
) {
  const after = decodeCursor(query.cursor, z.object({ id: z.uuid() }));
  const result = await run(listNotes(scoped(deps.db, auth.organizationId), deps.origin, auth, { patientId, status: query.status, limit: query.limit, afterId: after?.id }));
  if (!firstRow(ListFlags, result)?.visible) throw NotFound(NO_PATIENT);
  const notes = rowsOf(NoteListRow, { rows: notesIn(result) });
  return pageOf(notes, query.limit, (row) => ({ ...noteView(row), addendaCount: row.addenda_count }), (row) => ({ id: row.id }));
}

export async function createNote(deps: NotesDeps, auth: SignedInMember, patientId: string, input: NoteInput): Promise<NoteView> {
  const scope = scoped(deps.db, auth.organizationId);
  const id = uuidv7();
  const content = normalizedContent(input);
  const result = await run(insertNote(scope, deps.origin, auth, { id, patientId, format: input.format, content, appointmentId: input.appointmentId ?? null }));
  const row = firstRow(CreateRow, result);
  if (!row?.visible) throw NotFound(NO_PATIENT);
  if (!row.appointment_ok) throw badAppointment();
  return { ...noteView(noteOf(result)), addenda: [] };
}

/** Why a change statement touched nothing, as the caller's problem. */
function refusal(row: z.output<typeof ChangeRow> | undefined, userId: string, version?: number): Error {
  if (!row?.visible) return NotFound(NOT_FOUND);
  if (row.author_id_current !== userId) return Forbidden("Only the note's author may change or sign it.");
  if (row.status_current !== "draft") return Conflict(`The note is ${row.status_current ?? "not a draft"}: a signed note cannot change; add an addendum instead.`);
  if (version !== undefined && row.version_current !== version) return PreconditionFailed();
  if (!row.appointment_ok) return badAppointment();
  // The note moved on between the statement's snapshot and its update (a concurrent edit or signature).
  return PreconditionFailed();
}

export async function updateNote(deps: NotesDeps, auth: SignedInMember, id: string, ifMatch: string | undefined, input: NoteInput): Promise<NoteView> {
  const version = expectedVersion(ifMatch);
  const content = normalizedContent(input);
  const result = await run(
    updateDraft(scoped(deps.db, auth.organizationId), deps.origin, auth, { id, version, format: input.format, content, appointmentId: input.appointmentId }),
  );
  const row = firstRow(ChangeRow, result);
  if (!row?.id) throw refusal(row, auth.userId, version);
  return { ...noteView(noteOf(result)), addenda: [] };
}

export async function signNote(deps: NotesDeps, auth: SignedInMember, id: string): Promise<NoteView> {
  const event = domainEvent(auth.organizationId, "note.signed", { type: "note", id });
  const result = await run(signDraft(scoped(deps.db, auth.organizationId), deps.origin, auth, { id, eventId: event.id }));
  const row = firstRow(ChangeRow, result);
  if (!row?.id) throw refusal(row, auth.userId);
  publishEvents(deps, auth.organizationId, [event.id]);
  return { ...noteView(noteOf(result)), addenda: [] };
}

export async function addAddendum(deps: NotesDeps, auth: SignedInMember, noteId: string, body: string) {
  const id = uuidv7();
  const contentHash = await addendumContentHash({ authorId: auth.userId, body, noteId });
  const event = domainEvent(auth.organizationId, "note.signed", { type: "note", id: noteId });
  const result = await run(insertAddendum(scoped(deps.db, auth.organizationId), deps.origin, auth, { id, noteId, body, contentHash, eventId: event.id }));
  const row = firstRow(AddendumInsertRow, result);
  if (!row?.visible) throw NotFound(NOT_FOUND);
  if (!row.id) throw Conflict(`The note is ${row.status_current ?? "not signed"}: only a signed note takes addenda; edit the draft instead.`);
  publishEvents(deps, auth.organizationId, [event.id]);
  const added = firstRow(AddendumRow, result);
  if (!added) throw new Error("an addendum insert returned no row");
  return addendumView(added);
}

const SearchRow = NoteListRow.extend({
  in_note: z.boolean(),
  rank: z.number(),
  note_headline: z.string().nullable(),
  addendum_headline: z.string().nullable(),
});

/** The rows of a left-joined statement that hold a note (the flags row alone holds a null id). */
const notesIn = (result: QueryResult) => result.rows.filter((row) => (row as { id?: unknown }).id !== null);

const SearchCursor = z.object({ rank: z.number(), id: z.uuid() });

export async function searchNotes(deps: NotesDeps, auth: AuthContext, query: { q: string; limit: number; cursor?: string | undefined }) {
  const after = decodeCursor(query.cursor, SearchCursor);
  const scope = scoped(deps.db, auth.organizationId);
  const result = await run(scope.db.execute(searchStatement(scope, deps.origin, auth, { q: query.q, limit: query.limit, after })));
  if (!firstRow(z.object({ searchable: z.boolean() }), result)?.searchable) {
    throw ValidationFailed([{ path: "query.q", message: "holds no word to look for (only stop words, punctuation or -excluded words)" }]);
  }
  const hits = rowsOf(SearchRow, { rows: notesIn(result) });
  return pageOf(
    hits,
    query.limit,
    (row) => ({
      note: { ...noteView(row), addendaCount: row.addenda_count },
      rank: row.rank,
      snippet: renderSnippet(row.note_headline ?? row.addendum_headline ?? ""),
      matchedIn: [...(row.in_note ? (["note"] as const) : []), ...(row.addendum_headline !== null ? (["addendum"] as const) : [])],
    }),
    (row) => ({ rank: row.rank, id: row.id }),
  );
}
