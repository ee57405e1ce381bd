/**
 * The schema-driven fuzzer behind tests/workers/fuzz.test.ts: reads the app's OpenAPI document
 * and turns every operation into malformed requests. Pure (no workerd imports): a seeded PRNG in,
 * request descriptions out, so one seed replays the same requests.
 */

export type Rng = () => number;

/** mulberry32: a tiny 32-bit PRNG, enough to replay a run from its seed. */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A v4-shaped uuid drawn from `rng`, so a replay sends the same ids. */
export function rngUuid(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rng() * 16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const chance = (rng: Rng, p: number) => rng() < p;

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  example?: unknown;
  default?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
}

interface ParameterObject {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: JsonSchema;
}

interface OperationObject {
  parameters?: ParameterObject[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  security?: Record<string, string[]>[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface Operation {
  method: string;
  /** The templated path, e.g. /api/v1/members/{userId}. */
  path: string;
  parameters: ParameterObject[];
  body: JsonSchema | undefined;
  secured: boolean;
  /** Every method the document declares on this path. */
  methodsOnPath: string[];
}

const METHODS = ["get", "post", "put", "patch", "delete"];

function deref(schema: JsonSchema | undefined, doc: OpenApiDocument, depth = 0): JsonSchema | undefined {
  if (!schema || depth > 20) return schema;
  if (schema.$ref) {
    const name = schema.$ref.replace("#/components/schemas/", "");
    return deref(doc.components?.schemas?.[name], doc, depth + 1);
  }
  const out: JsonSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([key, value]) => [key, deref(value, doc, depth + 1) ?? {}]));
  }
  if (schema.items) out.items = deref(schema.items, doc, depth + 1);
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    if (schema[key]) out[key] = schema[key].map((entry) => deref(entry, doc, depth + 1) ?? {});
  }
  return out;
}

/** Every operation in the document, its $refs resolved. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => {
    const methodsOnPath = Object.keys(item).filter((method) => METHODS.includes(method));
    return methodsOnPath.map((method) => {
      const operation = item[method] as OperationObject;
      return {
        method: method.toUpperCase(),
        path,
        parameters: operation.parameters ?? [],
        body: deref(operation.requestBody?.content?.["application/json"]?.schema, doc),
        secured: (operation.security ?? []).length > 0,
        methodsOnPath: methodsOnPath.map((entry) => entry.toUpperCase()),
      };
    });
  });
}

/** What the run knows about the tenant it fuzzes: real ids, so some requests reach real rows. */
export interface FuzzContext {
  organizationId: string;
  memberIds: string[];
  /** Every member's access token, the owner's first. */
  tokens: string[];
  apiKey: string | undefined;
  apiKeyId: string | undefined;
  password: string;
}

export interface FuzzRequest {
  index: number;
  operation: string;
  mutation: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Hostile values

const HUGE = 100_000;

const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\uD800",
  "\uDFFF",
  "x\uDBFFy",
  "\u202Eevil\u202C.exe",
  "\u200F\u200E\u2066\u2069",
  "🌿🧪👩🏽‍⚕️🏳️‍🌈",
  "e\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308".repeat(40),
  "Z\u0337\u0327\u031B\u0316\u032Fa\u0338l\u0336g\u0335o",
  "\uFEFFbom",
  "zero\u200Bwidth",
  "\u2028\u2029",
  "line\r\nbreak",
  "tab\there",
  "\u001B[31mred",
  "\u007F\u0085\u009F",
  "\uFFFE\uFFFF",
  "𝕳𝖊𝖑𝖑𝖔",
  "١٢٣٤٥٦",
  "１２３４５６",
  "12345\u0666",
  "'; drop table users; --",
  "\" or \"1\"=\"1",
  "<script>alert(1)</script>",
  "../../../../etc/passwd",
  "%00%2F%2e%2e",
  "{{7*7}}${7*7}",
  "\\u0000\\ud800",
  "null",
  "A".repeat(HUGE),
  "ü".repeat(HUGE / 2),
  "🌿".repeat(HUGE / 4),
  "\u0301".repeat(HUGE / 10),
  "\u0000".repeat(1000),
];

