import { createDb } from "#src/db/client.ts";
import { checkReadiness } from "#src/features/health/health.service.ts";
import type * as routes from "#src/features/health/health.routes.ts";
import { ServiceUnavailable } from "#src/lib/errors.ts";
import { PROBLEM_CONTENT_TYPE, toProblem } from "#src/lib/problem.ts";
import type { AppRouteHandler } from "#src/lib/types.ts";

/** Readiness answers within this, whatever a dependency does. */
export const READY_TIMEOUT_MS = 2000;
const RETRY_AFTER_SECONDS = 5;

export const live: AppRouteHandler<typeof routes.live> = (c) => c.json({ status: "ok" as const }, 200);

export const ready: AppRouteHandler<typeof routes.ready> = async (c) => {
  const { cache, rateLimiter } = c.get("adapters");
  const db = createDb(c.get("config"), { timing: c.get("timing"), timeoutMs: READY_TIMEOUT_MS });
  const readiness = await checkReadiness({ db, cache, rateLimiter, timeoutMs: READY_TIMEOUT_MS });
  if (readiness.ok) {
    return c.json({ status: "ok" as const, platform: c.get("platform").name, checks: readiness.checks }, 200);
  }
  const failed = Object.entries(readiness.checks)
    .filter(([, check]) => check.status === "fail")
    .map(([name]) => name);
  const problem = toProblem(ServiceUnavailable(`Not ready: ${failed.join(", ")}.`, RETRY_AFTER_SECONDS), c.get("requestId"), c.req.path);
  return c.json({ ...problem, checks: readiness.checks }, 503, {
    "Content-Type": PROBLEM_CONTENT_TYPE,
    "Retry-After": String(RETRY_AFTER_SECONDS),
  });
};
