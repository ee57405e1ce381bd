import { deadLetters } from "#src/db/schema/index.ts";
import type { JobDeps } from "#src/jobs/job.ts";
import { type JobRegistry, jobs } from "#src/jobs/registry.ts";
import { MalformedJob, RetryLater, runMessage } from "#src/jobs/runner.ts";

/** Exponential backoff between tries: 10 s, 20 s, 40 s … capped at 10 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(600, 10 * 2 ** Math.max(0, attempts - 1));
}

export interface ConsumerDeps extends JobDeps {
  /** The dead-letter queue's producer (DEAD_LETTERS): where a malformed message goes at once. */
  deadLetterQueue: Pick<Queue, "send">;
}

/**
 * A jobs queue's consumer: each message is validated and run on its own, acked when done and
 * retried with backoff when not; after its last try the queue moves it to the dead-letter queue.
 * A malformed message (unknown kind, or failing its job's schema) cannot get better by waiting:
 * it goes to the dead-letter queue at once, unchanged, and is acked.
 */
export async function consumeJobs(batch: MessageBatch<unknown>, deps: ConsumerDeps, registry: JobRegistry = jobs): Promise<void> {
  await Promise.all(batch.messages.map((message) => consumeOne(batch.queue, message, deps, registry)));
}

async function consumeOne(queue: string, message: Message<unknown>, deps: ConsumerDeps, registry: JobRegistry): Promise<void> {
  try {
    const outcome = await runMessage(message.body, deps, registry);
    deps.logger.log("info", "job done", { queue, messageId: message.id, duplicate: outcome === "duplicate" });
    message.ack();
  } catch (error) {
    if (error instanceof MalformedJob) return deadLetter(queue, message, error, deps);
    deps.logger.log("warn", "job failed; will retry", {
      queue,
      messageId: message.id,
      attempts: message.attempts,
      error: error instanceof Error ? error.name : "unknown",
    });
    message.retry({ delaySeconds: retryDelayOf(error, message.attempts) });
  }
}

/** The backoff, or the provider's Retry-After when it asks for longer (a queue delay is at most 12 hours). */
function retryDelayOf(error: unknown, attempts: number): number {
  const backoff = retryDelaySeconds(attempts);
  return error instanceof RetryLater ? Math.min(43_200, Math.max(backoff, Math.ceil(error.retryAfterSeconds))) : backoff;
}

async function deadLetter(queue: string, message: Message<unknown>, error: MalformedJob, deps: ConsumerDeps): Promise<void> {
  const fields = { queue, messageId: message.id, kind: error.kind, invalid: error.fields.join(",") };
  try {
    await deps.deadLetterQueue.send(message.body, { contentType: "json" });
  } catch {
    // Not lost: the retry brings it back here, and past max_retries the queue dead-letters it.
    deps.logger.log("error", "malformed job message not dead-lettered; will retry", fields);
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  deps.logger.log("error", "malformed job message dead-lettered", fields);
  message.ack();
}

/** The dead-letter queue's consumer: parks each message in `dead_letters`, once, for replay. */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, deps: JobDeps, registry: JobRegistry = jobs): Promise<void> {
  const rows = batch.messages.map((message) => ({
    messageId: message.id,
    queue: batch.queue,
    kind: knownKind(message.body, registry),
    body: message.body ?? null,
    attempts: message.attempts,
  }));
  if (rows.length === 0) return;
  try {
    await deps.db.insert(deadLetters).values(rows).onConflictDoNothing();
  } catch (error) {
    // Never throw: the runtime would log the error, and drizzle's message carries query params.
    deps.logger.log("error", "dead letters not parked; will retry", {
      count: rows.length,
      error: error instanceof Error ? error.name : "unknown",
    });
    batch.retryAll({ delaySeconds: retryDelaySeconds(Math.min(...batch.messages.map((m) => m.attempts))) });
    return;
  }
  deps.logger.log("error", "jobs dead-lettered", { queue: batch.queue, count: rows.length });
  batch.ackAll();
}

/** The message's kind when it is a well-formed job, for an operator's filter; null otherwise. */
function knownKind(body: unknown, registry: JobRegistry): string | null {
  for (const definition of registry.values()) {
    if (definition.accept(body).ok) return definition.kind;
  }
  return null;
}