/** Byte sequences no UTF-8 decoder should accept: overlong forms, stray continuations, 0xFF. */
const BAD_UTF8: readonly number[][] = [
  [0xc0, 0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xf0, 0x80, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xff, 0xfe],
  [0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc3],
];

const WRONG_TYPES: readonly unknown[] = [
  0,
  -1,
  1.5,
  1e308,
  Number.MIN_SAFE_INTEGER,
  true,
  false,
  null,
  [],
  ["a"],
  {},
  { nested: { deeper: [1, 2, 3] } },
  "",
  "string",
  [null],
  [[]],
];

const HOSTILE_IDS: readonly string[] = [
  "not-a-uuid",
  "123",
  "0",
  "-1",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "{0193a7e0-0000-7000-8000-000000000000}",
  "0193A7E0-0000-7000-8000-00000000000G",
  "0193a7e000007000800000000000000",
  "x".repeat(10_000),
  "9".repeat(2000),
  "..",
  "..%2F..%2Fadmin",
  "%2e%2e%2f",
  "a%2Fb",
  "%2F",
  "%00",
  "%ff",
  "%zz",
  "%",
  "%E2%80%AE",
  "%F0%9F%8C%BF",
  "%C0%AF",
  "%uD800",
  "ü",
  "%20",
  "'%20or%201=1--",
  "null",
  "undefined",
  "__proto__",
];

const BAD_LIMITS: readonly string[] = [
  "-1",
  "0",
  "101",
  "100000000000000000000000",
  "1e2",
  "1.5",
  "abc",
  "",
  "0x10",
  "%205",
  "5%20",
  "NaN",
  "Infinity",
  "-0",
  "%00",
  "%ff",
  "%zz",
  "１０",
  "9".repeat(5000),
];

const BAD_CURSORS: readonly string[] = [
  "not-a-uuid",
  "",
  "x".repeat(5000),
  "%ff",
  "%zz",
  "%00",
  "00000000-0000-0000-0000-000000000000",
  "'%20or%201=1--",
  "%F0%9F%8C%BF",
  "eyJpZCI6MX0",
  "..%2F",
];

/** Appended to a real path: trailing slashes, dot segments, encoded separators, extensions. */
const PATH_SHAPES: readonly string[] = [
  "/",
  "//",
  "/.",
  "/..",
  "/../..",
  "/%2e%2e",
  "%2F",
  "%2f..%2f",
  "%00",
  "%ff",
  "%zz",
  ";jsessionid=1",
  ".json",
  "~",
  "/extra",
  "/%20",
  "/🌿",
  "%E2%80%AE",
  "\\",
  "/x".repeat(2000),
];

const CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined,
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/jsonx",
  "application/json; charset=utf-16",
  "application/json; charset=latin1",
  "APPLICATION/JSON",
  "application/json-patch+json",
  "application/merge-patch+json",
  "json",
  "*/*",
  "",
  ";",
];

const INVALID_JSON: readonly string[] = [
  "{",
  "}",
  '{"a":}',
  '{"a":1,}',
  "{'a':1}",
  "{a:1}",
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":undefined}',
  '{"a":1} // comment',
  '{"a":1}{"b":2}',
  '{"a":"\\x41"}',
  '{"a":"\\ud800"}',
  '{"a":"unterminated}',
  '{"a":01}',
  '{"a":.5}',
  "\uFEFF{}",
  "undefined",
  "[",
  '"',
  "nul",
  "tru",
  "\u0000",
  " ",
  "{}}",
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
];

// ---------------------------------------------------------------------------------------------
// Valid values from schemas

function schemaType(schema: JsonSchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((type) => type !== "null");
  if (schema.type) return schema.type;
  if (schema.properties) return "object";
  return undefined;
}

function validString(schema: JsonSchema, key: string, context: FuzzContext, rng: Rng): string {
  if (schema.format === "uuid") {
    if (/organization/i.test(key)) return context.organizationId;
    return chance(rng, 0.5) ? pick(rng, context.memberIds) : rngUuid(rng);
  }
  if (schema.format === "email") return `fuzz-${Math.floor(rng() * 1e9)}@example.test`;
  if (/password/i.test(key)) return context.password;
  if (schema.example !== undefined && typeof schema.example === "string") return schema.example;
  if (schema.pattern) return fromPattern(schema.pattern, rng);
  if (/timezone/i.test(key)) return pick(rng, ["Europe/Berlin", "UTC", "America/New_York"]);
  if (/locale/i.test(key)) return pick(rng, ["en", "de-DE", "fr-CA"]);
  const length = Math.max(schema.minLength ?? 0, 20);
  return "fuzz".padEnd(Math.min(length, schema.maxLength ?? length), "z");
}

