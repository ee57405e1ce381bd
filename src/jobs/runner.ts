import { and, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { firstRow } from "#src/db/rows.ts";
import { jobRuns } from "#src/db/schema/index.ts";
import type { JobDeps } from "#src/jobs/job.ts";
import { type Job, type JobRegistry, jobs } from "#src/jobs/registry.ts";

export type { JobDeps } from "#src/jobs/job.ts";

/**
 * A claim whose handler has not finished after this long belongs to a delivery that died (a
 * consumer invocation lasts at most 15 minutes); the next delivery takes it over.
 */
export const CLAIM_LEASE_SECONDS = 15 * 60;

/** The message names no job, or fails its job's schema: retrying cannot help. */
export class MalformedJob extends Error {
  readonly kind: string | null;
  readonly fields: string[];
  constructor(kind: string | null, fields: string[]) {
    super(kind === null ? "unknown job kind" : `malformed ${kind} job`);
    this.name = "MalformedJob";
    this.kind = kind;
    this.fields = fields;
  }
}

/** Another delivery of the same run holds the claim and is still working on it. */
export class RunInProgress extends Error {
  readonly kind: string;
  constructor(kind: string) {
    super(`a ${kind} run with this key is in progress`);
    this.name = "RunInProgress";
    this.kind = kind;
  }
}

/** The work failed for now and its provider said when to try again (Retry-After): the retry waits at least that. */
export class RetryLater extends Error {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, message = "retry later") {
    super(message);
    this.name = "RetryLater";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export type RunOutcome = "done" | "duplicate";

const kindOf = (body: unknown): string | null =>
  typeof body === "object" && body !== null && "kind" in body && typeof body.kind === "string" ? body.kind : null;

const ClaimRow = z.object({ claimed: z.boolean(), finished: z.boolean(), started_at: z.string().nullable() });

/**
 * Claims `kind + runKey` in job_runs, or finds who holds it, in one statement: a fresh claim, or
 * the takeover of an abandoned one, returns `claimed`; otherwise the holder's `finished`.
 */
async function claim(deps: JobDeps, kind: string, runKey: string): Promise<{ claimed: boolean; finished: boolean; startedAt: string | null }> {
  const result = await deps.db.execute(sql`
    with claimed as (
      insert into job_runs as run (kind, occurrence) values (${kind}, ${runKey})
      on conflict (kind, occurrence) do update set started_at = now()
        where run.finished_at is null and run.started_at < now() - ${sql.raw(`interval '${CLAIM_LEASE_SECONDS} seconds'`)}
      returning run.started_at
    )
    select true as claimed, false as finished, started_at::text from claimed
    union all
    select false, finished_at is not null, null from job_runs
    where kind = ${kind} and occurrence = ${runKey} and not exists (select 1 from claimed)`);
  const row = firstRow(ClaimRow, result);
  return { claimed: row?.claimed === true, finished: row?.finished === true, startedAt: row?.started_at ?? null };
}

/**
 * Runs the job a message asks for, once per run key: the run is claimed in SQL before the
 * handler starts and marked finished after it, so a redelivery of a finished run does nothing, a
 * concurrent one waits (RunInProgress), and a failed one frees its claim for the retry. Throws
 * MalformedJob for a message no retry can fix, anything else to ask for a retry.
 */
export async function runMessage(body: unknown, deps: JobDeps, registry: JobRegistry = jobs): Promise<RunOutcome> {
  const kind = kindOf(body);
  const definition = kind === null ? undefined : registry.get(kind);
  if (!definition) throw new MalformedJob(null, ["kind"]);
  const accepted = definition.accept(body);
  if (!accepted.ok) throw new MalformedJob(definition.kind, accepted.fields);

  const held = await claim(deps, definition.kind, accepted.runKey);
  if (!held.claimed) {
    if (held.finished) return "duplicate";
    throw new RunInProgress(definition.kind);
  }
  const ours = and(eq(jobRuns.kind, definition.kind), eq(jobRuns.occurrence, accepted.runKey), isNull(jobRuns.finishedAt));
  try {
    await accepted.run(deps);
  } catch (error) {
    await deps.db
      .delete(jobRuns)
      .where(and(ours, sql`${jobRuns.startedAt} = ${held.startedAt}::timestamptz`))
      .catch(() => deps.logger.log("warn", "could not release a job claim; it frees itself after its lease", { kind: definition.kind }));
    throw error;
  }
  await deps.db.update(jobRuns).set({ finishedAt: sql`now()` }).where(ours);
  return "done";
}

/** Runs one job (the Deno entry's in-process queue): the same claim-once path as the consumer. */
export async function runJob(job: Job, deps: JobDeps): Promise<void> {
  const outcome = await runMessage(job, deps);
  deps.logger.log("info", "job done", { kind: job.kind, duplicate: outcome === "duplicate" });
}
