import { validate } from "@readme/openapi-parser";
import { describe, expect, it } from "vitest";
import { createApp } from "#src/app.ts";
import { generateSecrets } from "../../scripts/dev-secrets.ts";
import { memoryPlatform } from "#src/platform/memory/adapters.ts";

/** Routes that serve the documentation itself rather than the API. */
const NOT_API = new Set(["/docs", "/api/v1/openapi.json"]);
const PROBLEM_REF = "#/components/schemas/Problem";

type Operation = { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> };
type Schema = { $ref?: string; allOf?: Schema[] };
type Document = {
  openapi: string;
  info: { title: string; version: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string }> };
};

const app = createApp(memoryPlatform(async () => {}));
const env = { ENVIRONMENT: "test", DATABASE_URL: "postgres://tend@127.0.0.1:9/tend", ...generateSecrets("openapi-test") };

async function fetchDocument(): Promise<Document> {
  const response = await app.request("http://api.tend.test/api/v1/openapi.json", {}, env);
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
    expect(document.servers).toEqual([{ url: "http://api.tend.test", description: "This deployment" }]);
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
});
