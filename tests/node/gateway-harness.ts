/**
 * Shared setup for the gateway conformance tests: runs each suite once per available backend
 * (PGlite in memory always; PostgreSQL when LOCAL_POSTGRES_URL is set, in a scratch database).
 */
import { randomBytes } from "node:crypto";
import { neon, neonConfig } from "@neondatabase/serverless";
import type { NeonQueryFunction } from "@neondatabase/serverless";
import { Client } from "pg";
import { afterAll, beforeAll, describe } from "vitest";
import { startGateway } from "../../scripts/gateway/server.ts";
import type { Gateway } from "../../scripts/gateway/server.ts";

// The driver derives the endpoint from the connection string's host and port: the gateway's.
neonConfig.fetchEndpoint = (host, port) => `http://${host}:${port}/sql`;

export type BackendName = "pglite" | "postgres";

/** Everything a test needs to talk to one running gateway. */
export interface Harness {
  backend: BackendName;
  gateway: Gateway;
  /** What an app would pass to neon(); host and port are the gateway's. */
  connectionString: string;
  sql: NeonQueryFunction<false, false>;
}

const postgresUrl = process.env.LOCAL_POSTGRES_URL || undefined;

const BACKENDS: ReadonlyArray<{ backend: BackendName; available: boolean }> = [
  { backend: "pglite", available: true },
  { backend: "postgres", available: postgresUrl !== undefined },
];

/** A table (or database) name no other test or run will pick. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

async function adminQuery(text: string): Promise<void> {
  const client = new Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Creates an empty database next to LOCAL_POSTGRES_URL's; returns its URL and a dropper. */
async function createScratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = uniqueName("tend_gw");
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(postgresUrl ?? "");
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function openHarness(backend: BackendName): Promise<{ harness: Harness; dispose: () => Promise<void> }> {
  const scratch = backend === "postgres" ? await createScratchDatabase() : undefined;
  const gateway = await startGateway({ port: 0, backend, postgresUrl: scratch?.url });
  const connectionString = `postgres://postgres@127.0.0.1:${gateway.port}/tend`;
  const harness: Harness = { backend, gateway, connectionString, sql: neon(connectionString) };
  const dispose = async (): Promise<void> => {
    await gateway.close();
    await scratch?.drop();
  };
  return { harness, dispose };
}

/**
 * Declares `title` once per backend. The body receives a getter for the harness (it only exists
 * once beforeAll ran). An unavailable backend still shows up, as skipped.
 */
export function describeEachBackend(title: string, body: (harness: () => Harness) => void): void {
  for (const { backend, available } of BACKENDS) {
    describe.skipIf(!available)(`${title} [${backend}]`, () => {
      let opened: Awaited<ReturnType<typeof openHarness>> | undefined;
      beforeAll(async () => {
        opened = await openHarness(backend);
      });
      afterAll(async () => {
        await opened?.dispose();
      });
      body(() => {
        if (!opened) throw new Error("gateway harness used before beforeAll ran");
        return opened.harness;
      });
    });
  }
}
