/**
 * Local stand-in for Neon's SQL-over-HTTP endpoint. Point `neonConfig.fetchEndpoint` at
 * `${gateway.url}/sql` and the unmodified `neon()` driver (and drizzle-orm/neon-http) runs against
 * an embedded PGlite or a local PostgreSQL server.
 */
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Backend } from "./backend.ts";
import { createPgliteBackend } from "./backend-pglite.ts";
import { createPostgresBackend } from "./backend-postgres.ts";
import { parseJson, readBody, sendJson, sendText } from "./http.ts";
import { parseSqlRequest, postgresErrorBody, RequestError, toWireResult } from "./protocol.ts";

/** How to start a gateway. */
export interface GatewayOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Which database runs the SQL; defaults to "postgres" when `postgresUrl` is set, else "pglite". */
  backend?: "pglite" | "postgres";
  /** PGlite data directory; undefined keeps the database in memory. */
  dataDir?: string;
  /** Connection URL for the "postgres" backend. */
  postgresUrl?: string;
}

/** Counters of SQL traffic served, for asserting round-trip budgets in tests and benches. */
export interface GatewayStats {
  /** HTTP requests to POST /sql that reached the database (a batch counts once). */
  sqlRequests: number;
  /** Statements in those requests (a batch counts each of its queries). */
  statements: number;
}

/** A running gateway. */
export interface Gateway {
  /** Base URL, always `http://127.0.0.1:PORT`. */
  url: string;
  port: number;
  backendName: string;
  stats(): GatewayStats;
  resetStats(): void;
  /** Stops listening, drops open connections, then closes the database. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

function openBackend(options: GatewayOptions): Promise<Backend> {
  const kind = options.backend ?? (options.postgresUrl ? "postgres" : "pglite");
  if (kind === "pglite") return createPgliteBackend(options.dataDir);
  if (!options.postgresUrl) throw new Error("The postgres backend needs postgresUrl (LOCAL_POSTGRES_URL)");
  return createPostgresBackend(options.postgresUrl);
}

// A web page could otherwise reach this port through DNS rebinding and run arbitrary SQL.
function assertLoopbackHost(req: IncomingMessage): void {
  const host = req.headers.host ?? "";
  const hostname = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : (host.split(":")[0] ?? "");
  if (!LOOPBACK_HOSTS.has(hostname)) throw new RequestError("Host header must name a loopback address", 403);
}

function answerError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) return void res.destroy();
  if (error instanceof RequestError) return sendJson(res, error.status, { message: error.message });
  const postgresError = postgresErrorBody(error);
  if (postgresError) return sendJson(res, 400, postgresError);
  // Only the message: stacks and error objects from drivers can carry query parameters.
  const message = error instanceof Error ? error.message : String(error);
  console.error("gateway: internal error:", message);
  sendText(res, 500, `Gateway error: ${message.slice(0, 200)}`);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts a gateway on 127.0.0.1 (never another interface) with the chosen backend. */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const backend = await openBackend(options);
  const counters: GatewayStats = { sqlRequests: 0, statements: 0 };
  const stats = (): GatewayStats => ({ ...counters });
  const resetStats = (): void => {
    counters.sqlRequests = 0;
    counters.statements = 0;
  };

  const handleSql = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const request = parseSqlRequest(parseJson(await readBody(req)), req.headers);
    counters.sqlRequests += 1;
    if (request.kind === "single") {
      counters.statements += 1;
      const result = await backend.query(request.statement);
      return sendJson(res, 200, toWireResult(result, request.arrayMode));
    }
    counters.statements += request.statements.length;
    const results = request.statements.length === 0 ? [] : await backend.batch(request.statements, request.options);
    sendJson(res, 200, { results: results.map((r) => toWireResult(r, request.arrayMode)) });
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    assertLoopbackHost(req);
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    switch (`${req.method} ${path}`) {
      case "POST /sql":
        return handleSql(req, res);
      case "GET /stats":
        return sendJson(res, 200, stats());
      case "POST /stats/reset":
        resetStats();
        return sendJson(res, 200, stats());
      case "GET /health":
        return sendJson(res, 200, { ok: true, backend: backend.name });
      default:
        return sendJson(res, 404, { message: `No route for ${req.method} ${path}` });
    }
  };

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => answerError(res, error));
  });
  let port: number;
  try {
    port = await listen(server, options.port ?? 0);
  } catch (error) {
    await backend.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
      await backend.close();
    })();
    return closing;
  };

  return { url: `http://127.0.0.1:${port}`, port, backendName: backend.name, stats, resetStats, close };
}
