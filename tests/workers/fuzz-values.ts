/**
 * What the fuzzer sends: a seeded PRNG and the hostile values it draws from. Used by
 * fuzz-schema.ts and fuzz-engine.ts (tests/workers/fuzz.test.ts).
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

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
export const chance = (rng: Rng, p: number) => rng() < p;

// ---------------------------------------------------------------------------------------------
// Hostile values

export const HUGE = 100_000;

export const HOSTILE_STRINGS: readonly string[] = [
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
export const BAD_UTF8: readonly number[][] = [
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

export const WRONG_TYPES: readonly unknown[] = [
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

export const HOSTILE_IDS: readonly string[] = [
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
  "x".repeat(HUGE),
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

export const BAD_LIMITS: readonly string[] = [
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

export const BAD_CURSORS: readonly string[] = [
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
export const PATH_SHAPES: readonly string[] = [
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

export const CONTENT_TYPES: readonly (string | undefined)[] = [
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

export const INVALID_JSON: readonly string[] = [
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

export const EDGE_EMAILS: readonly string[] = [
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
