/**
 * Deno entry: the same app as the Worker on `Deno.serve`, with the in-memory adapters and the
 * database through DATABASE_URL (+ DATABASE_HTTP_ENDPOINT for the local gateway).
 * Run: `deno task start` (see deno.json for the permissions).
 */
import { createApp } from "#src/app.ts";
import { createDb } from "#src/db/client.ts";
import { type Config, ConfigError, parseConfig } from "#src/env.ts";
import { runJob } from "#src/jobs/runner.ts";
import { clientAddress, parseCidr } from "#src/lib/client-address.ts";
import { backgroundDeps } from "#src/lib/deps.ts";
import { createLogger } from "#src/lib/logger.ts";
import { memoryPlatform } from "#src/platform/memory/adapters.ts";
import { keepUpgradable } from "#src/platform/memory/realtime.ts";
import { createMailer } from "#src/platform/mailer.ts";
import type { StaticAssets } from "#src/platform/ports.ts";

const env: Record<string, string> = Deno.env.toObject();

function fatal(message: string, fields: Record<string, string> = {}): never {
  console.error(JSON.stringify({ time: new Date().toISOString(), level: "error", message, ...fields }));
  return Deno.exit(1);
}

/** Fails fast, naming the bad keys (never values), instead of answering every request with 500. */
function loadConfig(): Config {
  try {
    return parseConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return fatal("server misconfigured", { invalidKeys: error.keys.join(",") });
  }
}

const port = Number(env.PORT || 8788);
if (!Number.isInteger(port) || port < 0 || port > 65_535) fatal("server misconfigured", { invalidKeys: "PORT" });

/** Deno's ASSETS: the file under public/ that Workers' static assets would answer (the breached set). */
const PUBLIC_ROOT = new URL("../public/", import.meta.url);
const publicAssets: StaticAssets = {
  async get(path) {
    const file = new URL(path.replace(/^\/+/, ""), PUBLIC_ROOT);
    if (!file.href.startsWith(PUBLIC_ROOT.href)) return null;
    try {
      return await Deno.readFile(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  },
};

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL, { runtime: "deno" });
const trustedProxies = config.TRUSTED_PROXIES.flatMap((text) => parseCidr(text) ?? []);
const app = createApp(
  memoryPlatform((job, adapters) =>
    runJob(
      job,
      backgroundDeps({
        db: createDb(config, { scope: { kind: "jobs" } }),
        config,
        logger,
        adapters,
        mailer: createMailer(config, logger),
        run: `memory-queue:${job.kind}`,
      }),
    ),
    publicAssets,
  ),
);

/** Swagger UI's files, copied by scripts/docs-assets.ts; Workers serves them as static assets. */
const VENDOR_PREFIX = "/docs/vendor/";
const VENDOR_ROOT = new URL("../public/docs/vendor/", import.meta.url);
const CONTENT_TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json; charset=utf-8",
  map: "application/json; charset=utf-8",
  png: "image/png",
  svg: "image/svg+xml",
};
/** The same headers public/_headers gives these files on Workers. */
const ASSET_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
  "Cache-Control": "public, max-age=86400",
};

/** A file under public/docs/vendor/, or null to let the app answer (404 problem, like Workers). */
async function vendorFile(request: Request): Promise<Response | null> {
  const { pathname } = new URL(request.url);
  if (!pathname.startsWith(VENDOR_PREFIX) || (request.method !== "GET" && request.method !== "HEAD")) return null;
  let relative: string;
  try {
    relative = decodeURIComponent(pathname.slice(VENDOR_PREFIX.length));
  } catch {
    return null;
  }
  if (relative === "" || /[\0\\]/.test(relative)) return null;
  // URL resolution normalises "." and ".." segments; the result must still be inside the root.
  const file = new URL(relative.split("/").map(encodeURIComponent).join("/"), VENDOR_ROOT);
  if (!file.href.startsWith(VENDOR_ROOT.href)) return null;
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = await Deno.readFile(file);
  } catch (error) {
    const missing = [Deno.errors.NotFound, Deno.errors.IsADirectory, Deno.errors.NotADirectory];
    if (missing.some((kind) => error instanceof kind)) return null;
    throw error;
  }
  const extension = file.pathname.slice(file.pathname.lastIndexOf(".") + 1).toLowerCase();
  const headers = {
    ...ASSET_HEADERS,
    "Content-Type": CONTENT_TYPES[extension] ?? "application/octet-stream",
    "Content-Length": String(body.byteLength),
  };
  return new Response(request.method === "HEAD" ? null : body, { headers });
}

Deno.serve(
  {
    hostname: "127.0.0.1",
    port,
    onListen: (address) => logger.log("info", "listening", { url: `http://${address.hostname}:${address.port}` }),
  },
  async (request, info) => (await vendorFile(request)) ?? app.fetch(withPeerAddress(request, info), env),
);

/**
 * The app reads the caller's address from CF-Connecting-IP, which only Cloudflare's edge can
 * vouch for. Here nothing does, so a client-sent value is replaced before the app sees it: by the
 * socket's peer address, or, when the peer is one of TRUSTED_PROXIES, by the rightmost
 * X-Forwarded-For hop that is not (see clientAddress). Per-IP limits, the login lockout and audit
 * rows can't be steered by a header.
 */
function withPeerAddress(request: Request, info: Deno.ServeHandlerInfo): Request {
  const headers = new Headers(request.headers);
  const peer = info.remoteAddr;
  const address = "hostname" in peer ? clientAddress(peer.hostname, request.headers.get("X-Forwarded-For"), trustedProxies) : "unix";
  headers.set("CF-Connecting-IP", address);
  // Deno upgrades only the request it handed over: GET /realtime's WebSocket is made from it.
  return keepUpgradable(new Request(request, { headers }), request);
}
