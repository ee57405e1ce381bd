import { validate } from "@readme/openapi-parser";
import { describe, expect, it } from "vitest";
import { createApp } from "#src/app.ts";
import { generateSecrets } from "../../scripts/dev-secrets.ts";
import { memoryPlatform } from "#src/platform/memory/adapters.ts";

/** Routes that serve the documentation itself rather than the API. */
const NOT_API = new Set(["/docs", "/api/v1/openapi.json"]);
const PROBLEM_REF = "#/components/schemas/Problem";

type Response = { headers?: Record<string, { $ref?: string }>; content?: Record<string, { schema?: Schema; example?: Record<string, unknown> }> };
type Operation = {
  operationId?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  responses?: Record<string, Response>;
};
type Schema = { $ref?: string; allOf?: Schema[] };
type Document = {
  openapi: string;
  info: { title: string; version: string };
  servers: { url: string; description: string; "x-internal": boolean }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, unknown>;
    headers: Record<string, unknown>;
    securitySchemes: Record<string, { type: string; description?: string }>;
  };
};

const app = createApp(memoryPlatform(async () => {}));
const env = { ENVIRONMENT: "test", DATABASE_URL: "postgres://tend@127.0.0.1:9/tend", ...generateSecrets("openapi-test") };

async function fetchDocument(origin = "http://api.tend.test"): Promise<Document> {
  const response = await app.request(`${origin}/api/v1/openapi.json`, {}, env);
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

/** Whether a schema is Problem or builds on it, following component references. */
function refersToProblem(schema: Schema | undefined, document: Document, depth = 0): boolean {
  if (!schema || depth > 5) return false;
  if (schema.$ref === PROBLEM_REF) return true;
  const target = schema.$ref?.replace("#/components/schemas/", "");
  if (target) return refersToProblem(document.components.schemas[target] as Schema, document, depth + 1);
  return (schema.allOf ?? []).some((part) => refersToProblem(part, document, depth + 1));
}

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1 by an independent validator", async () => {
    const document = await fetchDocument();
    expect(document.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
  });

  it("names the API, its version, this server and both security schemes", async () => {
    const document = await fetchDocument();
    expect(document.info).toMatchObject({ title: "Tend API", version: "1.0.0" });
    expect(document.servers).toMatchObject([{ url: "/", "x-internal": false }]);
    expect(document.servers[0]?.description).toMatch(/production|staging|local/);
    expect(document.components.securitySchemes.bearer?.type).toBe("http");
    expect(document.components.securitySchemes.apiKey?.type).toBe("apiKey");
    expect(document.components.schemas.Problem).toBeDefined();
  });

  it("documents every registered route, each with error responses that use the Problem schema", async () => {
    const document = await fetchDocument();
    const routes = app.routes.filter((route) => route.method !== "ALL" && !NOT_API.has(route.path));
    expect(routes.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const route of routes) {
      const path = route.path.replace(/:(\w+)/g, "{$1}");
      const operation = document.paths[path]?.[route.method.toLowerCase()];
      if (!operation) {
        problems.push(`${route.method} ${route.path} is missing from the document`);
        continue;
      }
      const errors = Object.entries(operation.responses ?? {}).filter(([status]) => Number(status) >= 400);
      if (errors.length === 0) problems.push(`${route.method} ${route.path} declares no error response`);
      for (const [status, response] of errors) {
        const schemas = Object.values(response.content ?? {}).map((content) => content.schema);
        if (!schemas.some((schema) => refersToProblem(schema, document))) problems.push(`${route.method} ${route.path} ${status} is not a Problem`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("names an https origin as its server, and never a plain-http one", async () => {
    const document = await fetchDocument("https://api.tend.test");
    expect(document.servers.map((server) => server.url)).toEqual(["https://api.tend.test"]);
  });

  it("gives every operation a unique operationId, a description and one tag the document defines", async () => {
    const document = await fetchDocument();
    const tags = new Set(document.tags.map((tag) => tag.name));
    expect(document.tags.every((tag) => tag.description.length > 0)).toBe(true);
    const ids: string[] = [];
    const problems: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!operation.operationId?.match(/^[a-z][A-Za-z]+$/)) problems.push(`${method} ${path}: operationId ${operation.operationId}`);
        if (!operation.description) problems.push(`${method} ${path}: no description`);
        if (operation.tags?.length !== 1 || !tags.has(operation.tags[0] ?? "")) problems.push(`${method} ${path}: tags ${operation.tags}`);
        ids.push(operation.operationId ?? "");
      }
    }
    expect(problems).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("shows each error status its own example, 422 with the failing fields", async () => {
    const document = await fetchDocument();
    const seen = new Map<number, Record<string, unknown>>();
    for (const item of Object.values(document.paths)) {
      for (const operation of Object.values(item)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          if (Number(status) < 400) continue;
          const example = response.content?.["application/problem+json"]?.example;
          expect(example?.status, `a ${status} example`).toBe(Number(status));
          expect(String(example?.type)).toMatch(/^https:\/\/tend\.care\/problems\/[a-z-]+$/);
          seen.set(Number(status), example ?? {});
        }
      }
    }
    for (const status of [400, 401, 403, 404, 409, 413, 415, 422, 429, 503]) expect(seen.has(status), `${status} documented`).toBe(true);
    expect(new Set([...seen.values()].map((example) => example.type)).size).toBe(seen.size);
    expect(seen.get(422)?.errors).toEqual([{ path: "body.email", message: "Invalid email address" }]);
  });

  it("derives security, body statuses and headers from each route's declaration", async () => {
    const document = await fetchDocument();
    const operation = (path: string, method: string) => document.paths[path]?.[method] as Operation;
    // A route only members may call, one an API key may call too, and a public one.
    expect(operation("/api/v1/me", "get").security).toEqual([{ bearer: [] }]);
    expect(operation("/api/v1/members", "get").security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    expect(operation("/api/v1/auth/login", "post").security).toEqual([{}]);
    // What a service throws is declared beside the derived statuses (login's 403 for no membership).
    for (const path of ["/api/v1/auth/login", "/api/v1/auth/mfa/verify"]) {
      expect(Object.keys(operation(path, "post").responses ?? {})).toEqual(expect.arrayContaining(["401", "403", "409", "413", "415", "422"]));
      expect(operation(path, "post").responses?.["409"]?.content?.["application/problem+json"]?.schema?.$ref).toBe("#/components/schemas/OrganizationChoiceRequired");
    }
    const problems: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const statuses = new Set(Object.keys(op.responses ?? {}).map(Number));
        if (method !== "get" && path.startsWith("/api/v1/") && !(statuses.has(413) && statuses.has(415))) {
          problems.push(`${method} ${path} lacks 413/415`);
        }
        if (op.requestBody && !statuses.has(422)) problems.push(`${method} ${path} takes a body but documents no 422`);
        if (op.security?.some((entry) => Object.keys(entry).length > 0) && !statuses.has(403)) problems.push(`${method} ${path} lacks 403`);
        for (const [status, response] of Object.entries(op.responses ?? {})) {
          const headers = Object.keys(response.headers ?? {});
          if (path.startsWith("/api/v1/") && Number(status) < 500 && !headers.includes("RateLimit")) problems.push(`${method} ${path} ${status} lacks RateLimit`);
          if ((status === "429" || status === "503") && !headers.includes("Retry-After")) problems.push(`${method} ${path} ${status} lacks Retry-After`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(Object.keys(document.components.headers).sort()).toEqual(["Access-Control-Allow-Origin", "RateLimit", "RateLimit-Policy", "Retry-After"]);
    expect(document.components.securitySchemes.bearer?.description).toContain("RFC8725");
  });

  it("bounds every string and array, and gives every integer a format", async () => {
    const document = await fetchDocument();
    const problems: string[] = [];
    const visit = (node: unknown, where: string): void => {
      if (!node || typeof node !== "object") return;
      const schema = node as Record<string, unknown>;
      if (schema.type === "string" && schema.maxLength === undefined && schema.enum === undefined && schema.const === undefined) problems.push(`${where}: string without maxLength`);
      if (schema.type === "array" && schema.maxItems === undefined) problems.push(`${where}: array without maxItems`);
      if (schema.type === "integer" && !["int32", "int64"].includes(String(schema.format))) problems.push(`${where}: integer without format`);
      for (const [key, value] of Object.entries(schema)) if (key !== "example" && key !== "examples") visit(value, `${where}.${key}`);
    };
    // A bound above text()'s default is passed to text(n), so validation allows it too.
    const schemas = document.components.schemas as Record<string, { properties: Record<string, { maxLength?: number }> }>;
    expect(schemas.LoginRequest?.properties.password?.maxLength).toBe(1024);
    expect(schemas.SignupConfirmRequest?.properties.token?.maxLength).toBe(2048);
    expect(schemas.InvitationAccept?.properties.password?.maxLength).toBe(1024);
    visit(document.components, "components");
    visit(document.paths, "paths");
    expect(problems).toEqual([]);
  });
});
