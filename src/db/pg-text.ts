/**
 * Postgres text on the wire, as `@neondatabase/serverless` 1.2.0 writes and reads it: parameters
 * serialized as node-postgres does, and text results parsed by type OID with pg-types' parsers
 * plus the overrides drizzle-orm/neon-http installs. Used by src/db/neon-http.ts.
 */

// Parameters: node-postgres's prepareValue (pg/lib/utils.js), then bytes as bytea hex, as the
// driver sends them.

const hex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

const bytesOf = (view: ArrayBufferView): Uint8Array => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

const pad = (value: number, length: number): string => String(value).padStart(length, "0");

/** A Date in local time with its offset, as node-postgres sends it (Workers run in UTC). */
function dateToString(date: Date): string {
  let offset = -date.getTimezoneOffset();
  let year = date.getFullYear();
  const bc = year < 1;
  if (bc) year = Math.abs(year) + 1;
  let text = `${pad(year, 4)}-${pad(date.getMonth() + 1, 2)}-${pad(date.getDate(), 2)}T${pad(date.getHours(), 2)}:${pad(date.getMinutes(), 2)}:${pad(date.getSeconds(), 2)}.${pad(date.getMilliseconds(), 3)}`;
  if (offset < 0) {
    text += "-";
    offset *= -1;
  } else text += "+";
  text += `${pad(Math.floor(offset / 60), 2)}:${pad(offset % 60, 2)}`;
  return bc ? `${text} BC` : text;
}

const escapeElement = (text: string): string => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

function arrayString(values: unknown[]): string {
  const parts = values.map((value) => {
    if (value === null || value === undefined) return "NULL";
    if (Array.isArray(value)) return arrayString(value);
    if (ArrayBuffer.isView(value)) return `\\\\x${hex(bytesOf(value))}`;
    return escapeElement(String(prepare(value)));
  });
  return `{${parts.join(",")}}`;
}

type Prepared = string | Uint8Array | null;

function prepare(value: unknown, seen: unknown[] = []): Prepared {
  if (value === null || value === undefined) return null;
  if (ArrayBuffer.isView(value)) return bytesOf(value);
  if (value instanceof Date) return dateToString(value);
  if (Array.isArray(value)) return arrayString(value);
  if (typeof value === "object") {
    const toPostgres = (value as { toPostgres?: unknown }).toPostgres;
    if (typeof toPostgres !== "function") return JSON.stringify(value);
    if (seen.includes(value)) throw new Error(`circular reference detected while preparing "${String(value)}" for query`);
    seen.push(value);
    return prepare(toPostgres.call(value, prepare), seen);
  }
  return (value as { toString(): string }).toString();
}

/** One parameter as it goes on the wire: text, or null for SQL NULL. */
export function serializeParam(value: unknown): string | null {
  const prepared = prepare(value);
  return prepared instanceof Uint8Array ? `\\x${hex(prepared)}` : prepared;
}

// ---------------------------------------------------------------------------------------------
// Results: pg-types' text parsers (the driver's copy of pg-types 2 and postgres-array 2), with
// the overrides drizzle-orm/neon-http installs (dates, timestamps, intervals and numeric arrays
// stay text, drizzle's columns map them). Any other type stays text, as in pg-types.

/** postgres-array 2's parser, ported as is. */
class ArrayParser {
  position = 0;
  entries: unknown[] = [];
  recorded: string[] = [];
  dimension = 0;

  readonly source: string;
  readonly transform: (text: string) => unknown;

  // No parameter properties: Node's type stripping (scripts run this file) refuses them.
  constructor(source: string, transform: (text: string) => unknown) {
    this.source = source;
    this.transform = transform;
  }

  isEof(): boolean {
    return this.position >= this.source.length;
  }

  nextCharacter(): { value: string; escaped: boolean } {
    const character = this.source[this.position++] ?? "";
    if (character === "\\") return { value: this.source[this.position++] ?? "", escaped: true };
    return { value: character, escaped: false };
  }

  newEntry(includeEmpty = false): void {
    if (this.recorded.length > 0 || includeEmpty) {
      const text = this.recorded.join("");
      this.entries.push(text === "NULL" && !includeEmpty ? null : this.transform(text));
      this.recorded = [];
    }
  }

  consumeDimensions(): void {
    if (this.source[0] !== "[") return;
    while (!this.isEof()) if (this.nextCharacter().value === "=") break;
  }

