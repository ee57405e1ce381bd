// `npm run bench`: measures Tend against the floor. Starts its own dev stack (free ports, a
// throwaway PGlite, or a fresh database on LOCAL_POSTGRES_URL's server when that is set) and,
// beside it, a bare Worker that answers "ok" under its own `wrangler dev` with the same flags.
// Seeds a member, warms every scenario up, then runs BENCH_ROUNDS (3) rounds of each scenario
// with autocannon and reports medians: req/s, p50/p99, SQL round trips per request (counted by
// the gateway) and workerd CPU ms per request (from /proc), each also as a ratio to the bare
// Worker. The clinical scenarios (scripts/bench/clinical.ts seeds them: 1,000 patients, 10,000
// notes, a clinician working around the clock, a pool of callers) report, per response, the round
// trips the Worker's Server-Timing names, and the share answered with none (KV hits). Then, with
// the stacks stopped, the startup CPU of the built bundle (`wrangler check
// startup`, median of 7: one run varies by ±25%) and its gzip size, and the budgets. Budgets are reported, never fatal.
// BENCH_SECONDS (5), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (10) and
// BENCH_LOGIN_CONNECTIONS (4: PBKDF2 makes login CPU-bound) tune the load; BENCH_DASHBOARD_CALLERS
// (2000) sizes the pool of callers whose first dashboard read misses the cache.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import autocannon from "autocannon";
import type { RequestSpec } from "autocannon";
import { PASSWORD, login, readsLimit, seedMember } from "./bench/api.ts";
import { bookingBodies, PATIENT_QUERY, seedCallers, seedClinicalFixture, seedNotes } from "./bench/clinical.ts";
import { benchReminderTick } from "./bench/reminder-tick.ts";
import { heartbeatScenarios } from "./bench/heartbeat.ts";
import { runFanout } from "./bench/fanout.ts";
import { cpuMsBetween, workerdTicks } from "./bench/proc.ts";
import { snapshotTree, startBareWorker, startStack } from "./bench/stack.ts";
import { activeProfileMs, median } from "./bench/stats.ts";
import type { BareWorker, Stack } from "./bench/stack.ts";
import { measureBundle } from "./bundle-size.ts";
import { fmt, printBudgets, printTable, type Row, type Sample, type Scenario, type Startup } from "./bench/report.ts";

const root = dirname(import.meta.dirname);
process.chdir(root);
process.env.PATH = [join(root, "node_modules", ".bin"), process.env.PATH].join(delimiter);

const envInt = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
const SECONDS = envInt("BENCH_SECONDS", 5);
const WARMUP_SECONDS = envInt("BENCH_WARMUP_SECONDS", 2);
const ROUNDS = envInt("BENCH_ROUNDS", 3);
const CONNECTIONS = envInt("BENCH_CONNECTIONS", 10);
const LOGIN_CONNECTIONS = envInt("BENCH_LOGIN_CONNECTIONS", Math.min(4, CONNECTIONS));
const DASHBOARD_CALLERS = envInt("BENCH_DASHBOARD_CALLERS", 2000);

async function gatewayStats(gateway: string | undefined, reset: boolean): Promise<number> {
  if (!gateway) return 0;
  const response = await fetch(`${gateway}/stats${reset ? "/reset" : ""}`, { method: reset ? "POST" : "GET" });
  return ((await response.json()) as { sqlRequests: number }).sqlRequests;
}

/**
 * Waits (20 s at most) until the gateway has seen no SQL for a second: the queue consumers of the
 * previous scenario's domain events (a booking's outbox row) would otherwise run, and count, in
 * the next one's window. Answers how long it waited.
 */
async function settle(gateway: string | undefined, quietMs = 1000, maxMs = 20_000): Promise<number> {
  if (!gateway) return 0;
  const started = Date.now();
  let last = await gatewayStats(gateway, false);
  while (Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const now = await gatewayStats(gateway, false);
    if (now === last) break;
    last = now;
  }
  return Date.now() - started;
}

