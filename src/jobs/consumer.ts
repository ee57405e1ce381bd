import { deadLetters } from "#src/db/schema/index.ts";
import { JobSchema } from "#src/jobs/job.ts";
import { type JobDeps, runJob } from "#src/jobs/runner.ts";

/** Exponential backoff between tries: 10 s, 20 s, 40 s … capped at 10 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(600, 10 * 2 ** Math.max(0, attempts - 1));
}

/**
 * The jobs queue's consumer: each message is validated and run on its own, acked when done and
 * retried with backoff when not. After its last try the queue moves it to the dead-letter queue.
 */
export async function consumeJobs(batch: MessageBatch<unknown>, deps: JobDeps): Promise<void> {
  await Promise.all(batch.messages.map((message) => consumeOne(batch.queue, message, deps)));
}

async function consumeOne(queue: string, message: Message<unknown>, deps: JobDeps): Promise<void> {
  const parsed = JobSchema.safeParse(message.body);
  if (!parsed.success) {
    deps.logger.log("error", "malformed job message", { queue, messageId: message.id });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  try {
    await runJob(parsed.data, deps);
    message.ack();
  } catch (error) {
    deps.logger.log("warn", "job failed; will retry", {
      kind: parsed.data.kind,
      attempts: message.attempts,
      error: error instanceof Error ? error.name : "unknown",
    });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

/** The dead-letter queue's consumer: parks each message in `dead_letters`, once, for replay. */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, deps: JobDeps): Promise<void> {
  const rows = batch.messages.map((message) => ({
    messageId: message.id,
    queue: batch.queue,
    kind: JobSchema.safeParse(message.body).data?.kind ?? null,
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
