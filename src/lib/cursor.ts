import { z } from "@hono/zod-openapi";
import { fromBase64Url, toBase64Url, utf8 } from "#src/lib/encoding.ts";
import { ValidationFailed } from "#src/lib/errors.ts";

/**
 * Keyset cursors: the last row's sort key and id, as base64url JSON. A page continues strictly
 * after (sort key, id), so rows inserted between two pages never repeat or skip one. A cursor
 * that does not decode to what its list issued is a 422 on `query.cursor`, never a 500.
 */
export const CURSOR_MAX_LENGTH = 512;

export const CursorQuery = z
  .string()
  .min(1)
  .max(CURSOR_MAX_LENGTH)
  .regex(/^[A-Za-z0-9_-]+$/, "is not a cursor")
  .openapi({ description: "nextCursor from the previous page" });

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export function encodeCursor(position: unknown): string {
  return toBase64Url(utf8(JSON.stringify(position)));
}

/** The position a cursor holds, checked against `schema`; undefined for the first page. */
export function decodeCursor<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(fromBase64Url(cursor)));
  } catch {
    throw invalidCursor();
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidCursor();
  return parsed.data;
}

function invalidCursor() {
  return ValidationFailed([{ path: "query.cursor", message: "is not a cursor this list issued: pass nextCursor back unchanged" }]);
}

/** `limit` as every list takes it: 1–100, default 50. */
export const LimitQuery = z.coerce
  .number()
  .int()
  .min(1)
  .max(100)
  .default(50)
  .openapi({ type: "integer", format: "int32", minimum: 1, maximum: 100 });

/** A page of rows fetched with `limit + 1`: the data, and the cursor past its last row when more remain. */
export function pageOf<Row, Out>(rows: Row[], limit: number, view: (row: Row) => Out, position: (row: Row) => unknown) {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  const nextCursor = rows.length > limit && last !== undefined ? encodeCursor(position(last)) : null;
  return { data: shown.map(view), nextCursor };
}
