// Starts `node scripts/dev.ts` on free ports with a throwaway database (a PGlite directory, or a
// fresh database on LOCAL_POSTGRES_URL's server), its output in a log file, and stops the whole
// process tree again (dev.ts, the gateway, wrangler, workerd). Also starts the bare Worker the
// bench compares against, under its own `wrangler dev` with the same flags. With `snapshot`, both
// run from a copy of the committed tree (`git archive HEAD`, node_modules linked in), so edits to
// the working tree meanwhile neither reload nor break the Workers under measurement.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { persistentDevSecrets } from "../dev-secrets.ts";
import { freshPostgresDatabase } from "../test-database.ts";
import type { ScratchDatabase } from "../test-database.ts";
import { descendants, readStat } from "./proc.ts";

const ROOT = join(import.meta.dirname, "..", "..");

export interface Stack {
  /** http://127.0.0.1:PORT of the API. */
  base: string;
  /** http://127.0.0.1:GATEWAY_PORT of the database gateway. */
  gateway: string;
  /** "pglite" or "postgres". */
  database: string;
  /** The configuration the Worker was started with, as dev.ts merged it (secrets included). */
  env: NodeJS.ProcessEnv;
  /** dev.ts's pid: the root of the process tree. */
  pid: number;
  logPath: string;
  /** How often wrangler has rebuilt and reloaded the Worker so far (it watches src/ for edits). */
  reloads(): number;
  /** Idempotent. The temp dir goes too, unless `keepLog` (for a failed run). */
  stop(keepLog?: boolean): Promise<void>;
}

/** Config for the Worker (dev.ts takes config keys from the environment): quiet logs, limits the bench never meets. */
export const BENCH_CONFIG: Record<string, string> = {
  LOG_LEVEL: "warn",
  RATE_LIMIT_READS_PER_MINUTE: "1000000",
  RATE_LIMIT_WRITES_PER_MINUTE: "1000000",
  RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
};

export function freePort(preferred: number): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(freePort(0)));
    server.listen(preferred, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function waitForHealth(base: string, child: ChildProcess, timeoutMs: number, path = "/health"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the process exited (${child.exitCode ?? child.signalCode})`);
    try {
      if ((await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${path} did not answer within ${timeoutMs / 1000} s`);
}

/** SIGTERM to the group, then SIGKILL to whatever of the tree (remembered before) is left. */
function treeStopper(child: ChildProcess, pid: number, cleanup: () => Promise<void> | void): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      const tree = descendants(pid); // wrangler runs in its own process group: remember it now
      try {
        process.kill(-pid, "SIGTERM");
      } catch {
        // already gone
      }
      await exited(child, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const { pid: straggler, comm } of tree) {
        if (readStat(straggler)?.comm !== comm) continue; // gone (or the pid is no longer ours)
        try {
          process.kill(straggler, "SIGKILL");
        } catch {
          // exited as asked
        }
      }
      await cleanup();
    })();
    return stopping;
  };
}

export interface StackOptions {
  timeoutMs?: number;
  /** Worker configuration on top of dev.ts's defaults (dev.ts takes config keys from the environment). */
  config?: Record<string, string>;
  /** Run from this tree (see `snapshotTree`) instead of the working tree. */
  root?: string;
}

/**
 * The committed tree (HEAD) extracted under `dir`, with the working tree's node_modules linked
 * in: what `wrangler dev` watches there changes only when the bench changes it.
 */
