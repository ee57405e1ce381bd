import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { PayloadTooLarge, UnsupportedMediaType } from "#src/lib/errors.ts";
import type { AppEnv } from "#src/lib/types.ts";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Rejects bodies over `BODY_LIMIT_BYTES` with 413, whether or not Content-Length tells the truth. */
export function limitBody(): MiddlewareHandler<AppEnv> {
  return (c, next) =>
    bodyLimit({
      maxSize: c.get("config").BODY_LIMIT_BYTES,
      onError: () => {
        throw PayloadTooLarge(`The body exceeds ${c.get("config").BODY_LIMIT_BYTES} bytes.`);
      },
    })(c, next);
}

function hasBody(request: Request): boolean {
  const length = request.headers.get("Content-Length");
  if (length !== null) return Number(length) > 0;
  return request.body !== null;
}

/** The API speaks JSON: a request body of any other type answers 415. */
export function requireJsonBody(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || !hasBody(c.req.raw)) return next();
    const type = c.req.header("Content-Type") ?? "";
    if (!JSON_TYPE.test(type)) {
      throw UnsupportedMediaType(`Send the body as application/json, not ${type ? `"${type.split(";")[0]}"` : "an untyped body"}.`);
    }
    return next();
  };
}
