import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { createApp } from "#src/app.ts";
import { problemStatusesOf, rateLimitPolicyOf } from "#src/lib/route.ts";
import { memoryPlatform } from "#src/platform/memory/adapters.ts";

const SRC = fileURLToPath(new URL("../../src", import.meta.url));
const app = createApp(memoryPlatform(async () => {}));
const apiRoutes = app.routes.filter((route) => route.method !== "ALL" && route.path.startsWith("/api/v1/") && !route.path.endsWith("openapi.json"));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

describe("route declarations", () => {
  it("put exactly the sign-in routes (auth/*, invitation acceptance) on the auth rate-limit policy", () => {
    expect(apiRoutes.length).toBeGreaterThan(20);
    const wrong = apiRoutes.flatMap((route) => {
      const path = route.path.replace(/:(\w+)/g, "0193a5c2-7d1e-7b3a-9f00-2c4d6e8f0a1b");
      const expected = /^\/api\/v1\/(auth\/|invitations\/accept$)/.test(path) ? "auth" : "default";
      const declared = rateLimitPolicyOf(route.method, path);
      return declared === expected ? [] : [`${route.method} ${route.path}: ${declared}, not ${expected}`];
    });
    expect(wrong).toEqual([]);
    expect(rateLimitPolicyOf("POST", "/api/v1/auth/login/")).toBe("auth");
    expect(rateLimitPolicyOf("GET", "/api/v1/auth/login")).toBe("default");
    expect(rateLimitPolicyOf("POST", "/api/v1/members")).toBe("default");
  });

  it("derive every problem status a route can answer from what it declares", () => {
    const body = { required: true, content: { "application/json": { schema: z.object({ name: z.string() }) } } };
    const base = { path: "/things", operationId: "x", summary: "x", description: "x", tags: ["Members"] as ["Members"], responses: {} };
    expect(problemStatusesOf({ ...base, method: "get", permission: "members:read" })).toEqual([400, 401, 403, 413, 429, 500, 503]);
    expect(problemStatusesOf({ ...base, method: "post", request: { body } })).toEqual([400, 401, 413, 415, 422, 429, 500, 503]);
    expect(problemStatusesOf({ ...base, method: "post", permission: "members:write", create: true, problems: [404] })).toEqual([
      400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503,
    ]);
    expect(problemStatusesOf({ ...base, method: "get", rateLimit: "none" })).toEqual([413, 500]);
  });

  it("leave problem+json to onError: no handler or service builds one", () => {
    const builders = filesUnder(SRC).filter((file) => {
      if (file.endsWith(join("lib", "problem-response.ts")) || file.endsWith(join("lib", "problem.ts")) || file.endsWith(join("src", "app.ts"))) return false;
      return /\btoProblem\(|PROBLEM_CONTENT_TYPE|problemResponse\(|application\/problem\+json/.test(readFileSync(file, "utf8"));
    });
    expect(builders).toEqual([]);
  });
});
