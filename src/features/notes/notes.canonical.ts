import { type SQL, sql } from "drizzle-orm";
import { sha256Hex } from "#src/lib/encoding.ts";

/**
 * What a signature covers. A signed note's `content_hash` is the SHA-256 (lowercase hex) of its
 * canonical form: compact JSON (no whitespace) of
 * `{appointmentId, authorId, content, format, patientId}` with every object's keys sorted by
 * code point, `content` holding every section of the note's format (empty ones as ""), ids as
 * lowercase UUID strings and `appointmentId` null when the note has none. An addendum's hash is
 * the same over `{authorId, body, noteId}`. Anyone holding the record can recompute it with
 * `canonicalJson` below; the sign statement computes the note's in SQL (`canonicalNoteSql`),
 * and tests/workers/notes-immutability.test.ts holds the two to the same answer.
 */
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** JSON with sorted keys, no whitespace: JSON.stringify escaping, which Postgres's to_json matches for text without control characters (our inputs refuse them). */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as Json)}`).join(",")}}`;
}

export interface CanonicalNote {
  appointmentId: string | null;
  authorId: string;
  content: Record<string, string>;
  format: string;
  patientId: string;
}

export const noteContentHash = (note: CanonicalNote): Promise<string> =>
  sha256Hex(canonicalJson({ ...note, content: { ...note.content } }));

export const addendumContentHash = (addendum: { authorId: string; body: string; noteId: string }): Promise<string> =>
  sha256Hex(canonicalJson({ ...addendum }));

const jsonText = (expression: SQL): SQL => sql`to_json(${expression})::text`;

/**
 * The canonical form of the `progress_notes` row aliased `n`, built in SQL so that signing is one
 * statement. Keys are written in sorted order; `content`'s keys sorted in byte order ("C"),
 * which equals code-point order for the ASCII section names.
 */
export function canonicalNoteSql(alias: string): SQL {
  const n = (column: string) => sql.raw(`${alias}.${column}`);
  return sql`'{"appointmentId":' || coalesce(${jsonText(sql`${n("appointment_id")}::text`)}, 'null')
    || ',"authorId":' || ${jsonText(sql`${n("author_id")}::text`)}
    || ',"content":{' || coalesce((select string_agg(to_json(e.key)::text || ':' || to_json(e.value)::text, ',' order by e.key collate "C")
         from jsonb_each_text(${n("content")}) as e), '') || '}'
    || ',"format":' || ${jsonText(n("format"))}
    || ',"patientId":' || ${jsonText(sql`${n("patient_id")}::text`)} || '}'`;
}

/** The hex SHA-256 of `canonicalNoteSql(alias)`. */
export const noteHashSql = (alias: string): SQL => sql`encode(sha256(convert_to(${canonicalNoteSql(alias)}, 'UTF8')), 'hex')`;
