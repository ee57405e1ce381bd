// Runs the Deno entry (src/deno.ts) against an in-memory gateway and checks that the same app
// answers on Deno: health, readiness through the memory adapters and the database, the OpenAPI
// document, Swagger UI with its vendored files, the password policy's breached set read from
// public/_tend/, and problem+json for unknown routes.
// `node scripts/deno-smoke.ts`; prints one line per check and exits non-zero on any failure.
import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { copyDocsAssets } from "./docs-assets.ts";
import { type Gateway, startGateway } from "./gateway/server.ts";
import { migrate } from "./migrate.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DENO = join(ROOT, "node_modules", ".bin", "deno");
/** Exactly `deno task start` from deno.json (permissions included), minus the executable. */
const START_TASK = (JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as { tasks: { start: string } }).tasks.start;
const DENO_RUN_ARGS = START_TASK.trim().split(/\s+/).slice(1);
const READY_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 5_000;
const OVERALL_TIMEOUT_MS = 120_000;

interface Check {
  name: string;
  path: string;
  init?: RequestInit;
  verify(response: Response): Promise<void>;
}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

function expectStatus(response: Response, status: number, contentType: string): void {
  expect(response.status === status, `status ${response.status}, expected ${status}`);
  const actual = response.headers.get("content-type") ?? "";
  expect(actual.includes(contentType), `content-type "${actual}", expected ${contentType}`);
}

const CHECKS: Check[] = [
  {
    name: "GET /health",
    path: "/health",
    async verify(response) {
      expectStatus(response, 200, "application/json");
      const body = await json(response);
      expect(body.status === "ok", `status field ${JSON.stringify(body.status)}`);
    },
  },
  {
    name: "GET /ready",
    path: "/ready",
    async verify(response) {
      const body = await json(response);
      expect(response.status === 200, `status ${response.status}: ${JSON.stringify(body)}`);
      expect(body.platform === "memory", `platform ${JSON.stringify(body.platform)}`);
      const checks = (body.checks ?? {}) as Record<string, { status?: string } | undefined>;
      for (const name of ["database", "kv", "durableObjects", "queue"]) {
        expect(checks[name]?.status === "ok", `checks.${name}: ${JSON.stringify(checks[name])}`);
      }
    },
  },
  {
    name: "GET /api/v1/openapi.json",
    path: "/api/v1/openapi.json",
    async verify(response) {
      expectStatus(response, 200, "application/json");
      const body = await json(response);
      expect(body.openapi === "3.1.0", `openapi ${JSON.stringify(body.openapi)}`);
    },
  },
  {
    name: "GET /docs",
    path: "/docs",
    async verify(response) {
      expectStatus(response, 200, "text/html");
      expect((await response.text()).includes("swagger-ui-bundle.js"), "page does not load swagger-ui-bundle.js");
    },
  },
  {
    name: "GET /docs/vendor/swagger-ui-dist/swagger-ui-bundle.js",
    path: "/docs/vendor/swagger-ui-dist/swagger-ui-bundle.js",
    async verify(response) {
      expectStatus(response, 200, "javascript");
      expect(response.headers.get("x-content-type-options") === "nosniff", "no X-Content-Type-Options: nosniff");
      expect((await response.arrayBuffer()).byteLength > 100_000, "bundle is suspiciously small");
    },
  },
  {
    name: "GET /docs/vendor/ traversal is not served",
    path: "/docs/vendor/swagger-ui-dist/..%2f..%2f..%2f..%2fpackage.json",
    async verify(response) {
      expectStatus(response, 404, "application/problem+json");
    },
  },
  {
    name: "POST /api/v1/auth/password/reset refuses a breached password (the set, from public/_tend/)",
    path: "/api/v1/auth/password/reset",
    init: {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      // The policy is checked before the token, so no real reset link is needed.
      body: JSON.stringify({ token: "smoke-not-a-reset-token-0123456789", password: "mailcreated5240" }),
    },
    async verify(response) {
      expectStatus(response, 422, "application/problem+json");
      const body = await json(response);
      expect(JSON.stringify(body.errors).includes("breached passwords"), `errors ${JSON.stringify(body.errors)}`);
    },
  },
  {
    name: "GET /nope",
    path: "/nope",
    async verify(response) {
      expectStatus(response, 404, "application/problem+json");
      const body = await json(response);
      expect(typeof body.requestId === "string" && body.requestId !== "", "problem has no requestId");
    },
  },
];

/**
 * The care loop on Deno: signs up an owner as a person would (the development mailer prints the
 * confirmation link's call, read from Deno's output), then GET /api/v1/alerts as that owner.
 */
