import { z } from "@hono/zod-openapi";
import type { FieldError } from "#src/lib/errors.ts";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from "#src/lib/problem-response.ts";

// The problem shape as the OpenAPI document describes it; src/lib/problem-response.ts writes it.
export { PROBLEM_CONTENT_TYPE };

/** The one RFC 9457 shape every error response uses; referenced by every route's error codes. */
export const ProblemSchema = z
  .object({
    type: z.url().max(200).openapi({ example: `${PROBLEM_TYPE_BASE}validation-failed` }),
    title: z.string().max(200).openapi({ example: "Validation failed" }),
    status: z.number().int().min(400).max(599).openapi({ format: "int32", example: 422 }),
    detail: z.string().max(2000).optional(),
    instance: z.string().max(2048).openapi({ example: "/api/v1/members" }),
    requestId: z.string().max(64),
    errors: z
      .array(z.object({ path: z.string().max(300), message: z.string().max(500) }))
      .max(100)
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
  410: "No longer available",
  412: "A precondition failed",
  413: "Body too large",
  415: "Unsupported content type",
  422: "Validation failed",
  428: "If-Match is required",
  429: "Rate limited; retry after Retry-After seconds",
  500: "Unexpected error",
  503: "A dependency is unavailable; retry after Retry-After seconds",
};

const REQUEST_ID = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f";

/** One realistic example per status, so the document shows what each error looks like. */
const EXAMPLE_FIELDS: Record<number, { slug: string; title: string; detail: string; instance: string; errors?: FieldError[] }> = {
  400: { slug: "bad-request", title: "Bad request", detail: "Send one credential: a bearer token or an X-API-Key, not both.", instance: "/api/v1/members" },
  401: { slug: "unauthorized", title: "Unauthorized", detail: "The token is invalid or expired.", instance: "/api/v1/me" },
  403: { slug: "forbidden", title: "Forbidden", detail: 'This needs the "members:write" permission.', instance: "/api/v1/members/0193a5c2-7d1e-7b3a-9f00-2c4d6e8f0a1b" },
  404: { slug: "not-found", title: "Not found", detail: "No such member in this organization.", instance: "/api/v1/members/0193a5c2-7d1e-7b3a-9f00-2c4d6e8f0a1b" },
  405: { slug: "method-not-allowed", title: "Method not allowed", detail: "This resource allows GET, PATCH.", instance: "/api/v1/organization" },
  409: { slug: "conflict", title: "Conflict", detail: "A request with this Idempotency-Key is still in progress; retry shortly.", instance: "/api/v1/invitations" },
  410: { slug: "gone", title: "Gone", detail: "This invitation has expired; ask for a new one.", instance: "/api/v1/invitations/accept" },
  412: { slug: "precondition-failed", title: "Precondition failed", detail: "The resource changed since it was read; fetch it again.", instance: "/api/v1/organization" },
  413: { slug: "payload-too-large", title: "Payload too large", detail: "The body exceeds 65536 bytes.", instance: "/api/v1/organization" },
  415: { slug: "unsupported-media-type", title: "Unsupported media type", detail: 'Send the body as application/json, not "text/plain".', instance: "/api/v1/organization" },
  422: {
    slug: "validation-failed",
    title: "Validation failed",
    detail: "body.email: Invalid email address",
    instance: "/api/v1/invitations",
    errors: [{ path: "body.email", message: "Invalid email address" }],
  },
  428: { slug: "precondition-required", title: "Precondition required", detail: 'Send If-Match with the ETag from GET, so a concurrent edit is not overwritten (If-Match: "3").', instance: "/api/v1/patients/0193a5c2-7d1e-7b3a-9f00-2c4d6e8f0a1b" },
  429: { slug: "rate-limited", title: "Too many requests", detail: "Retry after 42 seconds.", instance: "/api/v1/auth/login" },
  500: { slug: "internal-error", title: "Internal server error", detail: "Something went wrong on our side. Quote the request id when you report it.", instance: "/api/v1/members" },
  503: { slug: "service-unavailable", title: "Service unavailable", detail: "Rate limiting is unavailable.", instance: "/api/v1/members" },
};

/** The example problem document for a status. */
export function problemExample(status: number): Problem {
  const fields = EXAMPLE_FIELDS[status] ?? { slug: "error", title: "Error", detail: "The request failed.", instance: "/api/v1/members" };
  return {
    type: `${PROBLEM_TYPE_BASE}${fields.slug}`,
    title: fields.title,
    status,
    detail: fields.detail,
    instance: fields.instance,
    requestId: REQUEST_ID,
    ...(fields.errors ? { errors: fields.errors } : {}),
  };
}

/** Response headers, registered once under components/headers and referenced by every response. */
export const RESPONSE_HEADERS = {
  RateLimit: {
    description: 'The tightest rate-limit policy applied and what is left of it (IETF RateLimit draft), e.g. `"writes";r=119;t=42`',
    schema: { type: "string" as const, maxLength: 200 },
  },
  "RateLimit-Policy": {
    description: 'That policy: its quota and window in seconds, e.g. `"writes";q=120;w=60`',
    schema: { type: "string" as const, maxLength: 200 },
  },
  "Retry-After": {
    description: "Seconds to wait before retrying",
    schema: { type: "integer" as const, format: "int32", minimum: 0, maximum: 86400 },
  },
  "Access-Control-Allow-Origin": {
    description: "The caller's Origin, when it is one of the deployment's CORS_ORIGINS; absent otherwise",
    schema: { type: "string" as const, maxLength: 2048 },
  },
};

type HeaderName = keyof typeof RESPONSE_HEADERS;
type HeaderRef = { $ref: string };
const headerRef = (name: HeaderName): HeaderRef => ({ $ref: `#/components/headers/${name}` });

/** Headers of a response from behind the rate limiter. */
export const RATE_LIMIT_HEADERS = { RateLimit: headerRef("RateLimit"), "RateLimit-Policy": headerRef("RateLimit-Policy") };
/** CORS: every response may carry it. */
export const CORS_HEADERS = { "Access-Control-Allow-Origin": headerRef("Access-Control-Allow-Origin") };
const RETRY_AFTER_HEADER = { "Retry-After": headerRef("Retry-After") };

interface ProblemResponseOptions {
  /** Whether the route sits behind the rate limiter, so its responses carry RateLimit headers. */
  rateLimited?: boolean;
}

type ProblemContent<S extends z.ZodType> = { [PROBLEM_CONTENT_TYPE]: { schema: S; example: Problem } };
type HeadersObject = Record<string, HeaderRef>;
export type ProblemResponse<S extends z.ZodType = typeof ProblemSchema> = {
  description: string;
  headers: HeadersObject;
  content: ProblemContent<S>;
};

/** The headers a problem response with this status carries. */
export function problemHeaders(status: number, { rateLimited = true }: ProblemResponseOptions = {}): HeadersObject {
  return {
    ...CORS_HEADERS,
    ...(rateLimited && status < 500 ? RATE_LIMIT_HEADERS : {}),
    ...(status === 429 || status === 503 ? RETRY_AFTER_HEADER : {}),
  };
}

/** One OpenAPI problem response: its description, headers and example, with `schema` (Problem unless an extension of it). */
export function problemResponseSpec<S extends z.ZodType = typeof ProblemSchema>(
  status: number,
  options: ProblemResponseOptions & { description?: string; schema?: S; example?: Record<string, unknown> } = {},
): ProblemResponse<S> {
  return {
    description: options.description ?? DESCRIPTIONS[status] ?? "Error",
    headers: problemHeaders(status, options),
    content: {
      [PROBLEM_CONTENT_TYPE]: {
        schema: (options.schema ?? ProblemSchema) as S,
        example: { ...problemExample(status), ...options.example },
      },
    },
  };
}

/** OpenAPI `responses` entries for the given problem statuses, all pointing at `Problem`. */
export function problemResponses<const S extends number>(...statuses: S[]): Record<S, ProblemResponse> {
  return problemResponsesFor(statuses);
}

/** The same, for routes outside the rate limiter (`rateLimited: false`). */
export function problemResponsesFor<const S extends number>(statuses: readonly S[], options: ProblemResponseOptions = {}): Record<S, ProblemResponse> {
  return Object.fromEntries(statuses.map((status) => [status, sharedProblemResponse(status, options.rateLimited === true)])) as Record<S, ProblemResponse>;
}

/** Every route answering a status the same way shares one (read-only) entry: less startup work. */
const sharedResponses = new Map<string, ProblemResponse>();

function sharedProblemResponse(status: number, rateLimited: boolean): ProblemResponse {
  const key = `${status}:${rateLimited}`;
  let response = sharedResponses.get(key);
  if (!response) {
    response = problemResponseSpec(status, { rateLimited });
    sharedResponses.set(key, response);
  }
  return response;
}
