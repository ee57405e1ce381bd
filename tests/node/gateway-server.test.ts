import { Agent, request } from "node:http";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { startGateway } from "../../scripts/gateway/server.ts";
import { describeEachBackend } from "./gateway-harness.ts";

const CONNECTION = { "Neon-Connection-String": "postgres://postgres@127.0.0.1:1/tend" };
const DRIVER_HEADERS = { ...CONNECTION, "Neon-Raw-Text-Output": "true", "Neon-Array-Mode": "true" };

interface RawAnswer {
  status: number;
  body: unknown;
}

/** A plain POST, bypassing the driver, to look at exactly what goes over the wire. */
async function post(url: string, body: string, headers: Record<string, string>): Promise<RawAnswer> {
  const res = await fetch(url, { method: "POST", body, headers });
  const text = await res.text();
  const isJson = res.headers.get("content-type")?.startsWith("application/json") ?? false;
  return { status: res.status, body: isJson ? JSON.parse(text) : text };
}

/** A GET through node:http, which (unlike fetch) lets a test choose the Host header and agent. */
function get(url: string, options: { host?: string; agent?: Agent } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = options.host ? { host: options.host } : {};
    const req = request(url, { headers, agent: options.agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

function firstExternalIPv4(): string | undefined {
  const addresses = Object.values(networkInterfaces()).flat();
  return addresses.find((a) => a !== undefined && a.family === "IPv4" && !a.internal)?.address;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(2000, () => done(false));
  });
}

describeEachBackend("gateway HTTP surface", (harness) => {
  const sqlUrl = (): string => `${harness().gateway.url}/sql`;

  it("counts one SQL request per HTTP request and every statement in it", async () => {
    const { gateway, sql } = harness();
    gateway.resetStats();
    await sql`SELECT 1`;
    expect(gateway.stats()).toEqual({ sqlRequests: 1, statements: 1 });
    await sql.transaction([sql`SELECT 1`, sql`SELECT 2`, sql`SELECT 3`]);
    expect(gateway.stats()).toEqual({ sqlRequests: 2, statements: 4 });
    await sql`SELEC 1`.catch(() => undefined); // failed SQL was still served
    const overHttp = await (await fetch(`${gateway.url}/stats`)).json();
    expect(overHttp).toEqual({ sqlRequests: 3, statements: 5 });
    const reset = await fetch(`${gateway.url}/stats/reset`, { method: "POST" });
    expect(await reset.json()).toEqual({ sqlRequests: 0, statements: 0 });
    expect(gateway.stats()).toEqual({ sqlRequests: 0, statements: 0 });
  });

  it("answers 400 with a message when Neon-Connection-String is missing, without counting it", async () => {
    const { gateway } = harness();
    gateway.resetStats();
    const answer = await post(sqlUrl(), JSON.stringify({ query: "SELECT 1", params: [] }), {});
    expect(answer).toEqual({ status: 400, body: { message: "Missing Neon-Connection-String header" } });
    expect(gateway.stats().sqlRequests).toBe(0);
  });

  it("answers 400 for malformed bodies and headers", async () => {
    const bad = [
      ["{not json", CONNECTION],
      ["[1]", CONNECTION],
      [JSON.stringify({ params: [] }), CONNECTION],
      [JSON.stringify({ query: "SELECT $1", params: "x" }), CONNECTION],
      [JSON.stringify({ query: "SELECT $1", params: [{ a: 1 }] }), CONNECTION],
      [JSON.stringify({ queries: {} }), CONNECTION],
      [JSON.stringify({ queries: [] }), { ...CONNECTION, "Neon-Batch-Isolation-Level": "Chaos" }],
      [JSON.stringify({ queries: [] }), { ...CONNECTION, "Neon-Batch-Read-Only": "yes" }],
    ] as const;
    for (const [body, headers] of bad) {
      // oxlint-disable-next-line no-await-in-loop -- one request at a time keeps failures readable
      const answer = await post(sqlUrl(), body, headers);
      expect(answer.status, body).toBe(400);
      expect(answer.body).toMatchObject({ message: expect.any(String) });
    }
  });

  it("serves raw Postgres text in array mode and objects otherwise", async () => {
    const body = JSON.stringify({ query: "SELECT $1::int8 AS n, '\\x0a'::bytea AS b, NULL::int AS z", params: ["42"] });
    const arrays = await post(sqlUrl(), body, DRIVER_HEADERS);
    expect(arrays.status).toBe(200);
    expect(arrays.body).toMatchObject({ command: "SELECT", rowCount: 1, rowAsArray: true, rows: [["42", "\\x0a", null]] });
    const objects = await post(sqlUrl(), body, CONNECTION);
    expect(objects.body).toMatchObject({ rowAsArray: false, rows: [{ n: "42", b: "\\x0a", z: null }] });
    const fields = (arrays.body as { fields: unknown[] }).fields;
    expect(fields[0]).toMatchObject({ name: "n", dataTypeID: 20, format: "text" });
  });

  it("answers a batch with one result per query, and an empty batch with none", async () => {
    const queries = [{ query: "SELECT 1 AS a", params: [] }, { query: "SELECT $1 AS b", params: ["x"] }];
    const answer = await post(sqlUrl(), JSON.stringify({ queries }), DRIVER_HEADERS);
    expect(answer.body).toMatchObject({ results: [{ rows: [["1"]] }, { rows: [["x"]] }] });
    const empty = await post(sqlUrl(), JSON.stringify({ queries: [] }), DRIVER_HEADERS);
    expect(empty).toEqual({ status: 200, body: { results: [] } });
  });

  it("reports health with the backend name and 404s unknown routes", async () => {
    const { gateway, backend } = harness();
    expect(await (await fetch(`${gateway.url}/health`)).json()).toEqual({ ok: true, backend });
    expect(gateway.backendName).toBe(backend);
    expect((await fetch(`${gateway.url}/nope`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/sql`)).status).toBe(404);
  });

  it("refuses bodies over 10 MiB with 413", async () => {
    const huge = JSON.stringify({ query: "SELECT $1", params: ["x".repeat(11 * 1024 * 1024)] });
    const answer = await post(sqlUrl(), huge, CONNECTION);
    expect(answer.status).toBe(413);
  });

  it("refuses requests whose Host is not a loopback name (DNS rebinding)", async () => {
    const { gateway } = harness();
    expect(await get(`${gateway.url}/health`, { host: "evil.example:80" })).toBe(403);
    expect(await get(`${gateway.url}/health`, { host: `localhost:${gateway.port}` })).toBe(200);
  });

  it("binds 127.0.0.1 only", async () => {
    const { gateway } = harness();
    expect(new URL(gateway.url).hostname).toBe("127.0.0.1");
    const external = firstExternalIPv4();
    if (external !== undefined) expect(await canConnect(external, gateway.port)).toBe(false);
    expect(await canConnect("127.0.0.1", gateway.port)).toBe(true);
  });
});

describe("gateway lifecycle", () => {
  it("close() drops keep-alive connections and stops listening", async () => {
    const gateway = await startGateway({ port: 0, backend: "pglite" });
    const agent = new Agent({ keepAlive: true });
    expect(await get(`${gateway.url}/health`, { agent })).toBe(200);
    const started = Date.now();
    await gateway.close();
    expect(Date.now() - started).toBeLessThan(3000); // not waiting out the keep-alive timeout
    await expect(get(`${gateway.url}/health`)).rejects.toThrow();
    await gateway.close(); // idempotent
    agent.destroy();
  });

  it("refuses a port that is already taken and releases its database", async () => {
    const first = await startGateway({ port: 0, backend: "pglite" });
    await expect(startGateway({ port: first.port, backend: "pglite" })).rejects.toThrow(/EADDRINUSE/);
    await first.close();
  });
});
