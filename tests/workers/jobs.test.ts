import { createExecutionContext, createMessageBatch, createScheduledController, env, getQueueResult } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { deadLetters, jobRuns } from "#src/db/schema/index.ts";
import { retryDelaySeconds } from "#src/jobs/consumer.ts";
import worker from "#src/index.ts";
import { testDb } from "./helpers.ts";

const uniqueOccurrence = () => `test-${crypto.randomUUID()}`;

async function deliver(queue: string, bodies: unknown[], attempts = 1, overrides: Record<string, unknown> = {}) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, index) => ({ id: `msg-${crypto.randomUUID()}-${index}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...overrides });
  return { batch, result: await getQueueResult(batch, ctx) };
}

async function runsOf(occurrence: string) {
  return testDb()
    .select()
    .from(jobRuns)
    .where(and(eq(jobRuns.kind, "maintenance.sweep"), eq(jobRuns.occurrence, occurrence)));
}

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

  it("retries a malformed message so it reaches the dead-letter queue, not the void", async () => {
    const { result } = await deliver("tend-jobs", [{ kind: "unknown.job" }]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
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
  });
});
