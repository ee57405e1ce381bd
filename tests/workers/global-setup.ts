import { createServer, type Server } from "node:http";
import type { TestProject } from "vitest/node";
import { copyDocsAssets } from "../../scripts/docs-assets.ts";
import { startGateway } from "../../scripts/gateway/server.ts";
import { generateSecrets } from "../../scripts/dev-secrets.ts";
import { migrate } from "../../scripts/migrate.ts";
import { freshPostgresDatabase } from "../../scripts/test-database.ts";

/** A server that accepts connections and never answers: the database that hangs. */
function startSilentServer(): Promise<Server> {
  const server = createServer(() => {});
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/**
 * Starts the gateway (PGlite in memory, or a fresh database on LOCAL_POSTGRES_URL), applies the
 * migrations, and hands the URLs to the workerd tests through `inject`.
 */
export default async function setup(project: TestProject) {
  copyDocsAssets();
  const postgres = process.env.LOCAL_POSTGRES_URL ? await freshPostgresDatabase(process.env.LOCAL_POSTGRES_URL) : undefined;
  const gateway = await startGateway(
    postgres ? { port: 0, backend: "postgres", postgresUrl: postgres.url } : { port: 0, backend: "pglite" },
  );
  const databaseUrl = `postgres://tend:tend@127.0.0.1:${gateway.port}/tend`;
  await migrate(databaseUrl, `${gateway.url}/sql`);
  const silent = await startSilentServer();
  const silentAddress = silent.address();
  const silentPort = typeof silentAddress === "object" && silentAddress ? silentAddress.port : 0;

  project.provide("gatewayUrl", gateway.url);
  project.provide("databaseUrl", databaseUrl);
  project.provide("silentUrl", `http://127.0.0.1:${silentPort}`);
  project.provide("databaseBackend", gateway.backendName);
  project.provide("secrets", { ...generateSecrets("test-key-1") });
  project.provide("fuzz", { requests: process.env.FUZZ_REQUESTS ?? "", seed: process.env.FUZZ_SEED ?? "" });

  return async () => {
    silent.closeAllConnections();
    silent.close();
    await gateway.close();
    await postgres?.drop();
  };
}