export function snapshotTree(dir: string): string {
  const tree = join(dir, "tree");
  mkdirSync(tree, { recursive: true });
  const archive = execFileSync("git", ["archive", "--format=tar", "HEAD"], { cwd: ROOT, maxBuffer: 512 * 1024 * 1024 });
  execFileSync("tar", ["-x", "-C", tree], { input: archive });
  symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"), "dir");
  return tree;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const root = options.root ?? ROOT;
  const dir = mkdtempSync(join(tmpdir(), "tend-bench-"));
  const logPath = join(dir, "dev.log");
  const port = await freePort(Number(process.env.BENCH_PORT ?? 8797));
  const gatewayPort = await freePort(Number(process.env.BENCH_GATEWAY_PORT ?? 5497));
  // On PostgreSQL, a database of its own, dropped afterwards: never the developer's data.
  let scratch: ScratchDatabase | undefined;
  if (process.env.LOCAL_POSTGRES_URL) scratch = await freshPostgresDatabase(process.env.LOCAL_POSTGRES_URL, "tend_bench");
  const log = openSync(logPath, "a");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The working tree's development secrets, so a snapshot's Worker signs and peppers as this process does.
    ...(root === ROOT ? {} : persistentDevSecrets(join(ROOT, ".data", "dev-secrets.json"))),
    ...(options.config ?? BENCH_CONFIG),
    PORT: String(port),
    GATEWAY_PORT: String(gatewayPort),
    PGLITE_DIR: join(dir, "pglite"),
    WRANGLER_PERSIST_TO: join(dir, "wrangler-state"),
  };
  if (scratch) env.LOCAL_POSTGRES_URL = scratch.url;
  else delete env.LOCAL_POSTGRES_URL;
  const child = spawn(process.execPath, [join(root, "scripts", "dev.ts")], { cwd: root, env, detached: true, stdio: ["ignore", log, log] });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not spawn scripts/dev.ts");

  let keep = true;
  const stopTree = treeStopper(child, pid, async () => {
    rmSync(keep ? join(dir, "pglite") : dir, { recursive: true, force: true });
    await scratch?.drop().catch((error: unknown) => console.warn(`bench: could not drop ${scratch?.url}: ${String(error)}`));
  });
  const stop = (keepLog = true): Promise<void> => {
    keep = keepLog;
    return stopTree();
  };

  const reloads = () => readFileSync(logPath, "utf8").split("Reloading local server").length - 1;
  const stack: Stack = {
    reloads,
    base: `http://127.0.0.1:${port}`,
    gateway: `http://127.0.0.1:${gatewayPort}`,
    database: scratch ? "postgres" : "pglite",
    env,
    pid,
    logPath,
    stop,
  };
  try {
    await waitForHealth(stack.base, child, timeoutMs);
  } catch (error) {
    await stop();
    throw new Error(`the dev stack did not start: ${error instanceof Error ? error.message : String(error)}; see ${logPath}`, { cause: error });
  }
  return stack;
}

/** The floor: a Worker that answers "ok", under its own `wrangler dev` (same flags as dev.ts). */
export interface BareWorker {
  base: string;
  /** wrangler's pid: the root of its process tree. */
  pid: number;
  stop(): Promise<void>;
}

export async function startBareWorker(timeoutMs = 60_000, root = ROOT): Promise<BareWorker> {
  const dir = mkdtempSync(join(tmpdir(), "tend-bench-bare-"));
  const port = await freePort(0);
  const log = openSync(join(dir, "wrangler.log"), "a");
  const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
  const config = join(root, "scripts", "bench", "bare-wrangler.toml");
  const args = ["dev", "--config", config, "--port", String(port), "--ip", "127.0.0.1", "--show-interactive-dev-session=false", "--persist-to", join(dir, "state")];
  const path = [dirname(process.execPath), join(root, "node_modules", ".bin"), process.env.PATH].join(":");
  const child = spawn(process.execPath, [wrangler, ...args], {
    cwd: root,
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, PATH: path, WRANGLER_SEND_METRICS: "false" },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not spawn wrangler for the bare Worker");
  const stop = treeStopper(child, pid, () => rmSync(dir, { recursive: true, force: true }));
  const bare = { base: `http://127.0.0.1:${port}`, pid, stop };
  try {
    await waitForHealth(bare.base, child, timeoutMs, "/");
  } catch (error) {
    const tail = readFileSync(join(dir, "wrangler.log"), "utf8").slice(-800);
    await stop();
    throw new Error(`the bare Worker did not start: ${error instanceof Error ? error.message : String(error)}\n${tail}`, { cause: error });
  }
  return bare;
}
