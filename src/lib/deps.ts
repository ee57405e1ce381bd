import type { Database } from "#src/db/client.ts";
import type { Config } from "#src/env.ts";
import { type AuditOrigin, auditOrigin } from "#src/lib/audit-origin.ts";
import type { Logger } from "#src/lib/logger.ts";
import type { RequestContext } from "#src/lib/route.ts";
import type { Mailer } from "#src/platform/mailer.ts";
import type { Cache, Clock, Jobs, RateLimiter, Realtime, StaticAssets } from "#src/platform/ports.ts";
import { createProviders, type Providers } from "#src/platform/providers.ts";

/**
 * Everything a service may use, built in one place: once per request by `requestDeps`, once per
 * batch or tick by `backgroundDeps`. A service names the part it needs as `Pick<Deps, …>`, so a
 * queue consumer or a cron task calls the same service a route does, and a test hands it a fake
 * clock or a hooked database without building the rest.
 */
export interface Deps {
  /** The request's database client (made on first use), or the job's. */
  readonly db: Database;
  readonly config: Config;
  /** The time services read: never `Date.now()`, so time-driven code runs on a fixed clock in tests. */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly rateLimiter: RateLimiter;
  readonly cache: Cache;
  readonly jobs: Jobs;
  /** Files deployed beside the code (the breached-password set). */
  readonly assets: StaticAssets;
  /** Live updates to users' open sockets. */
  readonly realtime: Realtime;
  /** The mailer (made on first use). */
  readonly mailer: Mailer;
  /** SMS, push and voice clients (made on first use), as configured in env.ts. */
  readonly providers: Providers;
  /** Who is acting, for audit rows: the request's address and id, or the job's run. */
  readonly origin: AuditOrigin;
  /** Runs work after the response or the run (mail), so its latency reveals nothing. */
  defer(work: Promise<unknown>): void;
  /**
   * Read-your-writes for caches: when the caller last changed something cached (their admission
   * already asked their RateLimiter object, so this costs nothing), and marking a change. A cached
   * value built before the caller's last write is stale for them; others see it within its TTL.
   */
  readonly writes: CallerWrites;
}

export interface CallerWrites {
  lastWriteMs(): Promise<number | undefined>;
  markWrite(): Promise<void>;
}

const NO_WRITES: CallerWrites = { lastWriteMs: async () => undefined, markWrite: async () => undefined };

const providersByConfig = new WeakMap<Config, Providers>();

/** One set of provider clients per configuration (per isolate): FCM's access token is cached in it. */
function lazyProviders(config: Config, logger: Logger): Providers {
  let providers = providersByConfig.get(config);
  if (!providers) {
    providers = createProviders(config, logger);
    providersByConfig.set(config, providers);
  }
  return providers;
}

/** The caller's limiter subject, as admission names it. */
function callerSubject(c: RequestContext): string | undefined {
  const auth = c.get("auth");
  if (auth?.kind === "user" && auth.userId) return `user:${auth.userId}`;
  if (auth?.apiKeyId) return `apikey:${auth.apiKeyId}`;
  return undefined;
}

/** The request's dependencies: `c.get("deps")`, built on first use by `buildRequestDeps`. */
export function requestDeps(c: RequestContext): Deps {
  return c.get("deps");
}

/** Builds the request's dependencies; `requestContext` provides it lazily as `c.var.deps`. */
export function buildRequestDeps(c: RequestContext): Deps {
  const adapters = c.get("adapters");
  return {
    get db() {
      return c.get("db");
    },
    get mailer() {
      return c.get("mailer");
    },
    config: c.get("config"),
    clock: adapters.clock,
    logger: c.get("logger"),
    rateLimiter: adapters.rateLimiter,
    cache: adapters.cache,
    jobs: adapters.jobs,
    assets: adapters.assets,
    realtime: adapters.realtime,
    get providers() {
      return lazyProviders(c.get("config"), c.get("logger"));
    },
    origin: auditOrigin(c),
    writes: {
      lastWriteMs: async () => c.get("lastWrite"),
      markWrite: async () => {
        const subject = callerSubject(c);
        if (subject) await adapters.rateLimiter.markWrite(subject);
      },
    },
    defer: (work) => {
      try {
        c.executionCtx.waitUntil(work);
      } catch {
        // no execution context (a unit test): the work runs on its own
        void work;
      }
    },
  };
}

export interface BackgroundInput {
  db: Database;
  config: Config;
  logger: Logger;
  adapters: { clock: Clock; rateLimiter: RateLimiter; cache: Cache; jobs: Jobs; realtime: Realtime; assets: StaticAssets };
  /** Provider clients; built from config when absent (tests hand in intercepted ones). */
  providers?: Providers;
  mailer: Mailer;
  /** Names the run in audit rows, e.g. "queue:tend-jobs" or "cron:2026-12-03T10:00:00Z". */
  run: string;
  waitUntil?: (work: Promise<unknown>) => void;
}

/** The same dependencies for a queue batch or a cron tick, acting as the system. */
export function backgroundDeps(input: BackgroundInput): Deps {
  const { adapters } = input;
  return {
    db: input.db,
    config: input.config,
    clock: adapters.clock,
    logger: input.logger,
    rateLimiter: adapters.rateLimiter,
    cache: adapters.cache,
    jobs: adapters.jobs,
    assets: adapters.assets,
    realtime: adapters.realtime,
    mailer: input.mailer,
    providers: input.providers ?? lazyProviders(input.config, input.logger),
    origin: { ip: null, userAgent: null, requestId: input.run },
    writes: NO_WRITES,
    defer: (work) => (input.waitUntil ? input.waitUntil(work) : void work),
  };
}
