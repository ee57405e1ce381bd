import type { MiddlewareHandler } from "hono";
import { ConfigError, parseConfig } from "#src/env.ts";
import { createDb } from "#src/db/client.ts";
import { Misconfigured } from "#src/lib/errors.ts";
import { createMailer } from "#src/platform/mailer.ts";
import type { AppEnv } from "#src/lib/types.ts";
import type { Platform } from "#src/platform/ports.ts";

const reportedConfigErrors = new Set<string>();

/**
 * Validates the configuration and hands the request its adapters and database client. A bad
 * configuration answers every request with a 500 problem and is logged once, by key name only.
 */
export function requestContext(platform: Platform): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    try {
      const env = c.env ?? {};
      const config = parseConfig(env);
      c.set("config", config);
      c.set("platform", platform);
      c.set("adapters", platform.adapters(env));
      c.set("db", createDb(config, { timing: c.get("timing") }));
      c.set("mailer", createMailer(config, c.get("logger")));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const keys = error.keys.join(",");
      if (!reportedConfigErrors.has(keys)) {
        reportedConfigErrors.add(keys);
        c.get("logger").log("error", "server misconfigured", { invalidKeys: keys });
      }
      throw Misconfigured();
    }
    await next();
  };
}