  parse(nested = false): unknown[] {
    let quote = false;
    this.consumeDimensions();
    while (!this.isEof()) {
      const character = this.nextCharacter();
      if (character.value === "{" && !quote) {
        this.dimension++;
        if (this.dimension > 1) {
          const parser = new ArrayParser(this.source.substring(this.position - 1), this.transform);
          this.entries.push(parser.parse(true));
          this.position += parser.position - 2;
        }
      } else if (character.value === "}" && !quote) {
        this.dimension--;
        if (!this.dimension) {
          this.newEntry();
          if (nested) return this.entries;
        }
      } else if (character.value === '"' && !character.escaped) {
        if (quote) this.newEntry(true);
        quote = !quote;
      } else if (character.value === "," && !quote) {
        this.newEntry();
      } else {
        this.recorded.push(character.value);
      }
    }
    if (this.dimension !== 0) throw new Error("array dimension not balanced");
    return this.entries;
  }
}

export type Parser = (text: string) => unknown;

const arrayOf =
  (element: Parser): Parser =>
  (text) =>
    text ? new ArrayParser(text, element).parse() : null;

const identity: Parser = (text) => text;
const parseBool: Parser = (text) => text === "TRUE" || text === "t" || text === "true" || text === "y" || text === "yes" || text === "on" || text === "1";
const parseInteger: Parser = (text) => Number.parseInt(text, 10);
const parseJson: Parser = (text) => JSON.parse(text);
const parseBigIntegerElement: Parser = (text) => text.trim();
/** bytea, hex or escape format, as bytes (the driver gives its Buffer, a Uint8Array). */
const parseBytea: Parser = (text) => {
  if (text.startsWith("\\x")) {
    const digits = text.slice(2);
    const bytes = new Uint8Array(digits.length >> 1);
    for (let index = 0; index < bytes.length; index++) bytes[index] = Number.parseInt(digits.substring(index * 2, index * 2 + 2), 16);
    return bytes;
  }
  const bytes: number[] = [];
  for (let index = 0; index < text.length; ) {
    if (text[index] !== "\\") {
      bytes.push(text.charCodeAt(index) & 0xff);
      index++;
    } else if (/[0-7]{3}/.test(text.substring(index + 1, index + 4))) {
      bytes.push(Number.parseInt(text.substring(index + 1, index + 4), 8));
      index += 4;
    } else {
      let backslashes = 1;
      while (index + backslashes < text.length && text[index + backslashes] === "\\") backslashes++;
      for (let count = 0; count < Math.floor(backslashes / 2); count++) bytes.push(0x5c);
      index += Math.floor(backslashes / 2) * 2;
    }
  }
  return Uint8Array.from(bytes);
};
const stringArray = arrayOf(identity);
const integerArray = arrayOf(parseInteger);
const floatArray = arrayOf(Number.parseFloat);

/** Parsers by type OID, for text output. */
const PARSERS = new Map<number, Parser>([
  [16, parseBool], // bool
  [20, identity], // int8: text, as pg-types (no precision lost)
  [21, parseInteger], // int2
  [23, parseInteger], // int4
  [26, parseInteger], // oid
  [700, Number.parseFloat], // float4
  [701, Number.parseFloat], // float8
  [17, parseBytea], // bytea
  [1001, arrayOf(parseBytea)], // bytea[]
  [114, parseJson], // json
  [3802, parseJson], // jsonb
  [1000, arrayOf(parseBool)], // bool[]
  [1005, integerArray], // int2[]
  [1007, integerArray], // int4[]
  [1028, integerArray], // oid[]
  [1016, arrayOf(parseBigIntegerElement)], // int8[]
  [1021, floatArray], // float4[]
  [1022, floatArray], // float8[]
  [199, arrayOf(parseJson)], // json[]
  [3807, arrayOf(parseJson)], // jsonb[]
  // Text-like arrays: char, varchar, name, text, macaddr, inet, cidr, numrange, uuid, money, time, timetz.
  ...[1014, 1015, 1003, 1008, 1009, 1040, 1041, 651, 3907, 2951, 791, 1183, 1270].map((oid): [number, Parser] => [oid, stringArray]),
  // drizzle-orm/neon-http's overrides: timestamptz, timestamp, date, interval, numeric[],
  // timestamp[], timestamptz[], interval[], date[] stay text.
  ...[1184, 1114, 1082, 1186, 1231, 1115, 1185, 1187, 1182].map((oid): [number, Parser] => [oid, identity]),
]);

/** The parser for a type OID; text for any type without one. */
export function typeParser(oid: number): Parser {
  return PARSERS.get(oid) ?? identity;
}
