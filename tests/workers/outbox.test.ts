import { createExecutionContext, createMessageBatch, env, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { z } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, inject, it, vi } from "vitest";
import { createApp } from "#src/app.ts";
import { scoped } from "#src/db/scope.ts";
import { auditEvents, deadLetters, domainEvents, eventConsumptions } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { dashboardCacheKey } from "#src/features/dashboard/dashboard.service.ts";
import { type EventConsumer, EVENT_CONSUMERS } from "#src/features/events/events.consumers.ts";
import { dispatchEvent, MAX_DISPATCH_ATTEMPTS, sweepUndispatched } from "#src/features/events/events.service.ts";
import worker from "#src/index.ts";
import type { Job } from "#src/jobs/job.ts";
import { createRouter } from "#src/lib/create-router.ts";
import { backgroundDeps, requestDeps } from "#src/lib/deps.ts";
import { domainEvent, eventInsert, publishEvents } from "#src/lib/events.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { createLogger } from "#src/lib/logger.ts";
import { jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import { createMailer } from "#src/platform/mailer.ts";
import type { Platform } from "#src/platform/ports.ts";
import { createTenant, type Tenant } from "./fixtures.ts";
import { BASE, testDb } from "./helpers.ts";

/**
 * The transactional outbox: a change's event row commits with it, the request enqueues it after
 * commit, the sweeper re-enqueues what was not dispatched within a minute, and each consumer
 * handles an event once by event id, whatever the redeliveries.
 */

const realAdapters = () => cloudflarePlatform.adapters(env);

function jobDeps(overrides: Partial<ReturnType<typeof backgroundDeps>> = {}) {
  const config = parseConfig(env);
  const logger = createLogger("error");
  return { ...backgroundDeps({ db: testDb(), config, logger, adapters: realAdapters(), mailer: createMailer(config, logger), run: "test:outbox" }), ...overrides };
}

/** An outbox row of the tenant, written straight in the database. */
async function insertEvent(tenant: Tenant, type: "patient.updated" | "appointment.scheduled" | "note.signed" = "patient.updated", extra: { createdAt?: Date; attempts?: number } = {}) {
  const event = domainEvent(tenant.organizationId, type, { type: type.split(".")[0] ?? "patient", id: uuidv7() });
  await testDb()
    .insert(domainEvents)
    .values({ id: event.id, organizationId: event.organizationId, type: event.type, subjectType: event.subjectType, subjectId: event.subjectId, payload: {}, ...extra });
  return event.id;
}

const eventRow = async (id: string) => (await testDb().select().from(domainEvents).where(eq(domainEvents.id, id)))[0];
const consumptionsOf = (id: string) => testDb().select().from(eventConsumptions).where(eq(eventConsumptions.eventId, id));

async function deliver(bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch(
    "tend-jobs",
    bodies.map((body, index) => ({ id: `msg-${crypto.randomUUID()}-${index}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return { batch, result: await getQueueResult(batch, ctx) };
}

/** A consumer of the test's own, counting its runs; `failures` makes that many next runs throw. */
function probe(name: string, failures = 0): EventConsumer & { runs: number } {
  let left = failures;
  const consumer = {
    name,
    runs: 0,
    handles: () => true,
    async outside() {
      consumer.runs += 1;
      if (left > 0) {
        left -= 1;
        throw new Error("probe failed");
      }
    },
  };
  return consumer;
}

/** The real app, with a jobs adapter whose enqueue throws (the queue is down), and one route that writes an event. */
let enqueueAttempts = 0;
const queueDown: Platform = {
  name: "test-queue-down",
  adapters(workerEnv) {
    const real = cloudflarePlatform.adapters(workerEnv);
    return {
      ...real,
      jobs: {
        ...real.jobs,
        enqueue: async () => {
          enqueueAttempts += 1;
          throw new Error("queue unavailable");
        },
      },
    };
  },
};
const outboxProbe = defineRoute({
  method: "post",
  path: "/probe/outbox",
  operationId: "probeOutbox",
  tags: ["Platform"],
  summary: "Probe",
  description: "Writes one outbox row, then publishes it.",
  permission: "organization:read",
  responses: { 201: jsonResponse("The event", z.object({ eventId: z.string() })) },
});
const app = createApp(queueDown);
app.route(
  "/api/v1",
  createRouter().openapi(outboxProbe, async (c) => {
    const deps = requestDeps(c);
    const org = c.var.auth.organizationId;
    const event = domainEvent(org, "patient.updated", { type: "patient", id: uuidv7() });
    await eventInsert(scoped(deps.db, org).db, deps.origin, event);
    publishEvents(deps, org, [event.id]);
    return c.json({ eventId: event.id }, 201);
  }),
);

describe(`domain events outbox (${inject("databaseBackend")})`, () => {
  it("delivers through the sweeper when the enqueue after commit fails", async () => {
    const tenant = await createTenant("Outbox Crash Practice");
    const cache = realAdapters().cache;
    const key = dashboardCacheKey({ organizationId: tenant.organizationId, userId: tenant.members.staff.id, apiKeyId: null });
    await cache.put(key, { at: Date.now(), body: {} }, 60);

    const ctx = createExecutionContext();
    const response = await app.fetch(new Request(`${BASE}/api/v1/probe/outbox`, { method: "POST", headers: tenant.members.owner.headers }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(201);
    const { eventId } = (await response.json()) as { eventId: string };
    expect(enqueueAttempts).toBeGreaterThanOrEqual(1);
    expect(await eventRow(eventId)).toMatchObject({ dispatchedAt: null, attempts: 0 });

    // A minute later the sweeper finds it and the real queue delivers it.
    const swept = await sweepUndispatched(jobDeps({ clock: { now: () => new Date(Date.now() + 2 * 60_000) } }));
    expect(swept).toBeGreaterThanOrEqual(1);
    await vi.waitFor(async () => expect((await eventRow(eventId))?.dispatchedAt).toBeInstanceOf(Date), { timeout: 10_000, interval: 200 });
    expect(await consumptionsOf(eventId)).toEqual([expect.objectContaining({ consumer: "dashboard-cache", organizationId: tenant.organizationId })]);
    expect(await cache.get(key)).toBeNull();
  });

  it("processes a redelivered event once: the consumer does not run again", async () => {
    const tenant = await createTenant("Outbox Redelivery Practice");
    const cache = realAdapters().cache;
    const key = dashboardCacheKey({ organizationId: tenant.organizationId, userId: tenant.members.clinician.id, apiKeyId: null });
    const eventId = await insertEvent(tenant, "appointment.scheduled");
    const message = { kind: "events.dispatch", organizationId: tenant.organizationId, eventId };

    await cache.put(key, { at: Date.now(), body: {} }, 60);
    const first = await deliver([message]);
    expect(first.result.explicitAcks).toHaveLength(1);
    expect(await cache.get(key)).toBeNull();

    await cache.put(key, { at: Date.now(), body: {} }, 60);
    const again = await deliver([message], 2);
    expect(again.result.explicitAcks).toHaveLength(1);
    expect(await cache.get(key)).not.toBeNull();
    // One claim per consumer of appointment events (the dashboard cache, live updates), each once.
    expect((await consumptionsOf(eventId)).map((row) => row.consumer).sort()).toEqual(["dashboard-cache", "realtime"]);
    expect(await eventRow(eventId)).toMatchObject({ attempts: 1, dispatchedAt: expect.any(Date) });
  });

  it("retries only the consumers that failed, counts attempts, and marks the event dispatched after all", async () => {
    const tenant = await createTenant("Outbox Partial Practice");
    const eventId = await insertEvent(tenant);
    const steady = probe("test-steady");
    const flaky = probe("test-flaky", 1);
    await expect(dispatchEvent(jobDeps(), tenant.organizationId, eventId, [steady, flaky])).rejects.toThrow(/test-flaky/);
    expect(await eventRow(eventId)).toMatchObject({ attempts: 1, dispatchedAt: null });
    expect((await consumptionsOf(eventId)).map((row) => row.consumer)).toEqual(["test-steady"]);

    await dispatchEvent(jobDeps(), tenant.organizationId, eventId, [steady, flaky]);
    expect({ steady: steady.runs, flaky: flaky.runs }).toEqual({ steady: 1, flaky: 2 });
    expect(await eventRow(eventId)).toMatchObject({ attempts: 2, dispatchedAt: expect.any(Date) });

    await dispatchEvent(jobDeps(), tenant.organizationId, eventId, [steady, flaky]);
    expect({ steady: steady.runs, flaky: flaky.runs }).toEqual({ steady: 1, flaky: 2 });
  });

  it("runs a consumer once when two deliveries race, and its database work commits with its claim", async () => {
    const tenant = await createTenant("Outbox Race Practice");
    const eventId = await insertEvent(tenant, "note.signed");
    const counting = probe("test-race");
    const recording: EventConsumer = {
      name: "test-record",
      handles: (type) => type === "note.signed",
      inDatabase: (event) => sql`insert into audit_events (id, organization_id, action, target_type, target_id)
        select ${uuidv7()}::uuid, organization_id, 'event.recorded', 'domain_event', event_id::text from claim where ${event.id}::uuid = event_id`,
    };
    await Promise.all([1, 2, 3].map(() => dispatchEvent(jobDeps(), tenant.organizationId, eventId, [counting, recording])));
    expect(counting.runs).toBe(1);
    const recorded = await testDb()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.organizationId, tenant.organizationId), eq(auditEvents.action, "event.recorded")));
    expect(recorded.map((row) => row.targetId)).toEqual([eventId]);
    expect((await consumptionsOf(eventId)).map((row) => row.consumer).sort()).toEqual(["test-race", "test-record"]);
  });

  it("sweeps only what is older than a minute and not given up on, oldest first", async () => {
    const tenant = await createTenant("Outbox Sweep Practice");
    const stale = await insertEvent(tenant, "patient.updated", { createdAt: new Date("2001-01-01T00:00:00Z") });
    const givenUp = await insertEvent(tenant, "patient.updated", { createdAt: new Date("2001-01-01T00:00:01Z"), attempts: MAX_DISPATCH_ATTEMPTS });
    const fresh = await insertEvent(tenant);
    const sent: Job[] = [];
    const jobs = { enqueue: async (job: Job) => void sent.push(job), ping: async () => {} };
    await sweepUndispatched(jobDeps({ jobs }));
    const ids = sent.map((job) => ("eventId" in job ? job.eventId : null));
    expect(ids).toContain(stale);
    expect(ids).not.toContain(givenUp);
    expect(ids).not.toContain(fresh);
    expect(sent.find((job) => "eventId" in job && job.eventId === stale)).toEqual({ kind: "events.dispatch", organizationId: tenant.organizationId, eventId: stale });
  });

  it("sends a malformed dispatch message straight to the dead-letter queue", async () => {
    const marker = crypto.randomUUID();
    const body = { kind: "events.dispatch", organizationId: "not-an-organization", eventId: 42, marker };
    const { batch, result } = await deliver([body]);
    expect(result.explicitAcks).toEqual([batch.messages[0]?.id]);
    expect(result.retryMessages).toEqual([]);
    await vi.waitFor(
      async () => {
        const parked = await testDb().select().from(deadLetters).where(sql`${deadLetters.body}->>'marker' = ${marker}`);
        expect(parked).toEqual([expect.objectContaining({ queue: "tend-jobs-dlq", kind: null, body })]);
      },
      { timeout: 10_000, interval: 200 },
    );
  });

  it("registers the dashboard cache consumer for patient and appointment events only", () => {
    const dashboard = EVENT_CONSUMERS.find((consumer) => consumer.name === "dashboard-cache");
    expect(["patient.created", "appointment.cancelled", "note.signed", "alert.created"].map((type) => dashboard?.handles(type))).toEqual([true, true, false, false]);
    expect(new Set(EVENT_CONSUMERS.map((consumer) => consumer.name)).size).toBe(EVENT_CONSUMERS.length);
  });
});
