import type { RateLimiter as RateLimiterObject } from "../../../durable-objects/rate-limiter.ts";
import { parseBindings, type WorkerEnv } from "#src/env.ts";
import { type QueueName, queueProducers } from "#src/jobs/queues.ts";
import { queueOf } from "#src/jobs/registry.ts";
import {
  type Adapters,
  type Cache,
  type Jobs,
  type Platform,
  type RateLimiter,
  systemClock,
} from "#src/platform/ports.ts";

/** KV's shortest allowed expiration. */
const KV_MIN_TTL_SECONDS = 60;

export function kvCache(kv: KVNamespace): Cache {
  return {
    get: <T>(key: string) => kv.get<T>(key, "json"),
    put: (key, value, ttlSeconds) =>
      kv.put(key, JSON.stringify(value), { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, ttlSeconds) }),
    delete: (key) => kv.delete(key),
  };
}

/** One RateLimiter object per key; the readiness probe has an object of its own. */
export function durableRateLimiter(namespace: DurableObjectNamespace<RateLimiterObject>): RateLimiter {
  const stub = (name: string) => namespace.get(namespace.idFromName(name));
  return {
    admit: (subject, policy, session) =>
      stub(subject).admit({ bucket: policy.name, limit: policy.limit, windowSeconds: policy.windowSeconds, session }),
    revokeSessions: (userId, organizationId) => stub(`user:${userId}`).revokeSessions(organizationId),
    reserveLoginAttempt: (account, max, window) => stub(`login:${account}`).reserveLoginAttempt(max, window),
    settleLoginAttempt: (account, succeeded, max, lock) => stub(`login:${account}`).settleLoginAttempt(succeeded, max, lock),
    ping: () => stub("readiness-probe").ping(),
  };
}

/** Each job goes to its concern's queue (src/jobs/queues.ts); ping reads every queue's metrics. */
export function queueJobs(queues: Record<QueueName, Queue>): Jobs {
  return {
    enqueue: async (job, options = {}) => {
      await queues[queueOf(job)].send(job, { contentType: "json", delaySeconds: options.delaySeconds });
    },
    ping: async () => {
      await Promise.all(Object.values(queues).map((queue) => queue.metrics()));
    },
  };
}

const adaptersByEnv = new WeakMap<WorkerEnv, Adapters>();

/** Adapters over the bindings declared in wrangler.toml; built once per env object, not per request. */
export const cloudflarePlatform: Platform = {
  name: "cloudflare",
  adapters(env: WorkerEnv): Adapters {
    const cached = adaptersByEnv.get(env);
    if (cached) return cached;
    const bindings = parseBindings(env);
    const adapters: Adapters = {
      cache: kvCache(bindings.CACHE),
      rateLimiter: durableRateLimiter(bindings.RATE_LIMITER as DurableObjectNamespace<RateLimiterObject>),
      jobs: queueJobs(queueProducers(env)),
      clock: systemClock,
    };
    adaptersByEnv.set(env, adapters);
    return adapters;
  },
};
