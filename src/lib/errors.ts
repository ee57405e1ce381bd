/**
 * Typed errors thrown by services and middleware. The app's single `onError` turns each into an
 * RFC 9457 problem; anything else becomes a 500 that reveals nothing.
 */
export interface FieldError {
  path: string;
  message: string;
}

export interface ProblemInit {
  status: number;
  slug: string;
  title: string;
  detail?: string;
  headers?: Record<string, string>;
  errors?: FieldError[];
  /** RFC 9457 extension members, written beside the standard ones (e.g. `organizations` to choose from). */
  extensions?: Record<string, unknown>;
}

export class ProblemError extends Error {
  readonly status: number;
  readonly slug: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly headers: Record<string, string>;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(init: ProblemInit) {
    super(init.detail ?? init.title);
    this.name = "ProblemError";
    this.status = init.status;
    this.slug = init.slug;
    this.title = init.title;
    this.detail = init.detail;
    this.headers = init.headers ?? {};
    this.errors = init.errors;
    this.extensions = init.extensions ?? {};
  }
}

const problem =
  (status: number, slug: string, title: string) =>
  (detail?: string, extra: Partial<ProblemInit> = {}) =>
    new ProblemError({ status, slug, title, detail, ...extra });

export const BadRequest = problem(400, "bad-request", "Bad request");
export const Unauthorized = problem(401, "unauthorized", "Unauthorized");
export const Forbidden = problem(403, "forbidden", "Forbidden");
export const NotFound = problem(404, "not-found", "Not found");
export const Conflict = problem(409, "conflict", "Conflict");
export const PayloadTooLarge = problem(413, "payload-too-large", "Payload too large");
export const UnsupportedMediaType = problem(415, "unsupported-media-type", "Unsupported media type");

export function MethodNotAllowed(allowed: string[]): ProblemError {
  return new ProblemError({
    status: 405,
    slug: "method-not-allowed",
    title: "Method not allowed",
    detail: `This resource allows ${allowed.join(", ")}.`,
    headers: { Allow: allowed.join(", ") },
  });
}

/** A 422 lists this many field errors at most, each cut to FIELD_TEXT_MAX characters. */
export const MAX_FIELD_ERRORS = 20;
const FIELD_TEXT_MAX = 200;

const cut = (text: string) => (text.length > FIELD_TEXT_MAX ? `${text.slice(0, FIELD_TEXT_MAX - 1)}…` : text);

/**
 * The 422 for invalid fields. Bounded whatever the input: a body with 85,000 unknown keys once
 * drew a 7 MB answer, so the list stops at MAX_FIELD_ERRORS (the detail says how many more) and
 * each path and message is cut short.
 */
export function ValidationFailed(errors: FieldError[]): ProblemError {
  const shown = errors.slice(0, MAX_FIELD_ERRORS).map((error) => ({ path: cut(error.path), message: cut(error.message) }));
  const more = errors.length - shown.length;
  const listed = shown.map((error) => `${error.path || "(body)"}: ${error.message}`).join("; ");
  return new ProblemError({
    status: 422,
    slug: "validation-failed",
    title: "Validation failed",
    detail: more > 0 ? `${listed}; and ${more} more` : listed,
    errors: shown,
  });
}

/** Input no field schema caught but the database refused as malformed (the safety net). */
export const UnprocessableInput = problem(422, "invalid-input", "Invalid input");

export function TooManyRequests(retryAfterSeconds: number): ProblemError {
  return new ProblemError({
    status: 429,
    slug: "rate-limited",
    title: "Too many requests",
    detail: `Retry after ${retryAfterSeconds} seconds.`,
    headers: { "Retry-After": String(retryAfterSeconds) },
  });
}

export function ServiceUnavailable(detail: string, retryAfterSeconds = 5, extensions?: Record<string, unknown>): ProblemError {
  return new ProblemError({
    status: 503,
    slug: "service-unavailable",
    title: "Service unavailable",
    detail,
    headers: { "Retry-After": String(retryAfterSeconds) },
    ...(extensions ? { extensions } : {}),
  });
}

export function Misconfigured(): ProblemError {
  return new ProblemError({
    status: 500,
    slug: "server-misconfigured",
    title: "Server misconfigured",
    detail: "The server's configuration is invalid; the operator has been told which keys.",
  });
}

export function InternalError(): ProblemError {
  return new ProblemError({
    status: 500,
    slug: "internal-error",
    title: "Internal server error",
    detail: "Something went wrong on our side. Quote the request id when you report it.",
  });
}
