// The bench's report: the table of scenarios against the bare Worker, and the budgets.
import { BUDGET_KIB } from "../bundle-size.ts";
import type { Options, RequestSpec } from "autocannon";

/** SPEC budgets: CPU per request as a multiple of the bare Worker's, startup CPU, bundle size. */
export const BUDGETS = { healthCpuRatio: 1.2, meCpuRatio: 2.5, startupCpuMs: 40, bundleGzipKiB: BUDGET_KIB };

export interface Scenario {
  name: string;
  /** Where requests go, and which process tree's workerd CPU is theirs. */
  target: { base: string; pid: number; gateway?: string; reloads?: () => number };
  path: string;
  connections: number;
  request: Pick<Options, "method" | "headers" | "body">;
  /** Per request: what changes from `request` (a fresh booking's body, another caller's token). */
  next?: (request: RequestSpec) => RequestSpec;
  /** The SPEC budget of SQL round trips per request (1; 0 for a KV hit), checked in the summary. */
  sqlBudget?: number;
  /** Budget of the share of responses served without SQL (a hot list's KV hit rate). */
  hitBudget?: number;
}

export interface Sample {
  rps: number;
  p50: number;
  p99: number;
  completed: number;
  non2xx: number;
  errors: number;
  sqlPerRequest: number;
  cpuMsPerRequest: number;
  /** Round trips per 2xx response, as its Server-Timing names them (NaN without the header). */
  headerSqlPerRequest: number;
  /** Share of 2xx responses whose Server-Timing names 0 round trips: KV hits. */
  zeroSqlShare: number;
  statuses: string;
  /** wrangler reloaded the Worker mid-run (someone edited src/): the figures are off. */
  disturbed: boolean;
}

export interface Row extends Sample {
  name: string;
  rounds: number;
}

export const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
export const ratio = (value: number, floor: number) => fmt(value / floor, 2);

export interface Startup {
  /** Median active (non-idle) CPU ms of the startup profile, GC included. */
  cpuMs: number;
  runs: number[];
}

/** How the rounds ran, for the table's footnote. */
export interface RunSettings {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  loginConnections: number;
}

export function printTable(rows: Row[], bare: Row, run: RunSettings): void {
  const header = ["scenario", "req/s", "× bare", "p50 ms", "p99 ms", "requests", "non-2xx", "SQL/req", "hdr SQL/req", "0-SQL share", "CPU ms/req", "× bare"];
  const lines = rows.map((r) => [
    `${r.name}${r.disturbed ? " *" : ""}`,
    fmt(r.rps),
    ratio(r.rps, bare.rps),
    fmt(r.p50),
    fmt(r.p99),
    String(r.completed),
    String(r.non2xx + r.errors),
    fmt(r.sqlPerRequest, 2),
    fmt(r.headerSqlPerRequest, 2),
    Number.isFinite(r.zeroSqlShare) ? `${fmt(r.zeroSqlShare * 100)}%` : "n/a",
    fmt(r.cpuMsPerRequest, 2),
    ratio(r.cpuMsPerRequest, bare.cpuMsPerRequest),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => (line[i] ?? "").length)));
  const render = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  console.log(`\n${render(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const line of lines) console.log(render(line));
  console.log(`(medians of ${run.rounds} rounds of ${run.seconds} s after a ${run.warmupSeconds} s warm-up; ${run.connections} connections, login ${run.loginConnections}; requests and non-2xx are totals)`);
  console.log(
    "SQL/req is the gateway's count over the run: every request's, errors included, and the background work they set off\n" +
      "(queue consumers of the outbox's domain events; each scenario starts once the previous one's have drained). hdr SQL/req\n" +
      "and 0-SQL share are read off each 2xx response's Server-Timing (\"N round trips\"): the request's own round trips,\n" +
      "which the budgets check, and the share answered with none, the KV hit rate.",
  );
  if (rows.some((r) => r.disturbed)) console.log("* wrangler reloaded the Worker mid-scenario (src/ edited meanwhile): rerun for clean figures");
  console.log(
    "CPU ms/req is the workerd processes' user+system time from /proc over the run, divided by the requests: it includes\n" +
      "wrangler dev's proxy Worker and the runtime, which the bare row is the floor of. Server-Timing excludes CPU time\n" +
      "(Workers' clocks stand still while JavaScript runs), so it shows waits (database, Durable Objects), never CPU.",
  );
}

export function printBudgets(rows: Row[], bare: Row, scenarios: Scenario[], startup: Startup | undefined, gzipKiB: number | undefined): void {
  const cpuOf = (name: string) => rows.find((row) => row.name === name)?.cpuMsPerRequest ?? Number.NaN;
  const rowOf = (name: string) => rows.find((row) => row.name === name);
  const routeChecks: [string, number, number, string][] = scenarios.flatMap((scenario): [string, number, number, string][] => {
    const row = rowOf(scenario.name);
    if (!row) return [];
    return [
      // The request's own round trips (Server-Timing); the gateway's count adds the background work it set off.
      ...(scenario.sqlBudget === undefined ? [] : [[`${scenario.name} SQL round trips per request`, row.headerSqlPerRequest, scenario.sqlBudget, ""] as [string, number, number, string]]),
      // A share at least the budget: reported as the miss share at most 1 - budget.
      ...(scenario.hitBudget === undefined ? [] : [[`${scenario.name} KV misses (hit rate ≥ ${scenario.hitBudget * 100}%)`, 1 - row.zeroSqlShare, 1 - scenario.hitBudget, ""] as [string, number, number, string]]),
    ];
  });
  const checks: [string, number, number, string][] = [
    ...routeChecks,
    ["GET /health CPU per request vs bare", cpuOf("GET /health") / bare.cpuMsPerRequest, BUDGETS.healthCpuRatio, "×"],
    ["GET /api/v1/me CPU per request vs bare", cpuOf("GET /api/v1/me") / bare.cpuMsPerRequest, BUDGETS.meCpuRatio, "×"],
    ["startup CPU (wrangler check startup)", startup?.cpuMs ?? Number.NaN, BUDGETS.startupCpuMs, " ms"],
    ["bundle gzip", gzipKiB ?? Number.NaN, BUDGETS.bundleGzipKiB, " KiB"],
  ];
  console.log("\nbudgets (reported, not enforced here; CI enforces the bundle size):");
  for (const [what, value, budget, unit] of checks) {
    const verdict = !Number.isFinite(value) ? "n/a " : value <= budget ? "pass" : "FAIL";
    console.log(`  ${verdict}  ${what.padEnd(64)} ${fmt(value, 2).padStart(7)}${unit}  (≤ ${budget}${unit})`);
  }
  if (startup) console.log(`  startup runs: ${startup.runs.map((ms) => ms.toFixed(1)).join(", ")} ms (local workerd on this machine's CPU)`);
}
