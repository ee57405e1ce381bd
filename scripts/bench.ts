// `npm run bench`: starts its own dev stack (free ports, throwaway PGlite, output in a temp log),
// signs up through the API, then loads GET /health, GET /api/v1/me and POST /api/v1/auth/login
// with autocannon. Per scenario: requests/s, p50/p99 latency, non-2xx, SQL round trips and
// workerd CPU ms per request; then the bundle's gzip size. BENCH_SECONDS (10), BENCH_CONNECTIONS
// (10) and BENCH_LOGIN_CONNECTIONS (4: PBKDF2 makes login CPU-bound) tune the load.
import { delimiter, dirname, join } from "node:path";
import autocannon from "autocannon";
import type { Options } from "autocannon";
import { PASSWORD, readsLimit, signup } from "./bench/api.ts";
import { cpuMsBetween, workerdTicks } from "./bench/proc.ts";
import { startStack } from "./bench/stack.ts";
import type { Stack } from "./bench/stack.ts";
import { measureBundle } from "./bundle-size.ts";

const root = dirname(import.meta.dirname);
process.chdir(root);
process.env.PATH = [join(root, "node_modules", ".bin"), process.env.PATH].join(delimiter);

const envInt = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
const SECONDS = envInt("BENCH_SECONDS", 10);
const CONNECTIONS = envInt("BENCH_CONNECTIONS", 10);
const LOGIN_CONNECTIONS = envInt("BENCH_LOGIN_CONNECTIONS", Math.min(4, CONNECTIONS));

interface Scenario {
  name: string;
  path: string;
  connections: number;
  request: Pick<Options, "method" | "headers" | "body">;
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  completed: number;
  non2xx: number;
  errors: number;
  sqlPerRequest: number;
  cpuMsPerRequest: number;
  /** wrangler reloaded the Worker mid-scenario (someone edited src/): the figures are off. */
  disturbed: boolean;
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

async function gatewayStats(stack: Stack, reset: boolean): Promise<number> {
  const response = await fetch(`${stack.gateway}/stats${reset ? "/reset" : ""}`, { method: reset ? "POST" : "GET" });
  return ((await response.json()) as { sqlRequests: number }).sqlRequests;
}

async function run(stack: Stack, scenario: Scenario): Promise<Row> {
  console.log(`bench: ${scenario.name} (${SECONDS} s, ${scenario.connections} connections)…`);
  await gatewayStats(stack, true);
  const cpuBefore = workerdTicks(stack.pid);
  const reloadsBefore = stack.reloads();
  const result = await autocannon({ url: `${stack.base}${scenario.path}`, connections: scenario.connections, duration: SECONDS, timeout: 30, ...scenario.request });
  const cpuAfter = workerdTicks(stack.pid);
  const sql = await gatewayStats(stack, false);
  const completed = result.requests.total;
  const perRequest = (value: number) => (completed > 0 ? value / completed : Number.NaN);
  const statuses = Object.entries(result.statusCodeStats).map(([status, { count }]) => `${status}×${count}`).join(" ");
  if (cpuAfter.size === 0) console.warn("bench: no workerd process found below dev.ts; CPU column is 0");
  const row: Row = {
    name: scenario.name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    completed,
    non2xx: result.non2xx,
    errors: result.errors,
    sqlPerRequest: perRequest(sql),
    cpuMsPerRequest: perRequest(cpuMsBetween(cpuBefore, cpuAfter)),
    disturbed: stack.reloads() !== reloadsBefore,
  };
  if (row.disturbed) console.warn("bench:   wrangler rebuilt and reloaded the Worker during this scenario (src/ changed): figures are disturbed");
  console.log(
    `bench:   ${fmt(row.rps)} req/s, p50 ${fmt(row.p50)} ms, p99 ${fmt(row.p99)} ms, non-2xx ${row.non2xx}, ` +
      `${fmt(row.sqlPerRequest, 2)} SQL/req, ${fmt(row.cpuMsPerRequest, 2)} workerd CPU ms/req [${statuses || "no responses"}]`,
  );
  return row;
}

/** The limiter would turn the bench into a 429 benchmark: say so up front if a limit is low. */
function warnIfLimited(name: string, limitPerMinute: number, expectedRequests: number): void {
  if (limitPerMinute < expectedRequests) {
    console.warn(`bench: ${name} is limited to ${limitPerMinute}/min (expected ~${Math.round(expectedRequests)} requests): expect 429s; dev.ts takes RATE_LIMIT_* from the environment`);
  }
}

function printTable(rows: Row[], gzipKiB: number | undefined): void {
  const header = ["scenario", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx", "errors", "SQL/req", "CPU ms/req"];
  const lines = rows.map((r) => [`${r.name}${r.disturbed ? " *" : ""}`, fmt(r.rps), fmt(r.p50), fmt(r.p99), String(r.completed), String(r.non2xx), String(r.errors), fmt(r.sqlPerRequest, 2), fmt(r.cpuMsPerRequest, 2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => (line[i] ?? "").length)));
  const render = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  console.log(`\n${render(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const line of lines) console.log(render(line));
  if (rows.some((r) => r.disturbed)) console.log("* wrangler reloaded the Worker mid-scenario (src/ edited meanwhile): rerun for clean figures");
  console.log(`\nbundle: ${gzipKiB === undefined ? "n/a" : `${gzipKiB.toFixed(1)} KiB gzip`}   (${SECONDS} s per scenario, ${CONNECTIONS} connections, login ${LOGIN_CONNECTIONS})`);
}

async function main(): Promise<number> {
  console.log("bench: starting the dev stack (up to 120 s)…");
  const stack = await startStack();
  const onSignal = () => void stack.stop().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const rows: Row[] = [];
  let measured = false;
  try {
    console.log(`bench: API ${stack.base}, gateway ${stack.gateway}, log ${stack.logPath}`);
    const owner = await signup(stack.base, "owner");
    const health = await run(stack, { name: "GET /health", path: "/health", connections: CONNECTIONS, request: {} });
    rows.push(health);
    warnIfLimited("GET /api/v1/me", await readsLimit(stack.base, owner), health.rps * SECONDS);
    warnIfLimited("POST /api/v1/auth/login", owner.authLimit, 100 * SECONDS);
    const auth = { Authorization: `Bearer ${owner.accessToken}` };
    const scenarios: Scenario[] = [
      { name: "GET /api/v1/me", path: "/api/v1/me", connections: CONNECTIONS, request: { headers: auth } },
      {
        name: "POST /api/v1/auth/login",
        path: "/api/v1/auth/login",
        connections: LOGIN_CONNECTIONS,
        request: { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: owner.email, password: PASSWORD }) },
      },
    ];
    for (const scenario of scenarios) rows.push(await run(stack, scenario));
    measured = true;
  } finally {
    await stack.stop(!measured);
  }
  let gzipKiB: number | undefined;
  try {
    gzipKiB = measureBundle().gzipKiB;
  } catch (error) {
    console.error(`bench: bundle size unavailable: ${error instanceof Error ? error.message : String(error)}`);
  }
  printTable(rows, gzipKiB);
  const failed = rows.filter((row) => row.completed === 0 || row.non2xx + row.errors > row.completed / 2);
  for (const row of failed) console.error(`bench: ${row.name} got mostly errors`);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