/** A value that should pass `schema` (best effort: patterns without examples may not). */
export function validValue(schema: JsonSchema | undefined, key: string, context: FuzzContext, rng: Rng): unknown {
  if (!schema) return "fuzz";
  if (schema.enum && schema.enum.length > 0) return pick(rng, schema.enum);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants && variants.length > 0) return validValue(pick(rng, variants), key, context, rng);
  if (schema.allOf) {
    const merged: JsonSchema = { type: "object", properties: {}, required: [] };
    for (const part of schema.allOf) {
      Object.assign(merged.properties as object, part.properties);
      merged.required?.push(...(part.required ?? []));
    }
    return validValue(merged, key, context, rng);
  }
  switch (schemaType(schema)) {
    case "string":
      return validString(schema, key, context, rng);
    case "integer":
    case "number":
      return schema.default ?? schema.minimum ?? 1;
    case "boolean":
      return chance(rng, 0.5);
    case "array":
      return Array.from({ length: Math.max(schema.minItems ?? 0, 1) }, () => validValue(schema.items, key, context, rng));
    case "object": {
      const required = new Set(schema.required ?? []);
      const entries = Object.entries(schema.properties ?? {}).filter(([name]) => required.has(name) || chance(rng, 0.6));
      return Object.fromEntries(entries.map(([name, property]) => [name, validValue(property, name, context, rng)]));
    }
    default:
      return "fuzz";
  }
}

// ---------------------------------------------------------------------------------------------
// Edge values: what a field's schema allows, or just misses

/** A random string matching a simple regular expression (classes, groups, alternation, quantifiers). */
export function fromPattern(pattern: string, rng: Rng): string {
  let position = 0;
  const source = pattern.replace(/^\^/, "").replace(/\$$/, "");
  const DIGITS = "0123456789";
  const WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
  function classAt(): string {
    let chars = "";
    position++;
    while (position < source.length && source[position] !== "]") {
      let char = source[position++] as string;
      if (char === "\\") {
        const escaped = source[position++] as string;
        char = escaped === "d" ? DIGITS : escaped === "w" ? WORD : escaped === "x" ? String.fromCharCode(Number.parseInt(source.slice(position, (position += 2)), 16)) : escaped;
      }
      if (source[position] === "-" && source[position + 1] !== "]") {
        position++;
        let end = source[position++] as string;
        if (end === "\\") end = source[position] === "x" ? String.fromCharCode(Number.parseInt(source.slice(position + 1, (position += 3)), 16)) : (source[position++] as string);
        for (let code = char.charCodeAt(0); code <= end.charCodeAt(0); code++) chars += String.fromCharCode(code);
      } else chars += char;
    }
    position++;
    return chars;
  }
  function atom(): () => string {
    const char = source[position] as string;
    if (char === "(") {
      position++;
      if (source.startsWith("?:", position)) position += 2;
      const alternatives = sequence();
      position++;
      return alternatives;
    }
    if (char === "[") {
      const chars = classAt();
      return () => pick(rng, [...chars]);
    }
    position++;
    if (char === "\\") {
      const escaped = source[position++] as string;
      if (escaped === "d") return () => pick(rng, [...DIGITS]);
      if (escaped === "w") return () => pick(rng, [...WORD]);
      return () => escaped;
    }
    if (char === ".") return () => pick(rng, [...WORD]);
    return () => char;
  }
  function quantified(): () => string {
    const make = atom();
    const next = source[position];
    let min = 1;
    let max = 1;
    if (next === "?") [min, max, position] = [0, 1, position + 1];
    else if (next === "*") [min, max, position] = [0, 4, position + 1];
    else if (next === "+") [min, max, position] = [1, 4, position + 1];
    else if (next === "{") {
      const close = source.indexOf("}", position);
      const [low = "1", high] = source.slice(position + 1, close).split(",");
      min = Number(low);
      max = high === undefined ? min : high === "" ? min + 4 : Number(high);
      position = close + 1;
    }
    return () => {
      const count = min + Math.floor(rng() * (Math.min(max, min + 8) - min + 1));
      return Array.from({ length: count }, make).join("");
    };
  }
  function sequence(): () => string {
    const branches: (() => string)[][] = [[]];
    while (position < source.length && source[position] !== ")") {
      if (source[position] === "|") {
        position++;
        branches.push([]);
      } else branches.at(-1)?.push(quantified());
    }
    return () => pick(rng, branches).map((make) => make()).join("");
  }
  return sequence()();
}

