import { describe, expect, it } from "vitest";
import { describeRequest, type FuzzContext, fuzzRequest, mulberry32, type OpenApiDocument, operationsOf, responseDefect } from "./fuzz-engine.ts";
import { fromPattern } from "./fuzz-schema.ts";

/** The fuzzer's own parts: its oracle, its replayability, and that it reads routes from the document. */
const document: OpenApiDocument = {
  paths: {
    "/api/v1/widgets/{widgetId}": {
      patch: {
        parameters: [{ name: "widgetId", in: "path", required: true, schema: { type: "string", format: "uuid" } }],
        requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/WidgetPatch" } } } },
        security: [{ bearer: [] }],
      },
      get: { parameters: [{ name: "widgetId", in: "path", required: true, schema: { type: "string", format: "uuid" } }] },
    },
  },
  components: {
    schemas: {
      WidgetPatch: {
        type: "object",
        properties: { name: { type: "string", minLength: 1, maxLength: 50 }, size: { type: "integer", minimum: 1, maximum: 9 } },
        required: ["name"],
      },
    },
  },
};
const context: FuzzContext = {
  organizationId: "0193a7e0-0000-7000-8000-000000000001",
  memberIds: ["0193a7e0-0000-7000-8000-000000000002"],
  tokens: ["header.payload.signature"],
  apiKey: "tend_example",
  apiKeyId: "0193a7e0-0000-7000-8000-000000000003",
  password: "correct horse battery staple",
};
const problem = (body: object) => JSON.stringify(body);

/** 200 requests described, from one seed. */
function run(seed: number): string[] {
  const rng = mulberry32(seed);
  const operations = operationsOf(document);
  return Array.from({ length: 200 }, (_, index) => describeRequest(fuzzRequest(index, operations[index % 2] as never, context, rng)));
}

describe("the fuzzer", () => {
  it("fuzzes a route it was never told about: operations come from the document, $refs resolved", () => {
    const operations = operationsOf(document);
    expect(operations.map((operation) => `${operation.method} ${operation.path}`)).toEqual(["PATCH /api/v1/widgets/{widgetId}", "GET /api/v1/widgets/{widgetId}"]);
    expect(operations[0]?.body?.properties?.name?.maxLength).toBe(50);
    expect(operations[0]?.secured).toBe(true);
  });

  it("sends the same requests for the same seed, and others for another", () => {
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it("fails a 5xx, a 4xx that is not problem+json, a problem without a detail, and one whose status differs", () => {
    expect(responseDefect(500, "application/problem+json", problem({ status: 500, detail: "x" }), "GET")).toMatch(/answered 500/);
    expect(responseDefect(503, "application/problem+json", problem({ status: 503, detail: "x" }), "GET")).toMatch(/answered 503/);
    expect(responseDefect(404, "text/plain", "Not Found", "GET")).toMatch(/as text\/plain/);
    expect(responseDefect(404, "application/problem+json", "not json", "GET")).toMatch(/not JSON/);
    expect(responseDefect(422, "application/problem+json", problem({ status: 422 }), "POST")).toMatch(/without detail/);
    expect(responseDefect(422, "application/problem+json", problem({ status: 422, detail: "  " }), "POST")).toMatch(/without detail/);
    expect(responseDefect(404, "application/problem+json", problem({ status: 400, detail: "x" }), "GET")).toMatch(/status differs/);
  });

  it("passes a 2xx, a complete problem, and a HEAD problem without a body", () => {
    expect(responseDefect(200, "application/json", "{}", "GET")).toBeUndefined();
    expect(responseDefect(422, "application/problem+json; charset=utf-8", problem({ status: 422, detail: "body.name: too long" }), "PATCH")).toBeUndefined();
    expect(responseDefect(404, "application/problem+json", "", "HEAD")).toBeUndefined();
  });

  it("draws strings that match the document's patterns", () => {
    const rng = mulberry32(7);
    for (const pattern of ["^[a-z0-9][a-z0-9-]{1,62}$", "^\\d{6}$", "^([01]\\d|2[0-3]):[0-5]\\d$", "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", "^[\\x21-\\x7e]{1,255}$"]) {
      for (let draw = 0; draw < 20; draw++) expect(fromPattern(pattern, rng)).toMatch(new RegExp(pattern));
    }
  });
});