async function measure(scenario: Scenario, seconds: number, quietGateway?: string): Promise<Sample> {
  const { target } = scenario;
  await settle(quietGateway ?? target.gateway);
  await gatewayStats(target.gateway, true);
  const reloadsBefore = target.reloads?.() ?? 0;
  const perResponse = { timed: 0, roundTrips: 0, zero: 0 };
  const onResponse = (status: number, _body: string, _context: unknown, headers: Record<string, string | string[]>) => {
    if (status < 200 || status >= 300) return;
    const timing = Object.entries(headers).find(([name]) => name.toLowerCase() === "server-timing")?.[1];
    const match = /desc="(\d+) round trips"/.exec(String(timing ?? ""));
    if (!match) return;
    const trips = Number(match[1]);
    perResponse.timed++;
    perResponse.roundTrips += trips;
    if (trips === 0) perResponse.zero++;
  };
  const { next } = scenario;
  const request = { ...scenario.request, onResponse, ...(next ? { setupRequest: (spec: RequestSpec) => next(spec) } : {}) };
  const cpuBefore = workerdTicks(target.pid);
  const result = await autocannon({ url: `${target.base}${scenario.path}`, connections: scenario.connections, duration: seconds, timeout: 30, requests: [request] });
  const cpuAfter = workerdTicks(target.pid);
  const sql = await gatewayStats(target.gateway, false);
  if (cpuAfter.size === 0) console.warn(`bench: no workerd process found below pid ${target.pid}; CPU is 0`);
  const completed = result.requests.total;
  const perRequest = (value: number) => (completed > 0 ? value / completed : Number.NaN);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    completed,
    non2xx: result.non2xx,
    errors: result.errors,
    sqlPerRequest: perRequest(sql),
    cpuMsPerRequest: perRequest(cpuMsBetween(cpuBefore, cpuAfter)),
    headerSqlPerRequest: perResponse.timed > 0 ? perResponse.roundTrips / perResponse.timed : Number.NaN,
    zeroSqlShare: perResponse.timed > 0 ? perResponse.zero / perResponse.timed : Number.NaN,
    statuses: Object.entries(result.statusCodeStats).map(([status, { count }]) => `${status}×${count}`).join(" "),
    disturbed: (target.reloads?.() ?? 0) !== reloadsBefore,
  };
}

function summarize(name: string, samples: Sample[]): Row {
  const pick = (key: "rps" | "p50" | "p99" | "sqlPerRequest" | "cpuMsPerRequest" | "headerSqlPerRequest" | "zeroSqlShare") => median(samples.map((sample) => sample[key]));
  const sum = (key: "completed" | "non2xx" | "errors") => samples.reduce((total, sample) => total + sample[key], 0);
  return {
    name,
    rounds: samples.length,
    rps: pick("rps"),
    p50: pick("p50"),
    p99: pick("p99"),
    sqlPerRequest: pick("sqlPerRequest"),
    cpuMsPerRequest: pick("cpuMsPerRequest"),
    headerSqlPerRequest: pick("headerSqlPerRequest"),
    zeroSqlShare: pick("zeroSqlShare"),
    completed: sum("completed"),
    non2xx: sum("non2xx"),
    errors: sum("errors"),
    statuses: samples.map((sample) => sample.statuses).join(" | "),
    disturbed: samples.some((sample) => sample.disturbed),
  };
}

/** The limiter would turn the bench into a 429 benchmark: say so up front if a limit is low. */
function warnIfLimited(name: string, limitPerMinute: number, expectedRequests: number): void {
  if (limitPerMinute < expectedRequests) {
    console.warn(`bench: ${name} is limited to ${limitPerMinute}/min (expected ~${Math.round(expectedRequests)} requests): expect 429s; dev.ts takes RATE_LIMIT_* from the environment`);
  }
}


/**
 * `wrangler check startup` (which builds the Worker as `wrangler deploy` would and profiles
 * its top-level evaluation in a local workerd) seven times; the median of the active CPU.
 */