const EDGE_EMAILS: readonly string[] = [
  "a@b.co",
  `${"a".repeat(64)}@${"b".repeat(180)}.test`,
  "UPPER@EXAMPLE.TEST",
  "a+tag@example.test",
  "\"quoted\"@example.test",
  "ü@exämple.test",
  "a@[127.0.0.1]",
  "a..b@example.test",
  ".a@example.test",
  "a@example",
  "a@-example.test",
  "a@example.test.",
  " a@example.test",
  "a@example.test ",
  "@example.test",
  "a@",
];

/** The schema of the value at `path` inside `schema`, when it can be told. */
function schemaAt(schema: JsonSchema | undefined, path: string[]): JsonSchema | undefined {
  let node = schema;
  for (const key of path) {
    if (!node) return undefined;
    const variants = node.anyOf ?? node.oneOf;
    if (variants) node = variants.find((variant) => variant.properties?.[key] ?? variant.items);
    node = node?.properties?.[key] ?? node?.items;
  }
  return node;
}

/** Values at or just past what `schema` allows: boundary lengths, pattern-shaped nonsense, case games. */
function edgeValue(schema: JsonSchema | undefined, context: FuzzContext, rng: Rng): unknown {
  const variants = schema?.anyOf ?? schema?.oneOf;
  const node = variants ? pick(rng, variants) : schema;
  const options: (() => unknown)[] = [
    () => pick(rng, context.tokens),
    () => context.apiKey ?? "tend_x",
    () => context.organizationId,
    () => pick(rng, context.memberIds),
  ];
  if (node?.pattern) options.push(() => fromPattern(node.pattern as string, rng), () => fromPattern(node.pattern as string, rng), () => `${fromPattern(node.pattern as string, rng)}\n`);
  if (node?.maxLength !== undefined) {
    const max = node.maxLength;
    options.push(
      () => "a".repeat(max),
      () => "a".repeat(max + 1),
      () => "ü".repeat(max),
      () => "🌿".repeat(Math.floor(max / 2)),
      () => "🌿".repeat(max),
      () => "ﷺ".repeat(max),
      () => "e\u0301".repeat(Math.floor(max / 2)),
    );
  }
  if (node?.minLength !== undefined && node.minLength > 0) options.push(() => "a".repeat(node.minLength as number - 1), () => " ".repeat(node.minLength as number));
  if (node?.format === "email") options.push(() => pick(rng, EDGE_EMAILS), () => pick(rng, EDGE_EMAILS));
  if (node?.format === "uuid") options.push(() => rngUuid(rng).toUpperCase(), () => `${rngUuid(rng)} `, () => "00000000-0000-0000-0000-000000000000");
  if (node?.enum) {
    const value = String(pick(rng, node.enum));
    options.push(() => value.toUpperCase(), () => ` ${value}`, () => `${value}\u0000`, () => [value], () => node.enum);
  }
  if (node?.minimum !== undefined) options.push(() => (node.minimum as number) - 1, () => (node.minimum as number) - 0.5);
  if (node?.maximum !== undefined) options.push(() => (node.maximum as number) + 1, () => Number.MAX_SAFE_INTEGER);
  if (schemaType(node ?? {}) === "boolean") options.push(() => "true", () => 1, () => "yes");
  return pick(rng, options)();
}

// ---------------------------------------------------------------------------------------------
// Mutations

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Body = { text: string; bytes?: Uint8Array; contentType?: string };

/** Paths to the values inside a JSON value that are not objects or arrays. */
function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== "object") return prefix.length > 0 ? [prefix] : [];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}

