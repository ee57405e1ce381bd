import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { parseConfig } from "#src/env.ts";
import { LIVE_FANOUT_PER_CALL, liveUpdatesConsumer } from "#src/features/realtime/realtime.consumers.ts";
import { publishLiveJob } from "#src/features/realtime/realtime.jobs.ts";
import type { Job } from "#src/jobs/job.ts";
import { backgroundDeps } from "#src/lib/deps.ts";
import { domainEvent } from "#src/lib/events.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { createLogger } from "#src/lib/logger.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import { createMailer } from "#src/platform/mailer.ts";
import type { Realtime } from "#src/platform/ports.ts";
import { insertPatient } from "./clinical.ts";
import { createTenant } from "./fixtures.ts";
import { testDb } from "./helpers.ts";

/** An event for more people than one invocation should call is published in slices, as jobs. */
describe("live fan-out past one invocation", () => {
  it(`publishes to ${LIVE_FANOUT_PER_CALL} hubs itself, and in realtime.publish slices beyond`, async () => {
    const tenant = await createTenant("Fan-out Practice");
    const patientId = await insertPatient(tenant);
    const admins = Array.from({ length: LIVE_FANOUT_PER_CALL + 30 }, () => uuidv7());
    const rows = JSON.stringify(admins.map((id) => ({ id, email: `fanout-${id}@example.test` })));
    await testDb().execute(sql`insert into users (id, email, name, password_hash) select r.id, r.email, 'Admin', 'x' from jsonb_to_recordset(${rows}::jsonb) as r(id uuid, email text)`);
    await testDb().execute(sql`insert into memberships (organization_id, user_id, role) select ${tenant.organizationId}::uuid, r.id, 'admin' from jsonb_to_recordset(${rows}::jsonb) as r(id uuid)`);

    const published: string[][] = [];
    const enqueued: Job[] = [];
    const realtime: Realtime = { publish: async (userIds) => void published.push([...userIds]), connect: async () => new Response(null), disconnect: async () => undefined, forget: async () => undefined };
    const config = parseConfig(env);
    const logger = createLogger("error");
    const adapters = cloudflarePlatform.adapters(env);
    const deps = backgroundDeps({
      db: testDb(),
      config,
      logger,
      adapters: { ...adapters, realtime, jobs: { enqueue: async (job) => void enqueued.push(job), ping: async () => undefined } },
      mailer: createMailer(config, logger),
      run: "test:fanout",
    });
    const event = { ...domainEvent(tenant.organizationId, "alert.created", { type: "alert", id: uuidv7() }, { patientId, severity: "high", type: "manual" }), attempts: 1 };

    await liveUpdatesConsumer.outside?.(event, deps);
    expect(published).toEqual([]);
    const slices = enqueued.map((job) => (job.kind === "realtime.publish" ? job.userIds : []));
    expect(slices.map((slice) => slice.length)).toEqual([LIVE_FANOUT_PER_CALL, admins.length + 2 - LIVE_FANOUT_PER_CALL]);
    expect(slices.flat().sort()).toEqual([...admins, tenant.members.owner.id, tenant.members.admin.id].sort());

    // Each slice, run as its job, reaches its hubs with the event's id (stored once per hub).
    for (const job of enqueued) {
      const accepted = publishLiveJob.accept(job);
      expect(accepted.ok).toBe(true);
      if (accepted.ok) await accepted.run(deps);
    }
    expect(published.flat().sort()).toEqual(slices.flat().sort());
  });
});
