import { z } from "zod";
import type { QueueName } from "#src/jobs/queues.ts";
import type { Deps } from "#src/lib/deps.ts";

export type { Job } from "#src/jobs/registry.ts";

/**
 * What a job handler gets: the same dependencies object a request's services get, built by
 * `backgroundDeps` (src/lib/deps.ts), so a job calls the same services as a route.
 */
export type JobDeps = Deps;

/** What a feature writes in its `<area>.jobs.ts`: one of these per kind of job. */
export interface JobSpec<K extends string, P extends z.ZodObject> {
  /** `<area>.<action>`, unique across features; the message's `kind`. */
  kind: K;
  /** The rest of the message, validated before the handler sees it. */
  payload: P;
  /** Which queue carries it (src/jobs/queues.ts): one concern's backlog never delays another's. */
  queue: QueueName;
  /** The run key: two messages with the same kind and run key are one run, done once. */
  runKey(payload: z.infer<P>): string;
  /** Does the work. Throws to ask for a retry (with backoff). */
  handle(payload: z.infer<P>, deps: JobDeps): Promise<void>;
  /** Set for periodic work: every cron tick enqueues what this returns for the tick's occurrence. */
  scheduled?(occurrence: string): z.infer<P>;
}

export type JobMessage<K extends string, P extends z.ZodObject> = { kind: K } & z.infer<P>;

/** A message body checked against its job's schema: the run it asks for, or why it is malformed. */
export type Accepted = { ok: true; runKey: string; run(deps: JobDeps): Promise<void> } | { ok: false; fields: string[] };

export interface JobDefinition<K extends string = string, P extends z.ZodObject = z.ZodObject> {
  kind: K;
  queue: QueueName;
  /** The whole message: `kind` plus the payload. */
  schema: z.ZodType<JobMessage<K, P>>;
  accept(body: unknown): Accepted;
  /** The message a cron tick enqueues, for scheduled jobs. */
  scheduled?(occurrence: string): JobMessage<K, P>;
}

/** Turns a feature's spec into what the registry, the runner and cron use. */
export function defineJob<K extends string, P extends z.ZodObject>(spec: JobSpec<K, P>): JobDefinition<K, P> {
  const schema = spec.payload.extend({ kind: z.literal(spec.kind) }) as unknown as z.ZodType<JobMessage<K, P>>;
  const { scheduled } = spec;
  return {
    kind: spec.kind,
    queue: spec.queue,
    schema,
    accept(body) {
      const parsed = schema.safeParse(body);
      if (!parsed.success) return { ok: false, fields: [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(root)"))] };
      const message = parsed.data;
      return { ok: true, runKey: spec.runKey(message), run: (deps) => spec.handle(message, deps) };
    },
    ...(scheduled ? { scheduled: (occurrence: string) => ({ ...scheduled(occurrence), kind: spec.kind }) } : {}),
  };
}
