import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "#src/lib/types.ts";

/** API responses carry JSON only: nothing may be loaded, framed or run from them. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * HSTS, nosniff, frame-deny, no referrer and a strict CSP on every response. Routes that serve
 * HTML (only /docs) set their own narrower-than-default CSP, which this keeps.
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    headers.set("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload");
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("X-Frame-Options", "DENY");
    headers.set("Referrer-Policy", "no-referrer");
    headers.set("Cross-Origin-Opener-Policy", "same-origin");
    headers.set("Cross-Origin-Resource-Policy", "same-origin");
    if (!headers.has("Content-Security-Policy")) headers.set("Content-Security-Policy", API_CSP);
    if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
  };
}