function measureStartup(runs = 7): Startup {
  const dir = mkdtempSync(join(tmpdir(), "tend-startup-"));
  try {
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      const outfile = join(dir, `startup-${run}.cpuprofile`);
      execFileSync("wrangler", ["check", "startup", "--outfile", outfile], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
      times.push(activeProfileMs(JSON.parse(readFileSync(outfile, "utf8"))));
    }
    return { cpuMs: median(times), runs: times };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The clinical core's routes, as the bench owner (who sees the whole organization): patients'
 * first page and a name search over 1,000, the clinicians hot list (KV), a fresh booking per
 * request, a note search over 10,000 notes, and the dashboard, repeated by one caller (KV) and
 * read by a new caller each time (the SQL path, one statement with its audit row).
 */
async function clinicalScenarios(stack: Stack, tend: Scenario["target"], auth: Record<string, string>): Promise<Scenario[]> {
  console.log("bench: seeding the clinical data (1,000 patients, 10,000 notes, dashboard callers)…");
  const fixture = await seedClinicalFixture(stack.env);
  const notes = await seedNotes(stack.env, fixture);
  console.log(`bench: ${notes.inserted} notes seeded; searching for ${notes.query}`);
  const callers = await seedCallers(stack.env, DASHBOARD_CALLERS);
  // The hot list's first read, alone: ten concurrent cold misses would only measure the queue.
  for (const path of ["/api/v1/clinicians", "/api/v1/dashboard"]) await fetch(`${stack.base}${path}`, { headers: auth }).then((response) => response.body?.cancel());
  let caller = 0;
  const nextBooking = bookingBodies(fixture);
  const json = { ...auth, "Content-Type": "application/json" };
  const get = (name: string, path: string, extra: Partial<Scenario> = {}): Scenario => ({ name, target: tend, path, connections: CONNECTIONS, request: { headers: auth }, sqlBudget: 1, ...extra });
  return [
    get("GET /api/v1/patients", "/api/v1/patients?limit=50"),
    get("GET /api/v1/patients?q=", `/api/v1/patients?q=${encodeURIComponent(PATIENT_QUERY)}&limit=20`),
    get("GET /api/v1/clinicians (KV)", "/api/v1/clinicians", { sqlBudget: 0.1, hitBudget: 0.9 }),
    {
      name: "POST /api/v1/appointments",
      target: tend,
      path: "/api/v1/appointments",
      connections: CONNECTIONS,
      request: { method: "POST", headers: json, body: nextBooking() },
      next: (request) => ({ ...request, body: nextBooking() }),
      sqlBudget: 1,
    },
    get("GET /api/v1/notes/search", `/api/v1/notes/search?q=${encodeURIComponent(notes.query)}&limit=20`),
    get("GET /api/v1/dashboard (repeat, KV)", "/api/v1/dashboard", { sqlBudget: 0.1 }),
    get("GET /api/v1/dashboard (new caller)", "/api/v1/dashboard", {
      next: (request) => ({ ...request, headers: { ...request.headers, Authorization: `Bearer ${callers[caller++ % callers.length]}` } }),
    }),
  ];
}

async function main(): Promise<number> {
  // The committed tree, unless BENCH_WORKING_TREE=1: others' edits would reload the Workers mid-run.
  const snapshotDir = process.env.BENCH_WORKING_TREE === "1" ? undefined : mkdtempSync(join(tmpdir(), "tend-bench-tree-"));
  const tree = snapshotDir ? snapshotTree(snapshotDir) : undefined;
  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  console.log(`bench: starting the dev stack and the bare Worker (up to 120 s) from ${tree ? `a copy of the committed tree (${commit})` : "the working tree"}…`);
  const [stackResult, bareResult] = await Promise.allSettled([startStack(tree ? { root: tree } : {}), startBareWorker(60_000, tree)]);
  const stack: Stack | undefined = stackResult.status === "fulfilled" ? stackResult.value : undefined;
  const bareWorker: BareWorker | undefined = bareResult.status === "fulfilled" ? bareResult.value : undefined;
  const stopAll = async (keepLog: boolean) => {
    await Promise.all([stack?.stop(keepLog), bareWorker?.stop()]);
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
  };
  if (!stack || !bareWorker) {
    await stopAll(true);
    throw (stackResult.status === "rejected" ? stackResult.reason : bareResult.status === "rejected" ? bareResult.reason : new Error("no stack")) as Error;
  }
  const onSignal = () => void stopAll(true).then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const rows: Row[] = [];
  const scenarios: Scenario[] = [];
  let measured = false;
  try {
    console.log(`bench: API ${stack.base} on ${stack.database}, gateway ${stack.gateway}, bare Worker ${bareWorker.base}, log ${stack.logPath}`);
    const email = await seedMember(stack.env, "owner");
    const owner = await login(stack.base, email);
    const tend = { base: stack.base, pid: stack.pid, gateway: stack.gateway, reloads: stack.reloads };
    const auth = { Authorization: `Bearer ${owner.accessToken}` };
    scenarios.push(
      { name: "bare Worker", target: { base: bareWorker.base, pid: bareWorker.pid }, path: "/", connections: CONNECTIONS, request: {} },
      { name: "GET /health", target: tend, path: "/health", connections: CONNECTIONS, request: {} },
      { name: "GET /api/v1/me", target: tend, path: "/api/v1/me", connections: CONNECTIONS, request: { headers: auth } },
      {
        name: "POST /api/v1/auth/login",
        target: tend,
        path: "/api/v1/auth/login",
        connections: LOGIN_CONNECTIONS,
        request: { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password: PASSWORD }) },
      },
      ...(await clinicalScenarios(stack, tend, auth)),
      ...(await heartbeatScenarios(stack.env, tend, CONNECTIONS)),
    );
    const only = process.env.BENCH_ONLY?.split(",").filter(Boolean);
    if (only) scenarios.splice(0, scenarios.length, ...scenarios.filter((s, i) => i === 0 || only.some((part) => s.name.includes(part))));
    warnIfLimited("GET /api/v1/me", await readsLimit(stack.base, owner), 1000 * (SECONDS * ROUNDS + WARMUP_SECONDS));
    warnIfLimited("POST /api/v1/auth/login", owner.authLimit, 100 * (SECONDS * ROUNDS + WARMUP_SECONDS));

    console.log(`bench: warm-up, ${WARMUP_SECONDS} s per scenario…`);
    for (const scenario of scenarios) await measure(scenario, WARMUP_SECONDS, stack.gateway);
    const samples = new Map<string, Sample[]>(scenarios.map((scenario) => [scenario.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of scenarios) {
        const sample = await measure(scenario, SECONDS, stack.gateway);
        samples.get(scenario.name)?.push(sample);
        console.log(
          `bench: round ${round} ${scenario.name}: ${fmt(sample.rps)} req/s, p50 ${fmt(sample.p50)} ms, ` +
            `${fmt(sample.sqlPerRequest, 2)} SQL/req, ${fmt(sample.cpuMsPerRequest, 2)} CPU ms/req [${sample.statuses || "no responses"}]${sample.disturbed ? " (reloaded mid-run)" : ""}`,
        );
      }
    }
    for (const scenario of scenarios) rows.push(summarize(scenario.name, samples.get(scenario.name) ?? []));
    if (!only || only.some((part) => "reminder tick".includes(part))) await benchReminderTick(stack);
    if (!only || only.some((part) => "fanout".includes(part))) await runFanout(stack);
    measured = true;
  } finally {
    await stopAll(!measured);
  }

  // With the stacks stopped: both rebuild dist/, which a running `wrangler dev` would reload.
  let startup: Startup | undefined;
  try {
    console.log("bench: startup CPU (wrangler check startup, 7 runs)…");
    startup = measureStartup();
  } catch (error) {
    console.error(`bench: startup CPU unavailable: ${error instanceof Error ? error.message : String(error)}`);
  }
  let gzipKiB: number | undefined;
  try {
    gzipKiB = measureBundle().gzipKiB;
  } catch (error) {
    console.error(`bench: bundle size unavailable: ${error instanceof Error ? error.message : String(error)}`);
  }
  const bare = rows[0];
  if (!bare) throw new Error("no bare Worker figures");
  printTable(rows, bare, { rounds: ROUNDS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, loginConnections: LOGIN_CONNECTIONS });
  printBudgets(rows, bare, scenarios, startup, gzipKiB);
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