async function signedUpOwnerReadsAlerts(base: string): Promise<void> {
  const email = `smoke-${randomBytes(4).toString("hex")}@example.com`;
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const requested = await post("/api/v1/auth/signup", { organizationName: "Smoke Care", name: "Smoke Owner", email });
  expect(requested.status === 202, `signup: status ${requested.status}`);
  let token: string | undefined;
  for (let waited = 0; !token && waited < REQUEST_TIMEOUT_MS; waited += 100) {
    token = /signup\/confirm' .*?"token":"([^"]+)"/.exec(output.join(""))?.[1];
    if (!token) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(token, "no sign-up link in the development mailer's output");
  const confirmed = await post("/api/v1/auth/signup/confirm", { token, password: "smoke amber kettle under the stairs" });
  const signedUp = (await confirmed.json()) as { tokens?: { accessToken?: string } };
  expect(confirmed.status === 201 && signedUp.tokens?.accessToken, `confirm: status ${confirmed.status}`);
  const response = await fetch(`${base}/api/v1/alerts`, { headers: { Authorization: `Bearer ${signedUp.tokens?.accessToken}` }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  expectStatus(response, 200, "application/json");
  const body = await json(response);
  expect(Array.isArray(body.data) && body.data.length === 0 && body.nextCursor === null, `alerts ${JSON.stringify(body)}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Throwaway secrets in the shapes src/env.ts requires; nothing here outlives the run. */
function ephemeralSecrets(): Record<string, string> {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: "smoke", alg: "ES256", use: "sig" };
  return {
    JWT_PRIVATE_KEYS: JSON.stringify([jwk]),
    PASSWORD_PEPPERS: `smoke:${randomBytes(32).toString("base64url")}`,
    ENCRYPTION_KEYS: `smoke:${randomBytes(32).toString("base64")}`,
  };
}

/** Only what Deno needs to find its cache, plus the app's configuration. */
function denoEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: "1", ...vars };
  for (const key of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return env;
}

async function waitUntilAnswering(base: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`deno exited early (${child.exitCode ?? child.signalCode})`);
    }
    try {
      const response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`deno did not answer within ${READY_TIMEOUT_MS / 1000} s`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

let gateway: Gateway | undefined;
let deno: ChildProcess | undefined;
const output: string[] = [];
let passed = 0;
let failed = 0;

async function run(): Promise<void> {
  const started = performance.now();
  gateway = await startGateway({ port: 0, backend: "pglite" });
  const databaseUrl = `postgres://tend:tend@127.0.0.1:${gateway.port}/tend`;
  const endpoint = `${gateway.url}/sql`;
  await migrate(databaseUrl, endpoint);
  copyDocsAssets();
  console.log(`setup: gateway and migrations in ${Math.round(performance.now() - started)} ms`);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const spawned = performance.now();
  deno = spawn(DENO, DENO_RUN_ARGS, {
    cwd: ROOT,
    env: denoEnv({
      DATABASE_URL: databaseUrl,
      DATABASE_HTTP_ENDPOINT: endpoint,
      ENVIRONMENT: "development",
      PORT: String(port),
      ...ephemeralSecrets(),
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  deno.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  deno.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  await waitUntilAnswering(base, deno);
  console.log(`setup: deno answering on ${base} in ${Math.round(performance.now() - spawned)} ms`);

  for (const check of CHECKS) {
    const checkStarted = performance.now();
    try {
      const response = await fetch(`${base}${check.path}`, { ...check.init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await check.verify(response);
      passed++;
      console.log(`ok   ${check.name} (${Math.round(performance.now() - checkStarted)} ms)`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${check.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const careStarted = performance.now();
  try {
    await signedUpOwnerReadsAlerts(base);
    passed++;
    console.log(`ok   GET /api/v1/alerts as the signed-up owner (${Math.round(performance.now() - careStarted)} ms)`);
  } catch (error) {
    failed++;
    console.log(`FAIL GET /api/v1/alerts as the signed-up owner: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function main(): Promise<number> {
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        watchdog = setTimeout(() => reject(new Error(`timed out after ${OVERALL_TIMEOUT_MS / 1000} s`)), OVERALL_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    failed++;
    console.log(`FAIL setup: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(watchdog);
    if (deno) await stopChild(deno);
    await gateway?.close();
  }
  if (failed > 0 && output.length > 0) console.log(`--- deno output ---\n${output.join("").trimEnd()}`);
  console.log(`deno smoke: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

// Interrupted (Ctrl-C, a CI timeout): never leave the Deno server behind.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    deno?.kill("SIGKILL");
    process.exit(130);
  });
}

process.exit(await main());
