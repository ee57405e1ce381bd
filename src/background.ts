import { createDb } from "#src/db/client.ts";
import { parseBindings, parseConfig, type WorkerEnv } from "#src/env.ts";
import { consumeDeadLetters, consumeJobs } from "#src/jobs/consumer.ts";
import { runCron } from "#src/jobs/cron.ts";
import type { JobDeps } from "#src/jobs/runner.ts";
import { backgroundDeps } from "#src/lib/deps.ts";
import { createLogger } from "#src/lib/logger.ts";
import { createMailer } from "#src/platform/mailer.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";

/** A queue batch's dependencies: the same object a request's services get, acting as the system. */
function jobDeps(env: WorkerEnv, run: string, ctx: ExecutionContext): JobDeps {
  const config = parseConfig(env);
  const logger = createLogger(config.LOG_LEVEL, { run });
  return backgroundDeps({
    db: createDb(config, { scope: { kind: "jobs" } }),
    config,
    logger,
    adapters: cloudflarePlatform.adapters(env),
    mailer: createMailer(config, logger),
    run,
    waitUntil: (work) => ctx.waitUntil(work),
  });
}

/** The Worker's queue handler (src/index.ts loads this module at the first batch): dead letters are parked, jobs run. */
export async function queue(batch: MessageBatch, env: WorkerEnv, ctx: ExecutionContext): Promise<void> {
  const deps = jobDeps(env, `queue:${batch.queue}`, ctx);
  const { DEAD_LETTER_QUEUE, DEAD_LETTERS } = parseBindings(env);
  if (batch.queue === DEAD_LETTER_QUEUE) await consumeDeadLetters(batch, deps);
  else await consumeJobs(batch, { ...deps, deadLetterQueue: DEAD_LETTERS });
}

/** The Worker's cron handler. */
export async function scheduled(controller: ScheduledController, env: WorkerEnv): Promise<void> {
  await runCron(controller.scheduledTime, cloudflarePlatform.adapters(env).jobs);
}
