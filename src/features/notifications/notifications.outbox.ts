import { sql } from "drizzle-orm";
import { z } from "zod";
import { rowsOf } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { exactOf } from "#src/db/sql-time.ts";
import type { DeliveredEvent } from "#src/features/events/events.consumers.ts";
import type { Job, JobDeps } from "#src/jobs/job.ts";
import { enqueueAll } from "#src/platform/ports.ts";

/** A notification row just written: enough to enqueue its delivery or announce it. */
export const OutboxRow = z.object({
  id: z.string(),
  organization_id: z.string(),
  user_id: z.string(),
  channel: z.string(),
  kind: z.string(),
  title: z.string(),
  status: z.string(),
  round: z.string(),
});
export type OutboxRow = z.infer<typeof OutboxRow>;

/** The columns OutboxRow reads, for a `returning` or a `select`, of the row named `alias`. */
export const outboxColumns = (alias: string) =>
  sql`${sql.raw(`${alias}.id, ${alias}.organization_id, ${alias}.user_id, ${alias}.channel, ${alias}.kind, ${alias}.title, ${alias}.status`)}, ${exactOf(`${alias}.not_before`)} as round`;

/** The rows an event produced (dedupe keys start with its id), found through the subject index. */
export async function eventRows(deps: Pick<JobDeps, "db">, event: DeliveredEvent): Promise<OutboxRow[]> {
  const scope = scoped(deps.db, event.organizationId);
  const result = await scope.db.execute(sql`
    select ${outboxColumns("n")} from notifications n
    where organization_id = ${event.organizationId}::uuid and subject_id = ${event.subjectId}::uuid and dedupe_key like ${`${event.id}:%`}`);
  return rowsOf(OutboxRow, result);
}

/**
 * Enqueues each pending external row's delivery (the run key is the row and its not_before, so a
 * deferred row's next run is a new run), and tells each in-app row's recipient on their sockets.
 * Idempotent: a second delivery of a row finds it claimed or sent and does nothing; a repeated
 * announcement carries the same notification id.
 */
export async function announce(deps: Pick<JobDeps, "jobs" | "realtime">, rows: readonly OutboxRow[]): Promise<void> {
  const told = rows.filter((row) => row.channel === "in_app");
  const deliveries: Job[] = rows
    .filter((row) => row.channel !== "in_app" && row.status === "pending")
    .map((row) => ({ kind: "notifications.deliver", organizationId: row.organization_id, notificationId: row.id, round: row.round }));
  await Promise.all([
    ...told.map((row) => deps.realtime.publish([row.user_id], { type: "notification.created", organizationId: row.organization_id, data: { id: row.id, kind: row.kind, title: row.title } })),
    // One batch send per queue, not a send per row.
    enqueueAll(deps.jobs, deliveries),
  ]);
}
