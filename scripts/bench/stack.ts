// Starts `node scripts/dev.ts` on free ports with a throwaway PGlite directory, its output in a
// log file, and stops the whole process tree again (dev.ts, the gateway, wrangler, workerd).
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { descendants, readStat } from "./proc.ts";

export interface Stack {
  /** http://127.0.0.1:PORT of the API. */
  base: string;
  /** http://127.0.0.1:GATEWAY_PORT of the database gateway. */
  gateway: string;
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

function freePort(preferred: number): Promise<number> {
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

async function waitForHealth(base: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dev.ts exited (${child.exitCode ?? child.signalCode})`);
    try {
      if ((await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`/health did not answer within ${timeoutMs / 1000} s`);
}

export async function startStack(timeoutMs = 120_000): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), "tend-bench-"));
  const logPath = join(dir, "dev.log");
  const port = await freePort(Number(process.env.BENCH_PORT ?? 8797));
  const gatewayPort = await freePort(Number(process.env.BENCH_GATEWAY_PORT ?? 5497));
  const log = openSync(logPath, "a");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...BENCH_CONFIG,
    PORT: String(port),
    GATEWAY_PORT: String(gatewayPort),
    PGLITE_DIR: join(dir, "pglite"),
    WRANGLER_PERSIST_TO: join(dir, "wrangler-state"),
  };
  delete env.LOCAL_POSTGRES_URL; // always the throwaway PGlite, never the developer's database
  const child = spawn(process.execPath, ["scripts/dev.ts"], { cwd: process.cwd(), env, detached: true, stdio: ["ignore", log, log] });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not spawn scripts/dev.ts");

  let stopping: Promise<void> | undefined;
  const stop = (keepLog = true): Promise<void> => {
    stopping ??= (async () => {
      const tree = descendants(pid); // wrangler runs in its own process group: remember it now
      try {
        process.kill(-pid, "SIGTERM"); // dev.ts stops wrangler and the gateway itself
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
      rmSync(keepLog ? join(dir, "pglite") : dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const reloads = () => readFileSync(logPath, "utf8").split("Reloading local server").length - 1;
  const stack = { reloads, base: `http://127.0.0.1:${port}`, gateway: `http://127.0.0.1:${gatewayPort}`, pid, logPath, stop };
  try {
    await waitForHealth(stack.base, child, timeoutMs);
  } catch (error) {
    await stop();
    throw new Error(`the dev stack did not start: ${error instanceof Error ? error.message : String(error)}; see ${logPath}`, { cause: error });
  }
  return stack;
}
