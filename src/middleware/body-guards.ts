import type { MiddlewareHandler } from "hono";
import { PayloadTooLarge, UnsupportedMediaType } from "#src/lib/errors.ts";
import type { AppEnv } from "#src/lib/types.ts";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/**
 * Refused bodies up to this size are read to the end before the 413; larger ones are cut off.
 * 100 MiB is the most Cloudflare lets reach a Worker on most plans, so in production every
 * refused body gets its clean 413.
 */
export const DRAIN_LIMIT_BYTES = 100 * 1024 * 1024;

/**
 * Reads and discards what is left of a refused body, up to DRAIN_LIMIT_BYTES in all. Answering
 * while the client is still sending makes workerd drop the connection under the sender's feet:
 * wrangler dev's proxy turned twenty parallel 1.1 MB bodies into plain-text 500s with its stack
 * trace ("Network connection lost") instead of the Worker's 413, and a client behind any proxy
 * can see a reset instead of the answer. Draining costs I/O, not CPU; beyond the bound the body
 * is cancelled, since nobody honest sends that much.
 */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number): Promise<void> {
  let read = alreadyRead;
  try {
    while (read <= DRAIN_LIMIT_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // the client went away: nothing is left to drain
  }
}

/**
 * Rejects bodies over `BODY_LIMIT_BYTES` with 413, whether or not Content-Length tells the truth,
 * after draining the rest (see `drain`). A body within the limit is buffered once and handed on.
 */
export function limitBody(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const maxSize = c.get("config").BODY_LIMIT_BYTES;
    const tooLarge = () => PayloadTooLarge(`The body exceeds ${maxSize} bytes.`);
    const reader = body.getReader();
    const declared = c.req.raw.headers.has("transfer-encoding") ? Number.NaN : Number(c.req.header("Content-Length"));
    if (declared > maxSize) {
      if (declared <= DRAIN_LIMIT_BYTES) await drain(reader, 0);
      else await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxSize) {
        await drain(reader, size);
        throw tooLarge();
      }
      chunks.push(value);
    }
    const buffer = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      buffer.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { method: c.req.method, body: buffer });
    return next();
  };
}

function hasBody(request: Request): boolean {
  const length = request.headers.get("Content-Length");
  if (length !== null) return Number(length) > 0;
  return request.body !== null;
}

/**
 * The API speaks JSON in UTF-8 (RFC 8259): a body of any other type, charset or content coding
 * answers 415, rather than being read as UTF-8 anyway or failing as "malformed JSON".
 */
export function requireJsonBody(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || !hasBody(c.req.raw)) return next();
    const type = c.req.header("Content-Type") ?? "";
    if (!JSON_TYPE.test(type)) {
      throw UnsupportedMediaType(`Send the body as application/json, not ${type ? `"${type.split(";")[0]}"` : "an untyped body"}.`);
    }
    const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
      throw UnsupportedMediaType(`Send JSON in UTF-8, not ${charset.slice(0, 40)}.`);
    }
    const coding = c.req.header("Content-Encoding")?.trim().toLowerCase();
    if (coding && coding !== "identity") {
      throw UnsupportedMediaType(`Send the body without a content coding, not "${coding.slice(0, 40)}".`);
    }
    return next();
  };
}
