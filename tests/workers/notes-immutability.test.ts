import { env } from "cloudflare:test";
import { eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { noteAddenda, progressNotes } from "#src/db/schema/index.ts";
import { NeonDbError } from "#src/db/neon-errors.ts";
import { canonicalJson, noteContentHash, noteHashSql } from "#src/features/notes/notes.canonical.ts";
import { noteProblemFor } from "#src/features/notes/notes.service.ts";
import { ProblemError } from "#src/lib/errors.ts";
import { insertCaredPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Tenant } from "./fixtures.ts";
import { api, testDb } from "./helpers.ts";

/**
 * Signed means immutable in the database, whoever writes: these statements go straight to the
 * gateway as the tables' owner (no tend_app role, no API), and the triggers still refuse them.
 */
async function asOwner(query: string, params: unknown[] = []): Promise<{ status: number; code?: string }> {
  const response = await fetch(String(env.DATABASE_HTTP_ENDPOINT), {
    method: "POST",
    headers: { "Content-Type": "application/json", "Neon-Connection-String": String(env.DATABASE_URL) },
    body: JSON.stringify({ queries: [{ query: "select set_config('app.scope', 'system', true)", params: [] }, { query, params }] }),
  });
  const body = (await response.json()) as { code?: string };
  return { status: response.status, code: body.code };
}

/** A database failure as the driver raises it. */
const dbError = (code: string, constraint?: string) => Object.assign(new NeonDbError("refused"), { code, constraint });

const TRICKY = {
  subjective: 'Said "I\'m fine" \\ then <script>alert(1)</script>',
  objective: "Line one\nline two\ttabbed — café, 日本語, emoji 🙂, \u2028 separator",
  assessment: "",
  plan: "Follow up / re-check {\"json\": true}",
};

describe("signed notes are immutable in the database", () => {
  let tenant: Tenant;
  let patientId: string;
  let signedId: string;
  let addendumId: string;

  beforeAll(async () => {
    tenant = await createTenant("Immutability Practice");
    patientId = await insertCaredPatient(tenant);
    const { headers } = tenant.members.clinician;
    const created = await api(`/api/v1/patients/${patientId}/notes`, jsonBody({ format: "soap", content: TRICKY }, headers));
    signedId = ((await created.json()) as { id: string }).id;
    expect((await api(`/api/v1/notes/${signedId}/sign`, { method: "POST", headers })).status).toBe(200);
    const added = await api(`/api/v1/notes/${signedId}/addenda`, jsonBody({ body: "Late entry." }, headers));
    addendumId = ((await added.json()) as { id: string }).id;
  });

  const stored = async () => (await testDb().select().from(progressNotes).where(eq(progressNotes.id, signedId)))[0];

  it("refuses the tables' owner an UPDATE of a signed note's content, status or hash (SQLSTATE 55000)", async () => {
    const before = await stored();
    for (const statement of [
      `update progress_notes set content = '{"text":"tampered"}'::jsonb where id = '${signedId}'`,
      `update progress_notes set status = 'draft', signed_at = null, signed_by = null, content_hash = null where id = '${signedId}'`,
      `update progress_notes set content_hash = repeat('0', 64) where id = '${signedId}'`,
    ]) {
      expect(await asOwner(statement)).toEqual({ status: 400, code: "55000" });
    }
    expect(await stored()).toEqual(before);
  });

  it("refuses the owner a DELETE of a signed note", async () => {
    expect(await asOwner(`delete from progress_notes where id = '${signedId}'`)).toEqual({ status: 400, code: "55000" });
    expect(await stored()).toBeDefined();
  });

  it("refuses the app role too, behind the API", async () => {
    const error = await testDb()
      .update(progressNotes)
      .set({ content: { text: "tampered" } })
      .where(eq(progressNotes.id, signedId))
      .then(
        () => undefined,
        (caught: unknown) => caught as { cause?: { code?: string }; code?: string },
      );
    expect(error?.cause?.code ?? error?.code).toBe("55000");
  });

  it("leaves a draft editable (the guard is on signed notes only)", async () => {
    const created = await api(`/api/v1/patients/${patientId}/notes`, jsonBody({ format: "free", content: { text: "draft" } }, tenant.members.clinician.headers));
    const { id } = (await created.json()) as { id: string };
    expect((await asOwner(`update progress_notes set content = '{"text":"edited"}'::jsonb where id = '${id}'`)).status).toBe(200);
    expect((await asOwner(`delete from progress_notes where id = '${id}'`)).status).toBe(200);
  });

  it("keeps addenda append-only: UPDATE and DELETE are refused", async () => {
    expect(await asOwner(`update note_addenda set body = 'rewritten' where id = '${addendumId}'`)).toEqual({ status: 400, code: "42501" });
    expect(await asOwner(`delete from note_addenda where id = '${addendumId}'`)).toEqual({ status: 400, code: "42501" });
    const [row] = await testDb().select().from(noteAddenda).where(eq(noteAddenda.id, addendumId));
    expect(row?.body).toBe("Late entry.");
  });

  it("stores the SHA-256 of the canonical content, which anyone can recompute from the record", async () => {
    const row = await stored();
    expect(row?.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const recomputed = await noteContentHash({
      appointmentId: null,
      authorId: tenant.members.clinician.id,
      content: TRICKY,
      format: "soap",
      patientId,
    });
    expect(row?.contentHash).toBe(recomputed);
    const inSql = await testDb().execute(sql`select ${noteHashSql("n")} as hash from progress_notes n where n.id = ${signedId}`);
    expect(inSql.rows).toEqual([{ hash: recomputed }]);
    expect(canonicalJson({ b: 1, a: { d: "x", c: null } })).toBe('{"a":{"c":null,"d":"x"},"b":1}');
  });

  it("signs each addendum with the SHA-256 of {authorId, body, noteId}", async () => {
    const [row] = await testDb().select().from(noteAddenda).where(eq(noteAddenda.id, addendumId));
    const bytes = new TextEncoder().encode(canonicalJson({ authorId: tenant.members.clinician.id, body: "Late entry.", noteId: signedId }));
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (byte) => byte.toString(16).padStart(2, "0")).join("");
    expect(row?.contentHash).toBe(digest);
  });

  it("maps the trigger's refusal to a 409 and the appointment key's to a 422, wherever drizzle wraps them", () => {
    const signedGuard = noteProblemFor(new Error("wrapped", { cause: dbError("55000") }));
    expect(signedGuard).toBeInstanceOf(ProblemError);
    expect((signedGuard as ProblemError).status).toBe(409);
    const appointment = noteProblemFor(dbError("23503", "progress_notes_appointment_fk")) as ProblemError;
    expect(appointment.status).toBe(422);
    expect(appointment.errors).toEqual([expect.objectContaining({ path: "body.appointmentId" })]);
    expect(noteProblemFor(dbError("23503", "progress_notes_patient_fk"))).toBeUndefined();
    expect(noteProblemFor(new Error("other"))).toBeUndefined();
  });
});
