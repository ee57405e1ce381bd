import { z } from "@hono/zod-openapi";

/**
 * The one string schema every request field is built from. Postgres cannot store NUL, and other
 * control characters and lone UTF-16 surrogates in a name or token are never meant: refusing
 * them here answers a 422 naming the field instead of letting the database fail with a 500.
 */
function isClean(value: string, allowLineBreaks: boolean): boolean {
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x20 || (unit >= 0x7f && unit <= 0x9f)) {
      if (!(allowLineBreaks && (unit === 0x09 || unit === 0x0a || unit === 0x0d))) return false;
    } else if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** Default upper bounds: every string in the document is bounded (resource exhaustion, OWASP API4). */
export const TEXT_MAX_LENGTH = 1000;
export const LONG_TEXT_MAX_LENGTH = 10_000;

/**
 * A single-line string: no control characters, no lone surrogates, at most `maxLength`. Pass a
 * longer bound here (`text(2048)`): a later `.max()` can only tighten it, never raise it.
 */
/**
 * One instance per shape, shared by every field that uses it: zod schemas are immutable (each
 * `.optional()`, `.min()` or `.openapi()` makes a new one), and building ~200 identical ones was
 * a measurable part of the Worker's startup.
 */
function shared<K, S>(build: (key: K) => S): (key: K) => S {
  const made = new Map<K, S>();
  return (key) => {
    let schema = made.get(key);
    if (schema === undefined) {
      schema = build(key);
      made.set(key, schema);
    }
    return schema;
  };
}

const textOf = shared((maxLength: number) =>
  z
    .string()
    .max(maxLength)
    .refine((value) => isClean(value, false), "must not contain control characters or invalid Unicode"),
);

const longTextOf = shared((maxLength: number) =>
  z
    .string()
    .max(maxLength)
    .refine((value) => isClean(value, true), "must not contain control characters other than tab and newline, or invalid Unicode"),
);

export const text = (maxLength = TEXT_MAX_LENGTH) => textOf(maxLength);

/** Multi-line text (notes, descriptions): tab and newlines allowed, other control characters not. */
export const longText = (maxLength = LONG_TEXT_MAX_LENGTH) => longTextOf(maxLength);

const UUID = z.uuid().max(36);
/**
 * Offsets beyond ±15:59 are valid ISO 8601 but no time zone has them, and Postgres refuses them
 * (22009): they are a 422 on the field here, not a database error.
 */
const OFFSET = /(?:Z|([+-])(\d{2}):?(\d{2}))$/i;
const plausibleOffset = (value: string): boolean => {
  const hours = OFFSET.exec(value)?.[2];
  return hours === undefined || Number(hours) <= 15;
};
const TIMESTAMP = z.iso
  .datetime({ offset: true })
  .max(40)
  .refine((value) => !value.startsWith("0000"), "must be in year 1 or later")
  .refine(plausibleOffset, "has a UTC offset no time zone uses (at most ±15:59)");
const EMAIL = z.email().max(254);

/** A UUID (36 characters), as ids are. */
export const uuid = () => UUID;

/** An ISO 8601 timestamp as the API writes them (`2026-01-31T09:30:00.000Z`). */
export const timestamp = () => TIMESTAMP;

/** An email address as responses carry it (at most 254 characters). */
export const email = () => EMAIL;
