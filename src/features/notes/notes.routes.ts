import { z } from "@hono/zod-openapi";
import { NOTE_FORMATS, NOTE_STATUSES } from "#src/db/schema/clinical.ts";
import { CursorQuery, LimitQuery } from "#src/lib/cursor.ts";
import { IfMatchHeader } from "#src/lib/etag.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { longText, text, timestamp, uuid } from "#src/lib/text.ts";
import { SEARCH_QUERY_MAX_LENGTH } from "#src/features/notes/notes.search.ts";

const hasText = (content: Record<string, string | undefined>) => Object.values(content).some((value) => value !== undefined && value.trim() !== "");
const EMPTY = { message: "must hold at least one non-empty section" };

const section = () => longText().optional();

export const SoapContentSchema = z
  .strictObject({ subjective: section(), objective: section(), assessment: section(), plan: section() })
  .refine(hasText, EMPTY)
  .openapi("SoapNoteContent");
export const DapContentSchema = z.strictObject({ data: section(), assessment: section(), plan: section() }).refine(hasText, EMPTY).openapi("DapNoteContent");
export const FreeContentSchema = z.strictObject({ text: section() }).refine(hasText, EMPTY).openapi("FreeNoteContent");

const appointmentId = uuid().openapi({ description: "An appointment of the same patient the note records" });

const noteContentVariants = <Extra extends z.ZodRawShape>(extra: Extra) =>
  z.discriminatedUnion("format", [
    z.strictObject({ format: z.literal("soap"), content: SoapContentSchema, ...extra }),
    z.strictObject({ format: z.literal("dap"), content: DapContentSchema, ...extra }),
    z.strictObject({ format: z.literal("free"), content: FreeContentSchema, ...extra }),
  ]);

export const NoteCreateSchema = noteContentVariants({ appointmentId: appointmentId.nullable().optional() }).openapi("NoteCreate");
export const NotePatchSchema = noteContentVariants({
  appointmentId: appointmentId.nullable().optional().openapi({ description: "Omit to keep the link, null to remove it" }),
}).openapi("NotePatch");

export const AddendumCreateSchema = z
  .strictObject({ body: longText().refine((value) => value.trim() !== "", "must not be blank") })
  .openapi("AddendumCreate");

export const AddendumSchema = z
  .object({ id: uuid(), noteId: uuid(), authorId: uuid(), body: longText(), contentHash: text(64), signedAt: timestamp(), createdAt: timestamp() })
  .openapi("NoteAddendum");

const count = (maximum: number) => z.number().int().min(0).max(maximum).openapi({ type: "integer", format: "int32", minimum: 0, maximum });

const noteFields = {
  id: uuid(),
  patientId: uuid(),
  appointmentId: uuid().nullable(),
  authorId: uuid(),
  format: z.enum(NOTE_FORMATS),
  content: z.record(text(20), longText()).openapi({ description: "The format's sections (SOAP, DAP or free text)" }),
  status: z.enum(NOTE_STATUSES),
  signedAt: timestamp().nullable(),
  signedBy: uuid().nullable(),
  contentHash: text(64).nullable().openapi({ description: "SHA-256 (hex) of the canonical content, set when signed" }),
  version: count(2_147_483_647).openapi({ description: "Bumped by every change; the ETag" }),
  createdAt: timestamp(),
  updatedAt: timestamp(),
};

export const NoteSchema = z.object({ ...noteFields, addenda: z.array(AddendumSchema).max(1000) }).openapi("Note");
export const NoteSummarySchema = z.object({ ...noteFields, addendaCount: count(1_000_000) }).openapi("NoteSummary");

const NoteListSchema = z.object({ data: z.array(NoteSummarySchema).max(100), nextCursor: text(512).nullable() }).openapi("NoteList");

const SearchHitSchema = z
  .object({
    note: NoteSummarySchema,
    rank: z.number(),
    snippet: text(4000).openapi({ description: "HTML-escaped text around the matches, each match in <mark>…</mark>: safe to render" }),
    matchedIn: z.array(z.enum(["note", "addendum"])).max(2),
  })
  .openapi("NoteSearchHit");
const SearchResultSchema = z.object({ data: z.array(SearchHitSchema).max(100), nextCursor: text(512).nullable() }).openapi("NoteSearchResult");

const PatientParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });
const NoteParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });

const ListQuery = z.object({
  status: z.enum(NOTE_STATUSES).optional(),
  limit: LimitQuery,
  cursor: CursorQuery.optional(),
});

