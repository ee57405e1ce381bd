import type { RouteConfig, RouteHandler } from "@hono/zod-openapi";
import type { Config, WorkerEnv } from "#src/env.ts";
import type { Database } from "#src/db/client.ts";
import type { Logger } from "#src/lib/logger.ts";
import type { Timing } from "#src/lib/timing.ts";
import type { Adapters, Platform } from "#src/platform/ports.ts";
import type { Mailer } from "#src/platform/mailer.ts";
import type { AuthContext } from "#src/middleware/auth.ts";
import type { Deps } from "#src/lib/deps.ts";

/** Per-request values, set by middleware and read by handlers. */
export interface AppVariables {
  requestId: string;
  timing: Timing;
  logger: Logger;
  config: Config;
  adapters: Adapters;
  platform: Platform;
  db: Database;
  mailer: Mailer;
  /** Set by `authenticate` when the request carries credentials. */
  auth: AuthContext | undefined;
  /** The services' dependencies, built on first use (src/lib/deps.ts). */
  deps: Deps;
  /** When the caller last marked a write, as their admission answered it (read-your-writes caches). */
  lastWrite: Promise<number | undefined> | undefined;
}

export interface AppEnv {
  Bindings: WorkerEnv;
  Variables: AppVariables;
}

export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
