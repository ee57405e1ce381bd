import { createApp } from "#src/app.ts";
import { createDb } from "#src/db/client.ts";
import { parseBindings, parseConfig, type WorkerEnv } from "#src/env.ts";
import type { JobDeps } from "#src/jobs/runner.ts";
import { backgroundDeps } from "#src/lib/deps.ts";
import { createLogger } from "#src/lib/logger.ts";
import { createMailer } from "#src/platform/mailer.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";

export { RateLimiter } from "../durable-objects/rate-limiter.ts";
export { NotificationHub } from "../durable-objects/notification-hub.ts";

const app = createApp(cloudflarePlatform);

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

/** The Worker: HTTP through the app; queue batches and cron ticks through the jobs module. */
export default {
  fetch: app.fetch,

  async queue(batch, env, ctx) {
    const deps = jobDeps(env, `queue:${batch.queue}`, ctx);
    const { DEAD_LETTER_QUEUE, DEAD_LETTERS } = parseBindings(env);
    // The jobs (and the features they run) load with the first batch, not at startup.
    const { consumeDeadLetters, consumeJobs } = await import("#src/jobs/consumer.ts");
    if (batch.queue === DEAD_LETTER_QUEUE) await consumeDeadLetters(batch, deps);
    else await consumeJobs(batch, { ...deps, deadLetterQueue: DEAD_LETTERS });
  },

  async scheduled(controller, env) {
    const { runCron } = await import("#src/jobs/cron.ts");
    await runCron(controller.scheduledTime, cloudflarePlatform.adapters(env).jobs);
  },
} satisfies ExportedHandler<WorkerEnv>;
