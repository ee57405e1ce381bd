import type { IncomingMessage, ServerResponse } from "node:http";
import { RequestError } from "./protocol.ts";

/** Largest request body accepted; big enough for bulk inserts, small enough to bound memory. */
export const BODY_LIMIT_BYTES = 10 * 1024 * 1024;

/** Buffers a request body, refusing (413) once it exceeds `limit` bytes. */
export function readBody(req: IncomingMessage, limit = BODY_LIMIT_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        // Keep draining so the client can read our answer instead of seeing a reset.
        req.resume();
        reject(new RequestError(`Request body exceeds ${limit} bytes`, 413));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Parses a JSON body, turning a syntax error into a 400 the driver can report. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new RequestError("Request body is not valid JSON");
  }
}

/** Sends a JSON answer. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Sends a plain-text answer (the driver reads non-400 failures as text). */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
