import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "#src/lib/types.ts";

/**
 * Mounts every feature's router. API routes live under /api/v1; `/.well-known` at the root.
 * Each feature adds one line here.
 */
export function registerFeatures(app: OpenAPIHono<AppEnv>): void {
  // FEATURE:auth
  // FEATURE:mfa
  // FEATURE:organization
  void app;
}
