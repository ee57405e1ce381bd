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
          APP_URL: "https://app.tend.test",
          ...inject("secrets"),
          // Generous limits for the suite; the rate-limit tests set their own.
          RATE_LIMIT_AUTH_PER_MINUTE: "100000",
          RATE_LIMIT_READS_PER_MINUTE: "100000",
          RATE_LIMIT_WRITES_PER_MINUTE: "100000",
          RESEND_API_KEY: "re_test_0123456789",
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
