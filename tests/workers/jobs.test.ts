import { createExecutionContext, createMessageBatch, createScheduledController, env, getQueueResult } from "cloudflare:test";
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { describe, expect, it, vi } from "vitest";
import { deadLetters, jobRuns, oneTimeTokens } from "#src/db/schema/index.ts";
import { ONE_TIME_TOKEN_RETENTION_DAYS } from "#src/features/auth/auth.jobs.ts";
import { consumeJobs, retryDelaySeconds } from "#src/jobs/consumer.ts";
import { defineJob } from "#src/jobs/job.ts";
import { jobRegistry } from "#src/jobs/registry.ts";
import { CLAIM_LEASE_SECONDS } from "#src/jobs/runner.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { backgroundDeps } from "#src/lib/deps.ts";
import { createLogger } from "#src/lib/logger.ts";
import { parseConfig } from "#src/env.ts";
import worker from "#src/index.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import { createMailer } from "#src/platform/mailer.ts";
import { createTenant } from "./fixtures.ts";
import { testDb } from "./helpers.ts";

const uniqueOccurrence = () => `test-${crypto.randomUUID()}`;

async function deliver(queue: string, bodies: unknown[], attempts = 1, overrides: Record<string, unknown> = {}) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, index) => ({ id: `msg-${crypto.randomUUID()}-${index}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...overrides }, ctx);
  return { batch, result: await getQueueResult(batch, ctx) };
}

async function runsOf(occurrence: string, kind = "maintenance.sweep") {
  return testDb()
    .select()
    .from(jobRuns)
    .where(and(eq(jobRuns.kind, kind), eq(jobRuns.occurrence, occurrence)));
}

/** The dead_letters rows whose body carries this marker. */
const parkedWith = (marker: string) =>
  testDb().select().from(deadLetters).where(sql`${deadLetters.body}->>'marker' = ${marker}`);

describe("jobs queue consumer", () => {
  it("runs a job and acks it", async () => {
    const occurrence = uniqueOccurrence();
    const { batch, result } = await deliver("tend-jobs", [{ kind: "maintenance.sweep", occurrence }]);
    expect(result.explicitAcks).toEqual([batch.messages[0]?.id]);
    expect(result.retryMessages).toEqual([]);
    expect(await runsOf(occurrence)).toHaveLength(1);
  });

  it("is idempotent: a redelivered message does the work once", async () => {
    const occurrence = uniqueOccurrence();
    await deliver("tend-jobs", [{ kind: "maintenance.sweep", occurrence }]);
    const { result } = await deliver("tend-jobs", [{ kind: "maintenance.sweep", occurrence }], 2);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await runsOf(occurrence)).toHaveLength(1);
  });

  it("retries with backoff when the database is down", async () => {
    const { batch, result } = await deliver("tend-jobs", [{ kind: "maintenance.sweep", occurrence: uniqueOccurrence() }], 3, {
      DATABASE_HTTP_ENDPOINT: "http://127.0.0.1:1/sql",
    });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((retry) => retry.msgId)).toEqual([batch.messages[0]?.id]);
  });

  it("sends a message of an unknown kind straight to the dead-letter queue, unchanged, and acks it", async () => {
    const body = { kind: "unknown.job", marker: crypto.randomUUID() };
    const { batch, result } = await deliver("tend-jobs", [body]);
    expect(result.explicitAcks).toEqual([batch.messages[0]?.id]);
    expect(result.retryMessages).toEqual([]);
    await vi.waitFor(async () => expect(await parkedWith(body.marker)).toEqual([expect.objectContaining({ queue: "tend-jobs-dlq", kind: null, body, attempts: 1 })]), {
      timeout: 10_000,
      interval: 200,
    });
  });

  it("sends a message failing its job's schema straight to the dead-letter queue, not through retries", async () => {
    const body = { kind: "maintenance.sweep", occurrence: 42, marker: crypto.randomUUID() };
    const { batch, result } = await deliver("tend-jobs", [body]);
    expect(result.explicitAcks).toEqual([batch.messages[0]?.id]);
    expect(result.retryMessages).toEqual([]);
    await vi.waitFor(async () => expect(await parkedWith(body.marker)).toEqual([expect.objectContaining({ kind: null, body })]), {
      timeout: 10_000,
      interval: 200,
    });
  });

  it("retries a malformed message when the dead-letter queue refuses it, losing nothing", async () => {
    const refusing = { send: async () => Promise.reject(new Error("queue down")) };
    const { batch, result } = await deliver("tend-jobs", [{ kind: "unknown.job" }], 1, { DEAD_LETTERS: refusing });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((retry) => retry.msgId)).toEqual([batch.messages[0]?.id]);
  });

  it("tells the dead-letter queue apart by configuration (DEAD_LETTER_QUEUE), not by its name", async () => {
    const body = { kind: "maintenance.sweep", occurrence: uniqueOccurrence() };
    const { result } = await deliver("parked-here", [body], 6, { DEAD_LETTER_QUEUE: "parked-here" });
    expect(result.ackAll).toBe(true);
    expect(await runsOf(body.occurrence)).toEqual([]);
  });

  it("backs off exponentially up to ten minutes", () => {
    expect([1, 2, 3, 4, 10].map(retryDelaySeconds)).toEqual([10, 20, 40, 80, 600]);
  });
});

describe("dead-letter queue consumer", () => {
  it("parks each message in dead_letters once, and acks", async () => {
    const body = { kind: "maintenance.sweep", occurrence: uniqueOccurrence() };
    const { batch, result } = await deliver("tend-jobs-dlq", [body], 6);
    expect(result.ackAll).toBe(true);
    const id = batch.messages[0]?.id ?? "";
    await deliver("tend-jobs-dlq", [body], 6); // a different delivery id: parked too
    const rows = await testDb().select().from(deadLetters).where(eq(deadLetters.messageId, id));
    expect(rows).toEqual([expect.objectContaining({ queue: "tend-jobs-dlq", kind: "maintenance.sweep", attempts: 6, body })]);
  });

  it("asks for redelivery when the database is down, losing nothing", async () => {
    const { result } = await deliver("tend-jobs-dlq", [{ any: "thing" }], 6, { DATABASE_HTTP_ENDPOINT: "http://127.0.0.1:1/sql" });
    expect(result.ackAll).toBe(false);
    expect(result.retryBatch.retry).toBe(true);
  });
});

describe("cron trigger", () => {
  it("enqueues a sweep that the real queue delivers to the consumer", async () => {
    const scheduledTime = Date.UTC(2031, 0, 1, 0, Math.floor(Math.random() * 60), Math.floor(Math.random() * 60));
    const controller = createScheduledController({ scheduledTime, cron: "*/5 * * * *" });
    await worker.scheduled(controller, env);
    const occurrence = new Date(scheduledTime).toISOString();
    await vi.waitFor(async () => expect(await runsOf(occurrence)).toHaveLength(1), { timeout: 10_000, interval: 200 });
    await vi.waitFor(async () => expect(await runsOf(occurrence, "auth.purge-one-time-tokens")).toHaveLength(1), { timeout: 10_000, interval: 200 });
  });
});

/** A job of the test's own, counting its runs per key; `failures` makes the next runs throw. */
function probeRegistry() {
  const runs = new Map<string, number>();
  const failures = new Set<string>();
  const probe = defineJob({
    kind: "test.probe",
    payload: z.object({ key: z.string() }),
    queue: "jobs",
    runKey: (job) => job.key,
    async handle(job) {
      runs.set(job.key, (runs.get(job.key) ?? 0) + 1);
      if (failures.delete(job.key)) throw new Error("probe failed");
    },
  });
  return { registry: jobRegistry([probe]), runs, failures };
}

async function consumeProbe(registry: ReturnType<typeof probeRegistry>["registry"], key: string, attempts = 1) {
  const batch = createMessageBatch("tend-jobs", [{ id: `msg-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body: { kind: "test.probe", key } }]);
  const ctx = createExecutionContext();
  const config = parseConfig(env);
  const logger = createLogger("error");
  const deps = {
    ...backgroundDeps({ db: testDb(), config, logger, adapters: cloudflarePlatform.adapters(env), mailer: createMailer(config, logger), run: "test" }),
    deadLetterQueue: env.DEAD_LETTERS,
  };
  await consumeJobs(batch, deps, registry);
  return { batch, result: await getQueueResult(batch, ctx) };
}

