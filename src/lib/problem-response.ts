import type { ProblemError } from "#src/lib/errors.ts";
import type { Problem } from "#src/lib/problem.ts";

// Writing a problem, apart from describing one (src/lib/problem.ts, its schema and examples for the
// OpenAPI document): every request may need this, and only the document needs that.

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
export const PROBLEM_TYPE_BASE = "https://tend.care/problems/";

export function toProblem(error: ProblemError, requestId: string, instance: string): Problem {
  return {
    ...error.extensions,
    type: `${PROBLEM_TYPE_BASE}${error.slug}`,
    title: error.title,
    status: error.status,
    ...(error.detail ? { detail: error.detail } : {}),
    instance,
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

/** The one writer of problem+json responses, called by the app's `onError` and `notFound`. */
export function problemResponse(error: ProblemError, requestId: string, instance: string): Response {
  return new Response(JSON.stringify(toProblem(error, requestId, instance)), {
    status: error.status,
    headers: { "Content-Type": PROBLEM_CONTENT_TYPE, ...error.headers },
  });
}
