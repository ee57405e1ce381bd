import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";

/**
 * Tests that run inside workerd with the real Miniflare bindings from wrangler.toml (KV, the
 * RateLimiter Durable Object, the jobs queues, cron). The database is the local gateway started
 * by global-setup.ts, on PGlite or on PostgreSQL when LOCAL_POSTGRES_URL is set.
 */
export const workersProject = defineProject({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      main: "./src/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ENVIRONMENT: "test",
          LOG_LEVEL: "warn",
          DATABASE_URL: inject("databaseUrl"),
          DATABASE_HTTP_ENDPOINT: `${inject("gatewayUrl")}/sql`,
          CORS_ORIGINS: "https://app.tend.test",
        },
      },
    })),
  ],
  test: {
    name: "workers",
    include: ["tests/workers/**/*.test.ts"],
    globalSetup: ["./tests/workers/global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
