import { text } from "#src/lib/text.ts";
import { createRoute, z } from "@hono/zod-openapi";
import { PROBLEM_CONTENT_TYPE, ProblemSchema, problemResponses } from "#src/lib/problem.ts";
import { jsonResponse } from "#src/lib/openapi.ts";

const CheckSchema = z
  .object({
    status: z.enum(["ok", "fail"]),
    latencyMs: z.number(),
    error: text().optional().openapi({ description: "What failed, without internals" }),
  })
  .openapi("DependencyCheck");

const ChecksSchema = z.object({
  database: CheckSchema,
  kv: CheckSchema,
  durableObjects: CheckSchema,
});

export const LiveSchema = z.object({ status: z.literal("ok") }).openapi("Liveness");

export const ReadySchema = z
  .object({ status: z.literal("ok"), platform: text(), checks: ChecksSchema })
  .openapi("Readiness");

export const NotReadySchema = ProblemSchema.and(z.object({ checks: ChecksSchema })).openapi("NotReady");

export const live = createRoute({
  method: "get",
  path: "/health",
  tags: ["Platform"],
  summary: "Liveness: the Worker answers; touches no dependency",
  responses: {
    200: jsonResponse("Alive", LiveSchema),
    ...problemResponses(500),
  },
});

export const ready = createRoute({
  method: "get",
  path: "/ready",
  tags: ["Platform"],
  summary: "Readiness: database, KV and Durable Objects, each with its latency",
  responses: {
    200: jsonResponse("Every dependency answers", ReadySchema),
    503: {
      description: "A dependency is down; retry after Retry-After seconds",
      headers: { "Retry-After": { schema: { type: "integer" } } },
      content: { [PROBLEM_CONTENT_TYPE]: { schema: NotReadySchema } },
    },
    ...problemResponses(500),
  },
});
