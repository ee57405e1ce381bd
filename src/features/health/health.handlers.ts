import { createDb } from "#src/db/client.ts";
import { checkReadiness } from "#src/features/health/health.service.ts";
import type * as routes from "#src/features/health/health.routes.ts";
import { ServiceUnavailable } from "#src/lib/errors.ts";
import type { AppHandler } from "#src/lib/route.ts";

/** Readiness answers within this, whatever a dependency does. */
export const READY_TIMEOUT_MS = 2000;
const RETRY_AFTER_SECONDS = 5;

export const live: AppHandler<typeof routes.live> = (c) => c.json({ status: "ok" as const }, 200);

/** Not ready is a 503 problem carrying every check (an extension member), written by `onError`. */
export const ready: AppHandler<typeof routes.ready> = async (c) => {
  const { cache, rateLimiter, jobs } = c.get("adapters");
  const db = createDb(c.get("config"), { timing: c.get("timing"), timeoutMs: READY_TIMEOUT_MS });
  const readiness = await checkReadiness({ db, cache, rateLimiter, jobs, timeoutMs: READY_TIMEOUT_MS });
  if (readiness.ok) {
    return c.json({ status: "ok" as const, platform: c.get("platform").name, checks: readiness.checks }, 200);
  }
  const failed = Object.entries(readiness.checks)
    .filter(([, check]) => check.status === "fail")
    .map(([name]) => name);
  throw ServiceUnavailable(`Not ready: ${failed.join(", ")}.`, RETRY_AFTER_SECONDS, { checks: readiness.checks });
};
