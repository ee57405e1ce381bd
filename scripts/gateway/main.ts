/**
 * CLI: `npm run gateway`. Serves Neon's SQL-over-HTTP protocol on 127.0.0.1.
 *
 * Env:
 * - GATEWAY_PORT        port to listen on (default 5488)
 * - LOCAL_POSTGRES_URL  use this PostgreSQL server instead of PGlite
 * - PGLITE_DIR          PGlite data directory (default .data/pglite, relative to cwd)
 * - PGLITE_MEMORY=1     keep the PGlite database in memory (nothing persisted)
 */
import { startGateway } from "./server.ts";
import type { GatewayOptions } from "./server.ts";

const DEFAULT_PORT = 5488;

function readPort(raw: string | undefined): number {
  if (raw === undefined || raw === "") return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`GATEWAY_PORT is not a port: ${raw}`);
  return port;
}

function optionsFromEnv(env: NodeJS.ProcessEnv): GatewayOptions {
  const port = readPort(env.GATEWAY_PORT);
  if (env.LOCAL_POSTGRES_URL) return { port, backend: "postgres", postgresUrl: env.LOCAL_POSTGRES_URL };
  const dataDir = env.PGLITE_MEMORY === "1" ? undefined : env.PGLITE_DIR || ".data/pglite";
  return { port, backend: "pglite", dataDir };
}

async function main(): Promise<void> {
  const options = optionsFromEnv(process.env);
  const gateway = await startGateway(options);
  const where = options.backend === "postgres" ? "postgres" : `pglite (${options.dataDir ?? "in memory"})`;
  console.log(`gateway: ${gateway.url}/sql backed by ${where}`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`gateway: failed to close after ${signal}:`, error instanceof Error ? error.message : error);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error("gateway: failed to start:", error instanceof Error ? error.message : error);
  process.exit(1);
});
