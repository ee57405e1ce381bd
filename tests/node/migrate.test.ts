import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../../scripts/gateway/server.ts";
import { migrate, readMigrations } from "../../scripts/migrate.ts";

describe("npm run db:migrate", () => {
  let gateway: Gateway;
  let url: string;
  beforeAll(async () => {
    gateway = await startGateway({ port: 0, backend: "pglite" });
    url = `postgres://tend:tend@127.0.0.1:${gateway.port}/tend`;
  });
  afterAll(() => gateway.close());

  it("applies every migration once, and a second run is a no-op", async () => {
    const count = readMigrations().length;
    expect(await migrate(url, `${gateway.url}/sql`)).toEqual({ applied: readMigrations().map((m) => m.name), skipped: 0 });
    expect(await migrate(url, `${gateway.url}/sql`)).toEqual({ applied: [], skipped: count });
  });

  it("applies each migration in one transaction, with its record", async () => {
    gateway.resetStats();
    await migrate(url, `${gateway.url}/sql`);
    expect(gateway.stats().sqlRequests).toBe(2); // create-if-missing + read the records; nothing to apply
  });
});
