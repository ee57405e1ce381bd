import { z } from "@hono/zod-openapi";
import { jsonResponse } from "#src/lib/openapi.ts";
import { ProblemSchema, problemResponseSpec } from "#src/lib/problem.ts";
import { defineRoute } from "#src/lib/route.ts";
import { text } from "#src/lib/text.ts";

const CheckSchema = z
  .object({
    status: z.enum(["ok", "fail"]),
    latencyMs: z.number().min(0).openapi({ format: "double" }),
    error: text(100).optional().openapi({ description: "What failed, without internals" }),
  })
  .openapi("DependencyCheck");

const ChecksSchema = z.object({
  database: CheckSchema,
  kv: CheckSchema,
  durableObjects: CheckSchema,
  /** The jobs queues' producers: reachable (their metrics answer), no job sent. */
  queue: CheckSchema,
});

export const LiveSchema = z.object({ status: z.literal("ok") }).openapi("Liveness");

export const ReadySchema = z
  .object({ status: z.literal("ok"), platform: text(40), checks: ChecksSchema })
  .openapi("Readiness");

export const NotReadySchema = ProblemSchema.and(z.object({ checks: ChecksSchema })).openapi("NotReady");

const tags: ["Platform"] = ["Platform"];

export const live = defineRoute({
  method: "get",
  path: "/health",
  operationId: "getLiveness",
  tags,
  summary: "Liveness: the Worker answers; touches no dependency",
  description: "For load balancers and uptime checks: answers 200 while the Worker runs, whatever its dependencies do.",
  rateLimit: "none",
  responses: { 200: jsonResponse("Alive", LiveSchema) },
});

const notReadyExample = {
  detail: "Not ready: database.",
  instance: "/ready",
  checks: {
    database: { status: "fail", latencyMs: 2001, error: "timed out" },
    kv: { status: "ok", latencyMs: 3 },
    durableObjects: { status: "ok", latencyMs: 5 },
    queue: { status: "ok", latencyMs: 2 },
  },
};

export const ready = defineRoute({
  method: "get",
  path: "/ready",
  operationId: "getReadiness",
  tags,
  summary: "Readiness: database, KV, Durable Objects and queues, each with its latency",
  description: "Checks every dependency within two seconds; a failing one answers 503 naming it, with Retry-After.",
  rateLimit: "none",
  responses: {
    200: jsonResponse("Every dependency answers", ReadySchema),
    503: problemResponseSpec(503, {
      rateLimited: false,
      description: "A dependency is down; retry after Retry-After seconds",
      schema: NotReadySchema,
      example: notReadyExample,
    }),
  },
});
