/**
 * The schema-driven fuzzer behind tests/workers/fuzz.test.ts: reads the app's OpenAPI document
 * and turns every operation into malformed requests. Pure (no workerd imports): a seeded PRNG in,
 * request descriptions out, so one seed replays the same requests.
 */

import { edgeValue, type FuzzContext, METHODS, type Operation, type ParameterObject, schemaAt, validValue } from "./fuzz-schema.ts";
import { BAD_CURSORS, BAD_LIMITS, BAD_UTF8, chance, CONTENT_TYPES, HOSTILE_IDS, HOSTILE_STRINGS, INVALID_JSON, PATH_SHAPES, pick, type Rng, rngUuid, WRONG_TYPES } from "./fuzz-values.ts";

export { mulberry32, type Rng } from "./fuzz-values.ts";
export { type FuzzContext, type OpenApiDocument, operationsOf } from "./fuzz-schema.ts";

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
    // Sometimes a key from a pool of three, so replays, body mismatches and in-flight races happen.
    if (parameter.name === "Idempotency-Key" && chance(rng, 0.6)) headers[parameter.name] = chance(rng, 0.4) ? `fuzz-key-${Math.floor(rng() * 3)}` : rngUuid(rng);
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
  if (queryParams.length > 0) kinds.push("query", "query", "query", "query", "query");
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
        ["Content-Encoding", "gzip"],
        ["Content-Encoding", "br, deflate"],
        ["X-HTTP-Method-Override", "DELETE"],
        ["X-Forwarded-For", "127.0.0.1, ::1, not-an-ip"],
        ["Range", "bytes=0-0,-1"],
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
  if ((problem as { status?: unknown }).status !== status) return `answered ${status} with a problem whose status differs: ${text.slice(0, 300)}`;
  return undefined;
}
