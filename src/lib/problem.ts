import { z } from "@hono/zod-openapi";
import type { ProblemError } from "#src/lib/errors.ts";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
const PROBLEM_TYPE_BASE = "https://tend.care/problems/";

/** The one RFC 9457 shape every error response uses; referenced by every route's error codes. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: `${PROBLEM_TYPE_BASE}not-found` }),
    title: z.string().openapi({ example: "Not found" }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().optional(),
    instance: z.string().openapi({ example: "/api/v1/patients/0193…" }),
    requestId: z.string(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: "Each failing field, for validation errors" }),
  })
  .openapi("Problem");

export type Problem = z.infer<typeof ProblemSchema>;

const DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request",
  401: "Missing or invalid credentials",
  403: "The caller's role does not allow this",
  404: "No such resource in the caller's organization",
  405: "Method not allowed",
  409: "Conflicts with the current state",
  413: "Body too large",
  415: "Unsupported content type",
  422: "Validation failed",
  429: "Rate limited",
  500: "Unexpected error",
  503: "A dependency is unavailable; retry after Retry-After seconds",
};

/** OpenAPI `responses` entries for the given problem statuses, all pointing at `Problem`. */
export function problemResponses<const S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: DESCRIPTIONS[status] ?? "Error",
        content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
      },
    ]),
  ) as Record<S, { description: string; content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof ProblemSchema } } }>;
}

export function toProblem(error: ProblemError, requestId: string, instance: string): Problem {
  return {
    type: `${PROBLEM_TYPE_BASE}${error.slug}`,
    title: error.title,
    status: error.status,
    ...(error.detail ? { detail: error.detail } : {}),
    instance,
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

export function problemResponse(error: ProblemError, requestId: string, instance: string): Response {
  return new Response(JSON.stringify(toProblem(error, requestId, instance)), {
    status: error.status,
    headers: { "Content-Type": PROBLEM_CONTENT_TYPE, ...error.headers },
  });
}
