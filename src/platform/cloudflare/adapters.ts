import type { Job } from "#src/jobs/job.ts";
import type { RateLimiter as RateLimiterObject } from "../../../durable-objects/rate-limiter.ts";
import type { NotificationHub as NotificationHubObject } from "../../../durable-objects/notification-hub.ts";
import { durableRealtime } from "#src/platform/cloudflare/realtime.ts";
import { parseBindings, type WorkerEnv } from "#src/env.ts";
import { type QueueName, queueOfKind, queueProducers } from "#src/jobs/queues.ts";
import {
  type Adapters,
  type Admission,
  type Cache,
  type Jobs,
  type Platform,
  type RateLimiter,
  type StaticAssets,
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

/** Object ids kept per isolate; the oldest goes first past this many. */
const ID_CACHE_SIZE = 1000;

/**
 * One RateLimiter object per key; the readiness probe has an object of its own. Object ids are
 * hashed once per isolate and reused. Stubs are not: workerd ties a stub to the request that made
 * it ("Cannot perform I/O on behalf of a different request"), so each call gets a fresh one.
 */
export function durableRateLimiter(namespace: DurableObjectNamespace<RateLimiterObject>): RateLimiter {
  const ids = new Map<string, DurableObjectId>();
  const call = <T>(name: string, run: (object: DurableObjectStub<RateLimiterObject>) => Promise<T>): Promise<T> => {
    let id = ids.get(name);
    if (!id) {
      id = namespace.idFromName(name);
      if (ids.size >= ID_CACHE_SIZE) ids.delete(ids.keys().next().value ?? "");
      ids.set(name, id);
    }
    return run(namespace.get(id));
  };
  return {
    admit: (subject, policy, session) =>
      call<Admission>(subject, (object) => object.admit({ bucket: policy.name, limit: policy.limit, windowSeconds: policy.windowSeconds, session })),
    markWrite: (subject) => call(subject, (object) => object.markWrite()),
    revokeSessions: (userId, organizationId, options = {}) =>
      call(`user:${userId}`, (object) => object.revokeSessions(organizationId, options.exceptSessionId)),
    revokeSession: (userId, sessionId) => call(`user:${userId}`, (object) => object.revokeSession(sessionId)),
    reserveLoginAttempt: (account, source, policy) => call(`login:${account}`, (object) => object.reserveLoginAttempt(source, policy)),
    settleLoginAttempt: (account, source, succeeded, policy) =>
      call(`login:${account}`, (object) => object.settleLoginAttempt(source, succeeded, policy)),
    clearLoginLockout: (account, exempt) => call(`login:${account}`, (object) => object.clearLoginLockout(exempt)),
    spendOnce: (scope, key, ttlSeconds) => call(scope, (object) => object.spendOnce(key, ttlSeconds)),
    ping: () => call("readiness-probe", (object) => object.ping()),
  };
}

/** Queues' sendBatch takes at most 100 messages (and 256 KB; a job message is well under 1 KB). */
const QUEUE_BATCH_MAX = 100;

/** Each job goes to its concern's queue (src/jobs/queues.ts); ping reads every queue's metrics. */
export function queueJobs(queues: Record<QueueName, Queue>): Jobs {
  return {
    enqueue: async (job, options = {}) => {
      await queues[queueOfKind(job.kind)].send(job, { contentType: "json", delaySeconds: options.delaySeconds });
    },
    enqueueBatch: async (jobs) => {
      const byQueue = new Map<QueueName, Job[]>();
      for (const job of jobs) {
        const name = queueOfKind(job.kind);
        const list = byQueue.get(name);
        if (list) list.push(job);
        else byQueue.set(name, [job]);
      }
      const calls: Promise<unknown>[] = [];
      for (const [name, list] of byQueue) {
        for (let start = 0; start < list.length; start += QUEUE_BATCH_MAX) {
          calls.push(queues[name].sendBatch(list.slice(start, start + QUEUE_BATCH_MAX).map((body) => ({ body, contentType: "json" as const }))));
        }
      }
      await Promise.all(calls);
    },
    ping: async () => {
      await Promise.all(Object.values(queues).map((queue) => queue.metrics()));
    },
  };
}

/** The `[assets]` directory (public/) through the ASSETS binding, which ignores the URL's host. */
export function workerAssets(binding: Fetcher): StaticAssets {
  return {
    async get(path) {
      const response = await binding.fetch(new URL(path, "https://assets.invalid"));
      if (response.status === 404) {
        await response.body?.cancel();
        return null;
      }
      if (!response.ok) throw new Error(`ASSETS answered ${response.status} for ${path}`);
      return new Uint8Array(await response.arrayBuffer());
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
      assets: workerAssets(bindings.ASSETS),
      realtime: durableRealtime(bindings.NOTIFICATION_HUB as DurableObjectNamespace<NotificationHubObject>),
    };
    adaptersByEnv.set(env, adapters);
    return adapters;
  },
};
