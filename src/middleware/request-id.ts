import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "#src/lib/types.ts";

const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Keeps a caller's sane `X-Request-ID` (so traces join up) or mints one; echoes it on every response. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header("X-Request-ID");
    const id = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", id);
    await next();
    c.res.headers.set("X-Request-ID", id);
  };
}
