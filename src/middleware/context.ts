import { Context } from "hono";
import type { MiddlewareHandler } from "hono";
import { ConfigError, parseConfig } from "#src/env.ts";
import { createDb } from "#src/db/client.ts";
import { Misconfigured } from "#src/lib/errors.ts";
import { createMailer } from "#src/platform/mailer.ts";
import { buildRequestDeps } from "#src/lib/deps.ts";
import type { AppEnv, AppVariables } from "#src/lib/types.ts";
import type { Platform } from "#src/platform/ports.ts";

const reportedConfigErrors = new Set<string>();

type Lazy = { [K in keyof AppVariables]?: () => AppVariables[K] };

/** Hono's own `c.var` (a fresh object of the values set so far, on each read). */
const honoVar = Object.getOwnPropertyDescriptor(Context.prototype, "var")?.get;

/**
 * Makes `c.get(key)`, and `c.var[key]`, build the value on first use, for the keys in `lazy`. A
 * `c.set` of such a key first wins over the lazy value. /health, the limiter's refusals and token
 * errors never pay for a database client or a mailer. `lazy` is taken over: pass a fresh object.
 */
export function provideLazily(c: Context<AppEnv>, lazy: Lazy): void {
  // `lazy` is the caller's own fresh object: spent makers are set to undefined, never deleted,
  // so it keeps its shape (no Map, no entries array on every request).
  const pending = lazy as Record<string, (() => unknown) | undefined>;
  const { get, set } = c;
  if (honoVar) {
    Object.defineProperty(c, "var", {
      configurable: true,
      get() {
        const values = honoVar.call(c) as Record<string, unknown>;
        for (const key in pending) {
          if (pending[key]) Object.defineProperty(values, key, { enumerable: true, get: () => c.get(key as keyof AppVariables) });
        }
        return values;
      },
    });
  }
  c.set = ((key: keyof AppVariables, value: unknown) => {
    if (Object.hasOwn(pending, key)) pending[key] = undefined;
    set(key, value as never);
  }) as typeof c.set;
  c.get = ((key: keyof AppVariables) => {
    const make = Object.hasOwn(pending, key) ? pending[key] : undefined;
    if (make) {
      pending[key] = undefined;
      set(key, make() as never);
    }
    return get(key);
  }) as typeof c.get;
}

/**
 * Validates the configuration and hands the request its adapters, and its database client,
 * mailer and services' dependencies on first use (`provideLazily`). A bad
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
      provideLazily(c, {
        db: () => createDb(config, { timing: c.get("timing") }),
        mailer: () => createMailer(config, c.get("logger")),
        deps: () => buildRequestDeps(c),
      });
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
