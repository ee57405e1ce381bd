import type { createApp } from "#src/app.ts";
import type { WorkerEnv } from "#src/env.ts";

export { RateLimiter } from "../durable-objects/rate-limiter.ts";

type App = ReturnType<typeof createApp>;
let app: Promise<App> | undefined;

/**
 * The app, built at the first request rather than at startup: its ~30 routes' zod schemas, their
 * OpenAPI metadata, the configuration schema and the drizzle tables cost more CPU than the rest
 * of the bundle's evaluation (`wrangler check startup`: ~55 ms with them; the budget is 40 ms).
 * esbuild keeps each `import()` in this one bundle, as modules evaluated on first call. Nothing
 * answers before the app is built, so every route (and the rate-limit policy and admission
 * tables their declarations fill in) is in place for the first request as it was at startup.
 */
function loadApp(): Promise<App> {
  app ??= Promise.all([import("#src/app.ts"), import("#src/platform/cloudflare/adapters.ts")]).then(([module, platform]) =>
    module.createApp(platform.cloudflarePlatform),
  );
  return app;
}

/** The Worker: HTTP through the app; queue batches and cron ticks through the jobs module (src/background.ts). */
export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    return (await loadApp()).fetch(request, env, ctx);
  },

  async queue(batch, env, ctx) {
    await (await import("#src/background.ts")).queue(batch, env, ctx);
  },

  async scheduled(controller, env) {
    await (await import("#src/background.ts")).scheduled(controller, env);
  },
} satisfies ExportedHandler<WorkerEnv>;
