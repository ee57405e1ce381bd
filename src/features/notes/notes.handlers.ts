import type * as routes from "#src/features/notes/notes.routes.ts";
import { addAddendum, createNote, getNote, listPatientNotes, searchNotes, signNote, updateNote } from "#src/features/notes/notes.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import { etagOf } from "#src/lib/etag.ts";
import type { AppHandler } from "#src/lib/route.ts";

const noStore = { "Cache-Control": "no-store" };
const withEtag = (version: number) => ({ ...noStore, ETag: etagOf(version) });

export const list: AppHandler<typeof routes.list> = async (c) => {
  const page = await listPatientNotes(deps(c), c.var.auth, c.req.valid("param").id, c.req.valid("query"));
  return c.json(page, 200, noStore);
};

export const create: AppHandler<typeof routes.create> = async (c) => {
  const note = await createNote(deps(c), c.var.auth, c.req.valid("param").id, c.req.valid("json"));
  return c.json(note, 201, { ...withEtag(note.version), Location: `/api/v1/notes/${note.id}` });
};

export const search: AppHandler<typeof routes.search> = async (c) => {
  const page = await searchNotes(deps(c), c.var.auth, c.req.valid("query"));
  return c.json(page, 200, noStore);
};

export const getOne: AppHandler<typeof routes.getOne> = async (c) => {
  const note = await getNote(deps(c), c.var.auth, c.req.valid("param").id);
  return c.json(note, 200, withEtag(note.version));
};

export const patch: AppHandler<typeof routes.patch> = async (c) => {
  const note = await updateNote(deps(c), c.var.auth, c.req.valid("param").id, c.req.valid("header")["If-Match"], c.req.valid("json"));
  return c.json(note, 200, withEtag(note.version));
};

export const sign: AppHandler<typeof routes.sign> = async (c) => {
  const note = await signNote(deps(c), c.var.auth, c.req.valid("param").id);
  return c.json(note, 200, withEtag(note.version));
};

export const addendum: AppHandler<typeof routes.addAddendum> = async (c) => {
  const added = await addAddendum(deps(c), c.var.auth, c.req.valid("param").id, c.req.valid("json").body);
  return c.json(added, 201, noStore);
};
