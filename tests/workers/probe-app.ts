import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { createRoute, z } from "@hono/zod-openapi";
import { createApp } from "#src/app.ts";
import { createRouter } from "#src/lib/create-router.ts";
import { problemResponses } from "#src/lib/problem.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import { BASE } from "./helpers.ts";

/**
 * The real app with two extra routes the platform issue has no product route for yet: a JSON
 * echo (to drive the body, content-type and validation errors) and one that throws.
 */
const EchoBody = z
  .object({
    name: z.string().min(1).max(50),
    age: z.number().int().min(0),
    contact: z.object({ email: z.email() }).strict(),
  })
  .strict();

const echo = createRoute({
  method: "post",
  path: "/api/v1/probe/echo",
  request: { body: { content: { "application/json": { schema: EchoBody } }, required: true } },
  responses: {
    200: { description: "Echo", content: { "application/json": { schema: EchoBody } } },
    ...problemResponses(400, 413, 415, 422),
  },
});

export class SecretBug extends Error {
  override name = "SecretBug";
}

const app = createApp(cloudflarePlatform);
app.route("/", createRouter().openapi(echo, (c) => c.json(c.req.valid("json"), 200)));
app.get("/api/v1/probe/boom", () => {
  throw new SecretBug("select * from patients where name = 'Jane Doe'");
});

export async function probe(path: string, init?: RequestInit, overrides: Record<string, unknown> = {}) {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`${BASE}${path}`, init), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}