const SearchQuery = z.object({
  q: text(SEARCH_QUERY_MAX_LENGTH)
    .trim()
    .min(1)
    .openapi({ description: 'Web-search syntax: words, "quoted phrases", -excluded, or', example: '"sleep hygiene" anxiety -medication' }),
  limit: LimitQuery,
  cursor: CursorQuery.optional(),
});

const ETAG_HEADER = { ETag: { schema: { type: "string" as const, maxLength: 12 }, description: "The note's version, for If-Match" } };
const noteResponse = (description: string) => ({ ...jsonResponse(description, NoteSchema), headers: ETAG_HEADER });
const tags: ["Notes"] = ["Notes"];

export const list = defineRoute({
  method: "get",
  path: "/patients/{id}/notes",
  operationId: "listPatientNotes",
  tags,
  summary: "A patient's progress notes, newest first",
  description: "Owners, admins, note-scoped keys and the patient's care-team clinicians. A patient outside the caller's reach is a 404.",
  permission: "notes:read",
  phi: true,
  problems: [404],
  request: { params: PatientParam, query: ListQuery },
  responses: { 200: jsonResponse("A page of notes", NoteListSchema) },
});

export const create = defineRoute({
  method: "post",
  path: "/patients/{id}/notes",
  operationId: "createNote",
  tags,
  summary: "Write a draft note (SOAP, DAP or free text)",
  description: "The caller is its author: a signed-in member, never a key. `appointmentId` must be an appointment of the same patient.",
  permission: "notes:write",
  membersOnly: true,
  create: true,
  phi: true,
  problems: [404],
  request: { params: PatientParam, body: jsonBody(NoteCreateSchema) },
  responses: { 201: noteResponse("The draft") },
});

export const search = defineRoute({
  method: "get",
  path: "/notes/search",
  operationId: "searchNotes",
  tags,
  summary: "Full-text search over notes and their addenda, ranked, with highlighted snippets",
  description:
    "Web-search syntax (quoted phrases, -word, or). Only notes the caller may read are searched, counted or returned. A query that is empty, longer than 200 characters or made only of stop words is a 422.",
  permission: "notes:read",
  phi: true,
  request: { query: SearchQuery },
  responses: { 200: jsonResponse("A page of hits, best first", SearchResultSchema) },
});

export const getOne = defineRoute({
  method: "get",
  path: "/notes/{id}",
  operationId: "getNote",
  tags,
  summary: "A note with its addenda",
  description: "The ETag header carries the version PATCH needs in If-Match.",
  permission: "notes:read",
  phi: true,
  problems: [404],
  request: { params: NoteParam },
  responses: { 200: noteResponse("The note") },
});

export const patch = defineRoute({
  method: "patch",
  path: "/notes/{id}",
  operationId: "updateNote",
  tags,
  summary: "Edit a draft (its author only)",
  description: "Replaces the content (and format). Needs If-Match (428 without, 412 when stale). Another member's draft is a 403; a signed note is a 409: add an addendum.",
  permission: "notes:write",
  membersOnly: true,
  phi: true,
  problems: [404, 409, 412, 428],
  request: { params: NoteParam, headers: IfMatchHeader, body: jsonBody(NotePatchSchema) },
  responses: { 200: noteResponse("The updated draft") },
});

export const sign = defineRoute({
  method: "post",
  path: "/notes/{id}/sign",
  operationId: "signNote",
  tags,
  summary: "Sign a draft (its author only); from then on it cannot change",
  description: "Records the signer, the time and the SHA-256 of the canonical content. Signing twice is a 409.",
  permission: "notes:write",
  membersOnly: true,
  phi: true,
  problems: [404, 409],
  request: { params: NoteParam },
  responses: { 200: noteResponse("The signed note") },
});

export const addAddendum = defineRoute({
  method: "post",
  path: "/notes/{id}/addenda",
  operationId: "addNoteAddendum",
  tags,
  summary: "Append a signed addendum to a signed note",
  description: "Corrections to a signed note are addenda: append-only, each signed by its author. A draft is a 409: edit it instead.",
  permission: "notes:write",
  membersOnly: true,
  create: true,
  phi: true,
  problems: [404, 409],
  request: { params: NoteParam, body: jsonBody(AddendumCreateSchema) },
  responses: { 201: jsonResponse("The addendum", AddendumSchema) },
});
