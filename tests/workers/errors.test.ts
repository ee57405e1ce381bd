import { afterEach, describe, expect, it, vi } from "vitest";
import { api, problemOf } from "./helpers.ts";
import { probe } from "./probe-app.ts";

const json = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});
const valid = { name: "Ada", age: 36, contact: { email: "ada@example.com" } };

/** The valid body, with extra request headers. */
const sendValid = (headers: Record<string, string>) =>
  probe("/api/v1/probe/echo", { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(valid) });

/** A streamed body that counts what the Worker pulled from it, and whether it was cancelled. */
const counting = (chunks: number, chunkBytes: number) => {
  const seen = { pulled: 0, cancelled: false };
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === chunks) return controller.close();
      sent++;
      seen.pulled += chunkBytes;
      controller.enqueue(new Uint8Array(chunkBytes).fill(0x20));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
};
const sendStream = (stream: ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
  // @ts-expect-error workerd needs duplex for a streamed body
  probe("/api/v1/probe/echo", { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: stream, duplex: "half" });


describe("one error path: RFC 9457 problems carrying the request id", () => {
  it("answers an unknown route with 404", async () => {
    const response = await api("/api/v1/nothing-here", { headers: { "X-Request-ID": "req-404" } });
    expect(response.status).toBe(404);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({
      type: "https://tend.care/problems/not-found",
      title: "Not found",
      status: 404,
      instance: "/api/v1/nothing-here",
      requestId: "req-404",
    });
  });

  it("answers a known path with the wrong method with 405 and Allow", async () => {
    const response = await api("/health", { method: "DELETE" });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
    expect((await problemOf(response)).title).toBe("Method not allowed");
  });

  it("answers malformed JSON with 400", async () => {
    const response = await probe("/api/v1/probe/echo", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"name": "Ada",',
    });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toMatch(/malformed json/i);
  });

  it("answers a non-JSON content type with 415", async () => {
    const response = await probe("/api/v1/probe/echo", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "name=Ada",
    });
    expect(response.status).toBe(415);
    expect((await problemOf(response)).detail).toContain("text/plain");
  });

  it("answers a body over the limit with 413, by Content-Length or by streaming", async () => {
    const big = JSON.stringify({ ...valid, name: "x".repeat(1024 * 1024) });
    const declared = await probe("/api/v1/probe/echo", json(JSON.parse(big)));
    expect(declared.status).toBe(413);
    const stream = new Blob([big]).stream();
    const streamed = await probe("/api/v1/probe/echo", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: stream,
      // @ts-expect-error workerd needs duplex for a streamed body
      duplex: "half",
    });
    expect(streamed.status).toBe(413);
    expect((await problemOf(streamed)).status).toBe(413);
  });

  it("reads a refused body to the end before the 413, so no proxy sees the connection dropped mid-upload", async () => {
    const streamed = counting(20, 64 * 1024);
    expect((await sendStream(streamed.stream)).status).toBe(413);
    expect(streamed.seen).toEqual({ pulled: 20 * 64 * 1024, cancelled: false });

    // Past DRAIN_LIMIT_BYTES (100 MiB) the rest is cancelled, not read.
    const huge = counting(1700, 64 * 1024);
    expect((await sendStream(huge.stream)).status).toBe(413);
    expect(huge.seen.cancelled).toBe(true);
    expect(huge.seen.pulled).toBeLessThan(1700 * 64 * 1024);
  });

  it("answers 415 to JSON in another charset or under a content coding, instead of misreading it", async () => {
    const refused: Record<string, string>[] = [{ "Content-Type": "application/json; charset=utf-16" }, { "Content-Type": "application/json;charset=\"latin1\"" }, { "Content-Encoding": "gzip" }];
    for (const headers of refused) {
      const response = await sendValid(headers);
      expect(response.status).toBe(415);
      expect((await problemOf(response)).detail).toMatch(/UTF-8|content coding/);
    }
    expect((await sendValid({ "Content-Type": "application/json; charset=UTF-8" })).status).toBe(200);
  });

  it("honours BODY_LIMIT_BYTES", async () => {
    const response = await probe("/api/v1/probe/echo", json(valid), { BODY_LIMIT_BYTES: "20" });
    expect(response.status).toBe(413);
  });

  it("answers a validation failure with 422 listing every failing field", async () => {
    const response = await probe(
      "/api/v1/probe/echo",
      json({ name: "", age: -1, contact: { email: "nope", phone: "1" }, extra: true }),
    );
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    const paths = (problem.errors as { path: string; message: string }[]).map((error) => error.path).sort();
    expect(paths).toEqual(["body.age", "body.contact.email", "body.contact.phone", "body.extra", "body.name"]);
    expect(problem.title).toBe("Validation failed");
  });

  it("accepts a valid body", async () => {
    const response = await probe("/api/v1/probe/echo", json(valid));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(valid);
  });
});

describe("unexpected errors", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answer 500 with no stack and no SQL text", async () => {
    const response = await probe("/api/v1/probe/boom");
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toMatch(/select|patients|Jane|SecretBug|at .*\.ts/i);
    expect(JSON.parse(text)).toMatchObject({ status: 500, title: "Internal server error" });
  });

  it("are reported through toucan-js when SENTRY_DSN is set, with request details scrubbed", async () => {
    const sent: { url: string; body: string }[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.includes("sentry.tend.test")) {
        sent.push({ url, body: String(init?.body ?? "") });
        return new Response("{}", { status: 200 });
      }
      return realFetch(input, init);
    });
    const response = await probe(
      "/api/v1/probe/boom?patient=Jane",
      { headers: { "X-Forwarded-Secret": "secret-token", Cookie: "session=abc" } },
      { SENTRY_DSN: "https://publickey@sentry.tend.test/42" },
    );
    expect(response.status).toBe(500);
    expect(sent).toHaveLength(1);
    const envelope = sent[0]?.body ?? "";
    expect(envelope).toContain("SecretBug");
    expect(envelope).toContain(response.headers.get("X-Request-ID"));
    expect(envelope).not.toMatch(/secret-token|session=abc|patient=Jane/);
  });

  it("are not sent anywhere when SENTRY_DSN is unset", async () => {
    const spy = vi.spyOn(globalThis, "fetch");
    await probe("/api/v1/probe/boom");
    expect(spy).not.toHaveBeenCalled();
  });
});
