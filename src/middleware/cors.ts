import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "#src/lib/types.ts";

export interface CorsOptions {
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds: number;
}

function allowedOrigin(c: Context<AppEnv>): string | undefined {
  const origin = c.req.header("Origin") ?? "";
  return origin !== "" && c.get("config").CORS_ORIGINS.includes(origin) ? origin : undefined;
}

/**
 * CORS for the origins in `CORS_ORIGINS`, built once. Same headers as hono/cors, but written on
 * the final response only: hono/cors touches `c.res` before the handler runs, which makes Hono
 * build every response twice (an empty one first, then a copy of the handler's with its headers
 * merged in) and a third time for its `Vary` after the handler. Preflights answer 204 here.
 */
export function corsFor(options: CorsOptions): MiddlewareHandler<AppEnv> {
  const methods = options.allowMethods.join(",");
  const allowHeaders = options.allowHeaders.join(",");
  const exposeHeaders = options.exposeHeaders.join(",");
  const maxAge = String(options.maxAgeSeconds);
  return async (c, next) => {
    if (c.req.method === "OPTIONS") {
      const headers = new Headers({ "Access-Control-Expose-Headers": exposeHeaders, Vary: "Origin" });
      const origin = allowedOrigin(c);
      if (origin) headers.set("Access-Control-Allow-Origin", origin);
      headers.set("Access-Control-Max-Age", maxAge);
      headers.set("Access-Control-Allow-Methods", methods);
      headers.set("Access-Control-Allow-Headers", allowHeaders);
      headers.append("Vary", "Access-Control-Request-Headers");
      return new Response(null, { status: 204, statusText: "No Content", headers });
    }
    await next();
    const headers = c.res.headers;
    const origin = allowedOrigin(c);
    if (origin) headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Access-Control-Expose-Headers", exposeHeaders);
    headers.append("Vary", "Origin");
  };
}