/** Paths ("a", "a.b", "a.0") to every value inside a JSON value. */
function fieldPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== "object") return prefix.length > 0 ? [prefix] : [];
  const own = prefix.length > 0 ? [prefix] : [];
  const children = Object.entries(value).flatMap(([key, child]) => fieldPaths(child, [...prefix, key]));
  return [...own, ...children];
}

function setAt(root: Json, path: string[], value: Json): Json {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string, Json>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, Json>;
  node[path.at(-1) as string] = value;
  return copy;
}

function deleteAt(root: Json, path: string[]): Json {
  const copy = structuredClone(root) as Record<string, Json>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, Json>;
  delete node[path.at(-1) as string];
  return copy;
}

const json = (value: unknown): Body => ({ text: JSON.stringify(value) });

function deepNesting(rng: Rng, levels: number): string {
  return chance(rng, 0.5) ? `${"[".repeat(levels)}${"]".repeat(levels)}` : `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
}

function withRawBytes(base: Json, rng: Rng): Body {
  const marker = "@@RAW@@";
  const paths = fieldPaths(base);
  const path = paths.length > 0 ? pick(rng, paths) : [];
  const text = JSON.stringify(path.length > 0 ? setAt(base, path, `a${marker}b`) : { field: `a${marker}b` });
  const [before, after] = text.split(marker) as [string, string];
  const encoder = new TextEncoder();
  const bytes = new Uint8Array([...encoder.encode(before), ...pick(rng, BAD_UTF8), ...encoder.encode(after)]);
  return { text: `${before}<bad utf-8>${after}`, bytes };
}

function duplicateKeys(base: Json, rng: Rng): Body {
  const object = base !== null && typeof base === "object" && !Array.isArray(base) ? base : { field: "x" };
  const keys = Object.keys(object);
  const key = keys.length > 0 ? pick(rng, keys) : "field";
  const second = JSON.stringify(pick(rng, [...WRONG_TYPES, ...HOSTILE_STRINGS.slice(0, 20)]));
  const inner = JSON.stringify(object).slice(1, -1);
  const duplicate = `${JSON.stringify(key)}:${second}`;
  return { text: `{${inner ? `${inner},` : ""}${duplicate}}` };
}

/** Each entry: a name and a function from the valid body to a malformed one. */
const BODY_MUTATIONS: readonly [string, (base: Json, rng: Rng) => Body][] = [
  ["wrong-type", (base, rng) => {
    const paths = fieldPaths(base);
    return json(paths.length > 0 ? setAt(base, pick(rng, paths), pick(rng, WRONG_TYPES) as Json) : pick(rng, WRONG_TYPES));
  }],
  ["missing-field", (base, rng) => {
    const paths = fieldPaths(base);
    return json(paths.length > 0 ? deleteAt(base, pick(rng, paths)) : {});
  }],
  ["missing-all", () => json({})],
  ["unknown-field", (base, rng) => {
    const key = pick(rng, ["unknown", "__proto__", "constructor", "", "\u0000", "🌿", "x".repeat(10_000), "role", "organizationId", "id"]);
    const object = base !== null && typeof base === "object" && !Array.isArray(base) ? base : {};
    return { text: JSON.stringify({ ...object }).replace(/^\{/, `{${JSON.stringify(key)}:${JSON.stringify(pick(rng, WRONG_TYPES))}${Object.keys(object).length > 0 ? "," : ""}`) };
  }],
  ["hostile-string", (base, rng) => {
    const paths = fieldPaths(base);
    const value = pick(rng, HOSTILE_STRINGS);
    return json(paths.length > 0 ? setAt(base, pick(rng, paths), value) : value);
  }],
  ["hostile-everywhere", (base, rng) => {
    const value = pick(rng, HOSTILE_STRINGS.filter((entry) => entry.length < 1000));
    let out = base;
    for (const path of leafPaths(base)) out = setAt(out, path, value);
    return json(out);
  }],
  ["bad-utf8", (base, rng) => withRawBytes(base, rng)],
  ["invalid-json", (_base, rng) => ({ text: pick(rng, INVALID_JSON) })],
  ["empty-body", () => ({ text: "" })],
  ["duplicate-keys", (base, rng) => duplicateKeys(base, rng)],
  ["deep-nesting", (base, rng) => {
    const nested = deepNesting(rng, pick(rng, [100, 1000, 10_000, 10_000, 100_000]));
    const paths = fieldPaths(base);
    if (paths.length === 0 || chance(rng, 0.4)) return { text: nested };
    const marker = "\"@@NEST@@\"";
    return { text: JSON.stringify(setAt(base, pick(rng, paths), "@@NEST@@")).replace(marker, nested) };
  }],
  ["top-level-type", (_base, rng) => json(pick(rng, [[], [{}], "string", 1, null, true, -0]))],
  ["big-numbers", (base, rng) => {
    const paths = fieldPaths(base);
    const number = pick(rng, ["1e309", "-1e309", "1e-400", "123456789012345678901234567890", "-0", "0.0000001"]);
    if (paths.length === 0) return { text: number };
    return { text: JSON.stringify(setAt(base, pick(rng, paths), "@@NUM@@")).replace('"@@NUM@@"', number) };
  }],
  ["content-type", (base, rng) => ({ ...json(base), contentType: pick(rng, CONTENT_TYPES) ?? "" })],
  ["form-body", (_base, rng) => ({ text: pick(rng, ["a=1&b=2", "name=%00", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--"]), contentType: pick(rng, ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) })],
];

function idFor(parameter: ParameterObject, context: FuzzContext, rng: Rng): string {
  if (parameter.name === "id" && context.apiKeyId && chance(rng, 0.5)) return context.apiKeyId;
  if (chance(rng, 0.6)) return pick(rng, context.memberIds);
  return rngUuid(rng);
}

function buildPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_match, name: string) => values[name] ?? "x");
}

type Credentials = { mode: string; headers: Record<string, string> };

const b64url = (text: string) => btoa(text).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

function forgedCredentials(context: FuzzContext, rng: Rng): Credentials {
  const real = pick(rng, context.tokens);
  const [header = "", payload = "", signature = ""] = real.split(".");
  const claims = { sub: pick(rng, context.memberIds), org: context.organizationId, role: "owner", exp: 9_999_999_999, jti: "x" };
  const options: [string, Record<string, string>][] = [
    ["garbage-bearer", { Authorization: `Bearer ${Math.floor(rng() * 1e12).toString(36)}` }],
    ["alg-none", { Authorization: `Bearer ${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify(claims))}.` }],
    ["hs256-forged", { Authorization: `Bearer ${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify(claims))}.${b64url("not-a-signature")}` }],
    ["tampered-signature", { Authorization: `Bearer ${header}.${payload}.${signature.slice(0, -4)}AAAA` }],
    ["swapped-payload", { Authorization: `Bearer ${header}.${b64url(JSON.stringify({ ...claims, role: "superuser" }))}.${signature}` }],
    ["bad-header-json", { Authorization: `Bearer ${b64url("{not json")}.${payload}.${signature}` }],
    ["two-parts", { Authorization: `Bearer ${header}.${payload}` }],
    ["huge-token", { Authorization: `Bearer ${"a".repeat(8000)}.${"b".repeat(8000)}.c` }],
    ["empty-bearer", { Authorization: "Bearer " }],
    ["bearer-only", { Authorization: "Bearer" }],
    ["basic-scheme", { Authorization: "Basic YWRtaW46YWRtaW4=" }],
    ["lowercase-scheme", { Authorization: `bearer ${real}x` }],
    ["extra-spaces", { Authorization: `Bearer  ${real}` }],
    ["percent-token", { Authorization: "Bearer %ff%00%2e" }],
    ["api-key-garbage", { "X-API-Key": `tend_${Math.floor(rng() * 1e12).toString(36)}` }],
    ["api-key-no-prefix", { "X-API-Key": "sk_live_abcdef" }],
    ["api-key-huge", { "X-API-Key": `tend_${"x".repeat(10_000)}` }],
    ["api-key-empty", { "X-API-Key": "" }],
    ["both-credentials", { Authorization: `Bearer ${real}`, "X-API-Key": context.apiKey ?? "tend_x" }],
  ];
  const [mode, headers] = pick(rng, options);
  return { mode: `forged:${mode}`, headers };
}

function credentialsFor(operation: Operation, context: FuzzContext, rng: Rng): Credentials {
  const roll = rng();
  const valid = operation.secured ? 0.5 : 0.2;
  if (roll < valid) {
    if (context.apiKey && chance(rng, 0.2)) return { mode: "api-key", headers: { "X-API-Key": context.apiKey } };
    const token = chance(rng, 0.5) ? context.tokens[0] : pick(rng, context.tokens);
    return { mode: "token", headers: { Authorization: `Bearer ${token}` } };
  }
  if (roll < valid + 0.25) return forgedCredentials(context, rng);
  return { mode: "none", headers: {} };
}

/** The next malformed request for `operation`; every choice comes from `rng`. */
export function fuzzRequest(index: number, operation: Operation, context: FuzzContext, rng: Rng): FuzzRequest {
  const credentials = credentialsFor(operation, context, rng);
  const pathParams = operation.parameters.filter((parameter) => parameter.in === "path");
  const queryParams = operation.parameters.filter((parameter) => parameter.in === "query");
  const headerParams = operation.parameters.filter((parameter) => parameter.in === "header");
  const pathValues = Object.fromEntries(pathParams.map((parameter) => [parameter.name, idFor(parameter, context, rng)]));
  const query: string[] = [];
  for (const parameter of queryParams) {
    if (chance(rng, 0.5)) query.push(`${parameter.name}=${encodeURIComponent(String(validValue(parameter.schema, parameter.name, context, rng)))}`);
  }
  const headers: Record<string, string> = { ...credentials.headers };
  for (const parameter of headerParams) {
    if (parameter.name === "Idempotency-Key" && chance(rng, 0.5)) headers[parameter.name] = rngUuid(rng);
  }
  const base = operation.body ? (validValue(operation.body, "body", context, rng) as Json) : undefined;
  let body: Body | undefined = base === undefined ? undefined : json(base);
  let method = operation.method;
  let suffix = "";
  const mutations: string[] = [];

  const kinds = ["valid", "unknown-query", "header", "method", "path-shape"];
  if (operation.body) kinds.push("body", "body", "body", "body", "edge", "edge", "edge");
  else if (operation.method !== "GET") kinds.push("unexpected-body");
  if (pathParams.length > 0) kinds.push("path", "path");
  if (queryParams.length > 0) kinds.push("query", "query");
  const kind = pick(rng, kinds);

  switch (kind) {
    case "body": {
      const [name, mutate] = pick(rng, BODY_MUTATIONS);
      mutations.push(`body:${name}`);
      body = mutate(base ?? {}, rng);
      break;
    }
    case "edge": {
      const paths = leafPaths(base);
      const path = paths.length > 0 ? pick(rng, paths) : [];
      const value = edgeValue(schemaAt(operation.body, path), context, rng) as Json;
      mutations.push(`edge:${path.join(".")}=${JSON.stringify(value).slice(0, 40)}`);
      body = json(path.length > 0 ? setAt(base ?? {}, path, value) : value);
      break;
    }
    case "unexpected-body": {
      const [name, mutate] = pick(rng, BODY_MUTATIONS);
      mutations.push(`unexpected-body:${name}`);
      body = mutate({ field: "value" }, rng);
      break;
    }
    case "path": {
      const parameter = pick(rng, pathParams);
      const value = pick(rng, HOSTILE_IDS);
      mutations.push(`path:${parameter.name}=${value.slice(0, 40)}`);
      pathValues[parameter.name] = value;
      break;
    }
    case "query": {
      const limit = queryParams.find((parameter) => parameter.name === "limit");
      const cursor = queryParams.find((parameter) => parameter.name === "cursor");
      query.length = 0;
      if (limit && (!cursor || chance(rng, 0.5))) {
        const value = chance(rng, 0.15) ? "1&limit=2" : pick(rng, BAD_LIMITS);
        query.push(`limit=${value}`);
        mutations.push(`query:limit=${value.slice(0, 40)}`);
      } else if (cursor) {
        const value = pick(rng, BAD_CURSORS);
        query.push(`cursor=${value}`);
        mutations.push(`query:cursor=${value.slice(0, 40)}`);
      } else {
        const parameter = pick(rng, queryParams);
        const value = pick(rng, [...BAD_CURSORS, ...BAD_LIMITS]);
        query.push(`${parameter.name}=${value}`);
        mutations.push(`query:${parameter.name}=${value.slice(0, 40)}`);
      }
      break;
    }
    case "path-shape": {
      const shape = pick(rng, PATH_SHAPES);
      mutations.push(`path-shape:${shape}`);
      suffix = shape;
      break;
    }
    case "unknown-query": {
      const extra = pick(rng, ["q=".padEnd(50_000, "q"), "foo=bar", "__proto__=1", "constructor[prototype]=1", "%zz=1", "a=%ff", "limit", "=", "&&&", "x".repeat(5000), "a[]=1&a[]=2"]);
      query.push(extra);
      mutations.push(`unknown-query:${extra.slice(0, 40)}`);
      break;
    }
    case "header": {
      const hasKey = headerParams.some((parameter) => parameter.name === "Idempotency-Key");
      const [name, value] = pick(rng, [
        ...(hasKey
          ? ([
              ["Idempotency-Key", ""],
              ["Idempotency-Key", "has space"],
              ["Idempotency-Key", "x".repeat(256)],
              ["Idempotency-Key", "x".repeat(8000)],
              ["Idempotency-Key", "%ff%00"],
              ["Idempotency-Key", "tab\tinside"],
            ] as const)
          : []),
        ["X-Request-ID", "x".repeat(5000)],
        ["X-Request-ID", "<script>\"'"],
        ["CF-Connecting-IP", "not-an-ip"],
        ["Accept", "text/html"],
        ["Accept-Encoding", "gzip;q=abc"],
        ["Origin", "https://evil.test"],
        ["If-None-Match", "*"],
      ] as const);
      headers[name] = value;
      mutations.push(`header:${name}=${value.slice(0, 40)}`);
      break;
    }
    case "method": {
      const others = METHODS.map((entry) => entry.toUpperCase()).filter((entry) => !operation.methodsOnPath.includes(entry));
      if (others.length > 0) method = pick(rng, others);
      mutations.push(`method:${method}`);
      if (method === "GET") body = undefined;
      break;
    }
    default:
      mutations.push("valid");
  }

  if (!headers["CF-Connecting-IP"]) headers["CF-Connecting-IP"] = `10.${Math.floor(rng() * 250)}.${Math.floor(rng() * 250)}.${Math.floor(rng() * 250)}`;
  if (body) {
    const contentType = body.contentType ?? "application/json";
    if (contentType !== "") headers["Content-Type"] = contentType;
  }
  const search = query.length > 0 ? `?${query.join("&")}` : "";
  return {
    index,
    operation: `${operation.method} ${operation.path}`,
    mutation: `${credentials.mode} ${mutations.join(" ")}`,
    method,
    path: `${buildPath(operation.path, pathValues)}${suffix}${search}`,
    headers,
    body: body ? (body.bytes ?? body.text) : undefined,
  };
}

/** One line that tells what was sent, short enough for a failure message. */
export function describeRequest(request: FuzzRequest): string {
  const body = request.body === undefined ? "" : typeof request.body === "string" ? request.body : new TextDecoder().decode(request.body);
  const auth = request.headers.Authorization ? ` auth=${request.headers.Authorization.slice(0, 30)}…` : "";
  return `#${request.index} ${request.method} ${request.path.slice(0, 200)} [${request.mutation}]${auth} content-type=${request.headers["Content-Type"] ?? "-"} body=${JSON.stringify(body.slice(0, 200))}`;
}

/** What is wrong with a response, or undefined: no 5xx, and every 4xx a problem with a detail. */
export function responseDefect(status: number, contentType: string | null, text: string, method: string): string | undefined {
  if (status >= 500) return `answered ${status}: ${text.slice(0, 300)}`;
  if (status < 400) return undefined;
  if (!contentType?.startsWith("application/problem+json")) return `answered ${status} as ${contentType ?? "no content type"}: ${text.slice(0, 200)}`;
  if (method === "HEAD") return undefined;
  let problem: unknown;
  try {
    problem = JSON.parse(text);
  } catch {
    return `answered ${status} with a problem that is not JSON: ${text.slice(0, 200)}`;
  }
  const detail = (problem as { detail?: unknown }).detail;
  if (typeof detail !== "string" || detail.trim() === "") return `answered ${status} with a problem without detail: ${text.slice(0, 300)}`;
  return undefined;
}
