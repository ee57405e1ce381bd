declare module "vitest" {
  interface ProvidedContext {
    gatewayUrl: string;
    databaseUrl: string;
    silentUrl: string;
    databaseBackend: string;
    /** FUZZ_REQUESTS and FUZZ_SEED from the shell, for tests/workers/fuzz.test.ts. */
    fuzz: { requests: string; seed: string };
    secrets: { JWT_PRIVATE_KEYS: string; PASSWORD_PEPPERS: string; ENCRYPTION_KEYS: string };
  }
}

declare global {
  namespace Cloudflare {
    interface Env {
      CACHE: KVNamespace;
      RATE_LIMITER: DurableObjectNamespace<import("../durable-objects/rate-limiter.ts").RateLimiter>;
      JOBS: Queue;
      DATABASE_URL: string;
      DATABASE_HTTP_ENDPOINT: string;
      [key: string]: unknown;
    }
  }
}

export {};