describe("the runner's claim", () => {
  it("runs a run key once: a redelivery of a finished run is acked without running the handler", async () => {
    const { registry, runs } = probeRegistry();
    const key = crypto.randomUUID();
    await consumeProbe(registry, key);
    const { batch, result } = await consumeProbe(registry, key, 2);
    expect(result.explicitAcks).toEqual([batch.messages[0]?.id]);
    expect(runs.get(key)).toBe(1);
    const [run] = await runsOf(key, "test.probe");
    expect(run?.finishedAt).toBeInstanceOf(Date);
  });

  it("frees the claim of a failed run, so the retry runs it", async () => {
    const { registry, runs, failures } = probeRegistry();
    const key = crypto.randomUUID();
    failures.add(key);
    const first = await consumeProbe(registry, key);
    expect(first.result.retryMessages).toHaveLength(1);
    expect(await runsOf(key, "test.probe")).toEqual([]);
    const second = await consumeProbe(registry, key, 2);
    expect(second.result.explicitAcks).toHaveLength(1);
    expect(runs.get(key)).toBe(2);
  });

  it("retries, without running, a delivery of a run another delivery is still working on", async () => {
    const { registry, runs } = probeRegistry();
    const key = crypto.randomUUID();
    await testDb().insert(jobRuns).values({ kind: "test.probe", occurrence: key });
    const { result } = await consumeProbe(registry, key);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
    expect(runs.get(key)).toBeUndefined();
  });

  it("takes over a claim abandoned past its lease", async () => {
    const { registry, runs } = probeRegistry();
    const key = crypto.randomUUID();
    const abandoned = new Date(Date.now() - (CLAIM_LEASE_SECONDS + 60) * 1000);
    await testDb().insert(jobRuns).values({ kind: "test.probe", occurrence: key, startedAt: abandoned });
    const { result } = await consumeProbe(registry, key);
    expect(result.explicitAcks).toHaveLength(1);
    expect(runs.get(key)).toBe(1);
  });
});

describe("auth jobs", () => {
  it("purges one-time tokens expired past retention, keeping recent ones", async () => {
    const { members } = await createTenant("Token Purge Practice");
    const day = 86_400_000;
    const token = (label: string, expiresAt: Date) => ({
      id: uuidv7(),
      userId: members.staff.id,
      purpose: "password_reset" as const,
      tokenHash: `${label}-${crypto.randomUUID()}`,
      expiresAt,
    });
    const old = token("old", new Date(Date.now() - (ONE_TIME_TOKEN_RETENTION_DAYS + 1) * day));
    const recent = token("recent", new Date(Date.now() - day));
    await testDb().insert(oneTimeTokens).values([old, recent]);

    const { result } = await deliver("tend-jobs", [{ kind: "auth.purge-one-time-tokens", occurrence: uniqueOccurrence() }]);
    expect(result.explicitAcks).toHaveLength(1);
    const left = await testDb().select({ id: oneTimeTokens.id }).from(oneTimeTokens).where(eq(oneTimeTokens.userId, members.staff.id));
    expect(left.map((row) => row.id)).toContain(recent.id);
    expect(left.map((row) => row.id)).not.toContain(old.id);
  });
});
