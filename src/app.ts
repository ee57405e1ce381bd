import { type Context, type ErrorHandler, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { problemForDbError } from "#src/db/errors.ts";
import { registerDocs } from "#src/features/docs/docs.index.ts";
import { registerFeatures } from "#src/routes.ts";
import { allowedMethodsIndex } from "#src/lib/allowed-methods.ts";
import { reportError } from "#src/lib/error-reporter.ts";
import {
  BadRequest,
  InternalError,
  MethodNotAllowed,
  NotFound,
  ProblemError,
  PayloadTooLarge,
} from "#src/lib/errors.ts";
import { problemResponse } from "#src/lib/problem-response.ts";
import type { AppEnv } from "#src/lib/types.ts";
import { admission } from "#src/middleware/admission.ts";
import { authenticate } from "#src/middleware/auth.ts";
import { corsFor } from "#src/middleware/cors.ts";
import { limitBody, requireJsonBody } from "#src/middleware/body-guards.ts";
import { requestContext } from "#src/middleware/context.ts";
import { observe } from "#src/middleware/observe.ts";
import { requestId } from "#src/middleware/request-id.ts";
import { securityHeaders } from "#src/middleware/security-headers.ts";
import type { Platform } from "#src/platform/ports.ts";

export const API_PREFIX = "/api/v1";

const EXPOSED_HEADERS = ["X-Request-ID", "Server-Timing", "RateLimit", "RateLimit-Policy", "Retry-After", "Idempotent-Replayed", "ETag", "Location", "X-Cache"];

/** Built once: the allowed origins come from each request's configuration. */
const cors = corsFor({
  allowMethods: ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
  allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-API-Key", "X-Request-ID"],
  exposeHeaders: EXPOSED_HEADERS,
  maxAgeSeconds: 600,
});

/** The whole API as one Hono app. Runtime-agnostic: the platform brings the adapters. */
export function createApp(platform: Platform) {
  // A plain Hono app: the features' routers (OpenAPIHono, with their schemas) load on first use.
  // "/me/" routes like "/me".
  const app = new Hono<AppEnv>({ strict: false });

  app.use("*", requestId(), observe(), securityHeaders(), requestContext(platform));
  app.use("*", cors);
  app.use("*", limitBody(), requireJsonBody());
  app.use(`${API_PREFIX}/*`, authenticate(), admission());

  app.onError(onError);
  registerFeatures(app, onError);
  registerDocs(app);

  const allowedMethods = allowedMethodsIndex(app.routes);
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    const error = allowed.length > 0 ? MethodNotAllowed(allowed) : NotFound(`No route matches ${c.req.method} ${c.req.path}.`);
    return problemResponse(error, c.get("requestId"), c.req.path);
  });

  return app;
}

/** The app's one error answer; a feature's route chain answers its errors with it too. */
const onError: ErrorHandler<AppEnv> = (error, c) => problemResponse(toProblemError(error, c), c.get("requestId"), c.req.path);

function toProblemError(error: unknown, c: Context<AppEnv>): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 413) return PayloadTooLarge(error.message);
    if (error.status < 500) return BadRequest(error.message || "The request could not be read.");
  }
  const dbProblem = problemForDbError(error);
  if (dbProblem) {
    c.get("logger").log("warn", "database unavailable or refused the change", { status: dbProblem.status });
    return dbProblem;
  }
  // The SQLSTATE of a database error names what went wrong without any of the request's data.
  const sqlstate = typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
  c.get("logger").log("error", "unhandled error", { error: error instanceof Error ? error.name : typeof error, sqlstate });
  const config = c.var.config;
  if (config) {
    reportError(error, {
      config,
      request: c.req.raw,
      requestId: c.get("requestId"),
      waitUntil: executionWaitUntil(c),
    });
  }
  return InternalError();
}

function executionWaitUntil(c: Context<AppEnv>): ((promise: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    return undefined;
  }
}
