import { neon } from "@neondatabase/serverless";
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

describe("0006_membership_preferences", () => {
  let gateway: Gateway;
  afterAll(() => gateway.close());

  it("gives every membership the notification preferences its person had, and keeps only the timezone per person", async () => {
    gateway = await startGateway({ port: 0, backend: "pglite" });
    const url = `postgres://tend:tend@127.0.0.1:${gateway.port}/tend`;
    const endpoint = `${gateway.url}/sql`;
    await migrate(url, endpoint, { through: "0005_job_runs_finished" });
    const sql = neon(url);
    const [a, b, user] = ["00000000-0000-7000-8000-00000000000a", "00000000-0000-7000-8000-00000000000b", "00000000-0000-7000-8000-0000000000c1"];
    await sql.transaction([
      sql`insert into organizations (id, name, slug) values (${a}, 'A', 'practice-a'), (${b}, 'B', 'practice-b')`,
      sql`insert into users (id, email, name, password_hash) values (${user}, 'carer@example.test', 'Carer', 'x')`,
      sql`insert into memberships (organization_id, user_id, role) values (${a}, ${user}, 'caregiver'), (${b}, ${user}, 'staff')`,
      sql`insert into user_preferences (user_id, preferences) values (${user}, ${JSON.stringify({ timezone: "Europe/Paris", alertThreshold: "high", quietHours: { enabled: true } })})`,
    ]);
    await migrate(url, endpoint);
    const [practices, personal] = await sql.transaction([
      sql`select set_config('app.scope', 'system', true)`,
      sql`select organization_id, preferences from membership_preferences order by organization_id`,
      sql`select preferences from user_preferences`,
    ]).then((results) => results.slice(1));
    const copied = { alertThreshold: "high", quietHours: { enabled: true } };
    expect(practices).toEqual([
      { organization_id: a, preferences: copied },
      { organization_id: b, preferences: copied },
    ]);
    expect(personal).toEqual([{ preferences: { timezone: "Europe/Paris" } }]);
  });
});
