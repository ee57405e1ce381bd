import { chance, EDGE_EMAILS, pick, type Rng, rngUuid } from "./fuzz-values.ts";

/** The OpenAPI side of the fuzzer: operations out of the document, and values their schemas allow or just miss. */

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

export interface ParameterObject {
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

export const METHODS: readonly string[] = ["get", "post", "put", "patch", "delete"];

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
    const methodsOnPath = Object.keys(item).filter((method) => new Set(METHODS).has(method));
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

// ---------------------------------------------------------------------------------------------
// Valid values from schemas

export function schemaType(schema: JsonSchema): string | undefined {
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

/** The schema of the value at `path` inside `schema`, when it can be told. */
export function schemaAt(schema: JsonSchema | undefined, path: string[]): JsonSchema | undefined {
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
export function edgeValue(schema: JsonSchema | undefined, context: FuzzContext, rng: Rng): unknown {
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
