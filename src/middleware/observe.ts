import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { createLogger, type LogLevel } from "#src/lib/logger.ts";
import { Timing } from "#src/lib/timing.ts";
import type { AppEnv } from "#src/lib/types.ts";

const LEVELS = new Set<string>(["debug", "info", "warn", "error"]);

/**
 * Times the request, adds `Server-Timing`, and writes one access-log line: the route *pattern*,
 * never the path, so ids and query values (possibly PHI) stay out of the logs.
 */
export function observe(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const timing = new Timing();
    const level = typeof c.env?.LOG_LEVEL === "string" && LEVELS.has(c.env.LOG_LEVEL) ? c.env.LOG_LEVEL : "info";
    const logger = createLogger(level as LogLevel, { requestId: c.get("requestId") });
    c.set("timing", timing);
    c.set("logger", logger);
    await next();
    c.res.headers.set("Server-Timing", timing.header());
    const status = c.res.status;
    logger.log(status >= 500 ? "error" : "info", "request", {
      method: c.req.method,
      route: routePath(c, -1),
      status,
      durationMs: Math.round(timing.elapsedMs() * 10) / 10,
      dbMs: Math.round(timing.dbMs * 10) / 10,
    });
  };
}
